"""What a command checks before it loads the model (seconds): a wrong path or a taken port is told at once."""

from __future__ import annotations

import socket

from indexer.errors import ConfigurationError
from service.config import Settings


def check_index(settings: Settings) -> None:
    """Refuse a missing or unreadable index (``IndexUnavailable``)."""
    from indexer.index_files import read_manifest

    read_manifest(settings.index_dir.resolve(), settings.index_dir)


def check_address(host: str, port: int) -> None:
    """Refuse an address that cannot be listened on (taken, or not this machine's) in one line, rather than
    in the server's log after the model loaded."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            probe.bind(address)
    except OSError as error:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
