"""Layer 3, what "valid" means: schema validation (two engines, one set of messages), the pydantic
models, the cross-field rules by topic, history sidecars, and validation of a document.

It imports :mod:`manifest.document` and :mod:`manifest.core`, nothing above.
"""
