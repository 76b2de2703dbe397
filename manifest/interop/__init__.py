"""Layer 3, the publishing ecosystem's formats: a manifest (or a bundle of them) as an RO-Crate,
an in-toto Statement with SLSA Provenance, a CycloneDX ML-BOM and a CITATION.cff.

Each module is a pure function from manifests to that format's document; nothing here reads a
tracking store or writes a file. It imports :mod:`manifest.spec`, :mod:`manifest.document` and
:mod:`manifest.core`.
"""
