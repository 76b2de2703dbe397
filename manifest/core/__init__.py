"""Layer 1, the vocabulary: problems and their codes, reals, pointers, URIs, names, parameter
text forms, timestamps, command templates, digests, and the schema files of each spec version.

It reads no user input and imports nothing else of this package.
"""
