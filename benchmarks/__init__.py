"""Performance benchmarks of the ``manifest`` command (``python -m benchmarks.run``; see README.md)."""
