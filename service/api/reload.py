"""Hot reload of the index: ``POST /admin/reload`` (with the admin key) and SIGHUP to `citeqa serve`,
reaching every worker when there are several (service/serving.py).

Both load the index on disk aside and swap it in (``QuestionAnswering.reload``); requests running
meanwhile finish on the old index, and an index that cannot be loaded leaves the old one serving.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import suppress

from indexer.errors import CiteqaError, IndexFault
from service.answering.qa import QuestionAnswering
from service.answering.search_index import SearchIndex

logger = logging.getLogger("citeqa")


class IndexNotReloaded(IndexFault):
    """The index on disk could not be loaded, so the previous one keeps serving; the message says why."""


def reload_logged(qa: QuestionAnswering, trigger: str) -> SearchIndex:
    """The index now served, or ``IndexNotReloaded`` (logged) when the one on disk is refused."""
    try:
        index = qa.reload()
    except CiteqaError as error:
        logger.error("index reload (%s) failed, the previous index keeps serving: %s", trigger, error)
        raise IndexNotReloaded(f"the index was not reloaded: {error}") from error
    logger.info("index reloaded (%s): %d documents, %d chunks", trigger, len(index.data.documents), index.size)
    return index


def reload_other_workers(supervisor: int | None) -> None:
    """SIGHUP to the ``supervisor`` of several workers, which forwards it to all but this one; nothing when
    this process serves alone, or its supervisor is gone (the process id may be another's by now)."""
    if supervisor is not None and os.getppid() == supervisor:
        os.kill(supervisor, signal.SIGHUP)


def reload_on_sighup(qa: QuestionAnswering) -> None:
    """SIGHUP reloads in a thread of its own, so the server keeps answering while the index loads."""

    def reload() -> None:
        """Reload the index; a failure is left to the log."""
        with suppress(IndexNotReloaded):  # logged, and no one to tell beyond the log
            reload_logged(qa, "SIGHUP")

    def handle(signum: int, frame: object) -> None:
        """The SIGHUP handler: start the reload in a thread of its own and return at once."""
        threading.Thread(target=reload, name="citeqa-reload", daemon=True).start()

    signal.signal(signal.SIGHUP, handle)
