"""Layer 3 (beside :mod:`manifest.spec`), facts about this host: git, run one way, and the system
(Python, platform, packages, hardware). It imports only :mod:`manifest.core`.
"""
