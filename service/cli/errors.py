"""The one place a failure of the ``citeqa`` command becomes a message on stderr and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable

from indexer.errors import CiteqaError


def reported(run: Callable[[], int]) -> int:
    """The exit code of ``run``, or of what it raised, told on stderr in one line. 2 for a ``CiteqaError``
    and for an ``OSError`` (a path that is a folder where a file was meant, or one not writable); 0 when the
    output was piped into a command that stopped reading (``head``). Anything else is a bug, and raised."""
    try:
        return int(run())
    except CiteqaError as error:
        print(f"citeqa: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"citeqa: {_os_error(error)}", file=sys.stderr)
        return 2


def _os_error(error: OSError) -> str:
    """``path: reason`` (both paths of a rename) rather than ``[Errno 21] ...``; a message of its own as it is."""
    if not error.filename:
        return str(error)
    paths = " -> ".join(str(path) for path in (error.filename, error.filename2) if path)
    return f"{paths}: {error.strerror}"
