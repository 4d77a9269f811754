"""The error hierarchy as docs/errors.md lists it: every class there, each under its group."""

from __future__ import annotations

import importlib
import re

import pytest

from indexer.errors import CiteqaError, IndexFault, InputError, ModelError, ServerError
from tests.support import ROOT

# Every module that defines a CiteqaError, so that all of them are subclasses by the time they are listed.
DEFINING = [
    "eval.datasets",
    "indexer.encoder",
    "indexer.model_process",
    "indexer.index_files",
    "indexer.loaders",
    "indexer.location",
    "indexer.metadata",
    "service.answering.llm",
    "service.answering.qa",
    "service.api.reload",
    "service.local_server",
]


def every_error() -> list[type[CiteqaError]]:
    for module in DEFINING:
        importlib.import_module(module)
    found, waiting = [], [CiteqaError]
    while waiting:
        kind = waiting.pop()
        found.append(kind)
        waiting += kind.__subclasses__()
    return found


def test_docs_list_every_error() -> None:
    listed = set(re.findall(r"`(\w+)`", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")))
    assert {kind.__name__ for kind in every_error()} <= listed


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("IndexUnavailable", IndexFault),
        ("IndexDamaged", IndexFault),
        ("IndexIncompatible", IndexFault),
        ("IndexLocked", IndexFault),
        ("NotAnIndexFolder", IndexFault),
        ("IndexNotReloaded", IndexFault),
        ("UnreadableDocument", InputError),
        ("MetadataError", InputError),
        ("GoldFormatError", InputError),
        ("ModelUnavailable", ModelError),
        ("ModelProcessError", ModelError),
        ("LLMUnavailable", ModelError),
        ("ServerFailed", ServerError),
    ],
)
def test_each_error_is_in_its_group(name: str, group: type[CiteqaError]) -> None:
    (kind,) = [kind for kind in every_error() if kind.__name__ == name]
    assert issubclass(kind, group)

