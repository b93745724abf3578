"""The domain tagger and its measurement: text features, the ridge tagger and its decision
layer, stratified folds, cross-validation and coder agreement."""
