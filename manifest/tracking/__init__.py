"""Layer 6, everything that talks to MLflow, and the only layer that imports it: the store and its
errors, capture at training time, histories, export, import, and reproduce.

Named after the domain, as mlflow-export-import's tree is: :mod:`.exporting` and
:mod:`.importing` hold one module per part of a run.
"""
