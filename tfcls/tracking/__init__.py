"""Experiment tracking beyond the run directory (config section ``tracking``).

- :mod:`tfcls.tracking.hparams`: the tuner's trials in TensorBoard's HParams tab
  (``tracking.hparams``, when ``train.tensorboard`` is on);
- :mod:`tfcls.tracking.mlflow`: a finished run logged to MLflow (``tracking.mlflow``,
  the ``tfcls[mlflow]`` extra).

Both read what a run directory already holds (``tuner_summary.json``, ``config.yaml``,
``metrics.json``), so either can also be run on an old run after the fact.
"""
