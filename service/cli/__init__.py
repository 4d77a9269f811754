"""The ``citeqa`` command: index a corpus, serve it, ask it questions, score the answers.

``parser.py`` holds the commands and their options and ``options.py`` what they mean; each group of commands
has its module (``index.py``, ``serve.py`` for serve and mcp, ``ask.py``, ``evaluate.py`` for eval and
convert); ``errors.py`` is the one place a failure becomes a message and an exit code.
"""

from __future__ import annotations

from collections.abc import Sequence

from indexer.encoder import stay_offline
from service.cli.errors import reported
from service.cli.options import settings_for
from service.cli.parser import parse


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``citeqa`` command given ``argv`` (the process's arguments when None), and return its exit code."""
    stay_offline()
    args = parse(argv)
    return reported(lambda: args.run(settings_for(args), args))
