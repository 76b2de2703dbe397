"""``python -m manifest.cli``: the same as the ``manifest`` command."""

from . import main

main()
