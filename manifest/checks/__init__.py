"""Layer 5, checks people run on manifests: discovery and batch validation, the reports of it,
verify (against this machine), and diff (two manifests side by side). No MLflow here.
"""
