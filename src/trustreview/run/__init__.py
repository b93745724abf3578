"""Running the review: notebooks via papermill, the output folder and its manifest."""
