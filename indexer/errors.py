"""citeqa's errors: one base, ``CiteqaError``, and a group for each kind of fault, so that each edge maps
them once, by group: the HTTP app to a status code (``service/api/errors.py``), the ``citeqa`` command to
an exit code (``service/cli/errors.py``). docs/errors.md lists every class with both.

In ``indexer``, which imports nothing of ``service`` or ``eval``, since all three raise them. An error that
one module raises is defined there as a subclass of its group here (``IndexUnavailable`` in
``indexer/index_files.py``); one raised by several modules is defined here. Every message is the user's:
one line saying what is wrong and, where there is one, what to do. A class that replaced a ``ValueError``
or ``RuntimeError`` is one still, for callers that catch those.
"""

from __future__ import annotations


class CiteqaError(Exception):
    """Anything citeqa tells its user went wrong, as opposed to a bug; the message says what."""


class IndexFault(CiteqaError):
    """The index: one that cannot be read or reloaded, or a build that cannot be made."""


class ConfigurationError(CiteqaError, ValueError):
    """A setting or a command's option that cannot be used: a bad value, an address that is taken, an extra
    that is not installed."""


class InputError(CiteqaError, ValueError):
    """Input that cannot be read as given: a question or a field of a request, a corpus folder or document,
    a metadata sidecar, a gold file. A ``ValueError`` too, which pydantic's validators must raise."""


class ModelError(CiteqaError):
    """The embedding model or the language model could not be loaded or did not answer."""


class ModelUnavailable(ModelError, ValueError):
    """The embedding model cannot be loaded: no such folder, not in the Hugging Face cache, or broken."""


class ServerError(CiteqaError, RuntimeError):
    """A citeqa server that was to answer did not: it cannot be reached, did not start, or answered an error."""
