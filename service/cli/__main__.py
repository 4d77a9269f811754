"""``python -m service.cli``: the ``citeqa`` command, as the tests and benchmarks start it."""

from __future__ import annotations

import sys

from service.cli import main

sys.exit(main())
