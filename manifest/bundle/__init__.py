"""Layer 4, paper bundles: their layout, writing (tables, plots, README, checksums) and checking.

It imports :mod:`manifest.document` and :mod:`manifest.core`.
"""
