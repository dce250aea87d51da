"""tfcls: train short-text classifiers with TensorFlow/Keras and run them in the browser.

The stages live in modules named for them: ``tfcls.encoders`` (sentence encoders in TF
Hub format and the embedding cache), ``tfcls.config`` (the configuration tree),
``tfcls.bench`` (benchmarks).
"""

__version__ = "0.1.0"
