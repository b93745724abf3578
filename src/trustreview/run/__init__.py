"""Running the review: the three stages (``pipeline``) and their settings (``params``),
the notebooks via papermill (``runner``), the output folder and its manifest
(``outputs``), ``trustreview run`` (``review``). It may import every part below it
(``synthesis``, ``screening``, ``model``, ``corpus``, ``io``, ``base``); only the command
line imports it."""
