"""The models and their measurement: the relevance model that orders screening, the
domain tagger (text features, the ridge tagger and its decision layer), stratified folds,
cross-validation and coder agreement. It may import ``corpus`` (the validated corpus it
learns from), ``io``, ``base``, the schema and the errors; never the run or the synthesis."""
