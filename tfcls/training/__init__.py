"""Training: from embeddings and labels to a run directory.

``pipeline`` is the whole default procedure (:func:`tfcls.train`); ``steps`` its
contrastive → embed → fit → predict steps, which the public benchmarks run too; ``crossfit`` the
k-fold cross-fitting that every caller shares (the command, cross-validation, the public
benchmarks, retraining); ``tuning`` the KerasTuner search; ``model`` the head and full
model; ``head_fit`` fitting a head; ``adapt`` encoder adaptation; ``contrastive``
SetFit-style contrastive tuning; ``runs`` the run directory.
"""
