"""Layer 2, text and data: safe reading of YAML 1.2 and JSON with positions, reader limits,
deterministic writing, the canonical form and digest, comment-keeping edits, environment files.

It knows syntax, not validity: it imports only :mod:`manifest.core`.
"""
