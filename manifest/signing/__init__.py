"""Layer 3, signatures: ed25519 key pairs and DSSE envelopes over a bundle's statements and index.

Nothing here knows a bundle's layout; :mod:`manifest.bundle` decides what is signed. It imports
:mod:`manifest.document` and :mod:`manifest.core`, and ``cryptography`` when a key is used.
"""
