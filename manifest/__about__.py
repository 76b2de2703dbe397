"""Version of the experiment-manifest tool (not of the spec)."""

__version__ = "0.1.0"
