"""Forms the formats share: an ORCID iD as a URL, an SPDX licence id. A value that does not have
the form is left out of a document rather than written where a validator would refuse it."""

from __future__ import annotations

import re

ORCID = re.compile(r"https://orcid\.org/[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]")
SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
