"""Helpers shared by the tests (import as ``support``; never ``from conftest import``)."""
