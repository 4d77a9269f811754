"""Where an index lives, and how a new build replaces the old one without a moment of half-written state.

``index_dir`` is a symbolic link to a complete build in ``.<name>.builds/``. A build is written in a
fresh folder there and published by replacing the link in one rename, so readers see either the old
index or the new one; a build killed half-way leaves only a stray folder that the next build removes.
Publishing replaces whatever ``index_dir`` was, so a build refuses to start when it holds anything but
an index.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.errors import IndexFault
from indexer.index_files import INDEX_ENTRIES, MANIFEST

# Names of the unexpected files shown when an index folder is refused.
_SHOWN_ENTRIES = 3


class IndexLocked(IndexFault):
    """Another build of the same index is running."""


class NotAnIndexFolder(IndexFault, ValueError):
    """``index_dir`` holds something other than an index, which publishing a build would replace."""


class IndexLocation:
    """An index folder's link, the folder of its builds and its lock file: where builds are written and how one replaces
    another."""

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(os.path.abspath(index_dir))
        self.builds = self.path.parent / f".{self.path.name}.builds"
        self._lock_path = self.path.parent / f".{self.path.name}.lock"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the lock on this index for the length of a build (its parent folder made first); ``IndexLocked`` at once
        when another build holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexLocked(f"another `citeqa index` is building {self.path}; wait for it to finish") from None
            yield

    def forget(self, parent_too: bool) -> None:
        """Remove the lock file and the builds folder of a run that published nothing, where no index
        is, so a failed first build leaves nothing behind (and the folder it made, ``parent_too``)."""
        if self.path.exists() or self.path.is_symlink():
            return
        self._lock_path.unlink(missing_ok=True)
        for folder in (self.builds, *([self.path.parent] if parent_too else [])):
            try:
                folder.rmdir()
            except OSError:  # not there, or not empty: someone else's
                pass

    def check_replaceable(self) -> None:
        """Refuse an ``index_dir`` that is a file or a folder of anything but an index (a corpus given
        twice, a typo): publishing a build would delete it."""
        if self.path.is_symlink() or not self.path.exists():
            return  # a link is replaced, never what it points at
        if not self.path.is_dir():
            raise NotAnIndexFolder(f"the index folder {self.path} is a file; give a new or empty folder")
        entries = {entry.name for entry in self.path.iterdir()}
        others = sorted(entries - INDEX_ENTRIES)
        if entries and MANIFEST not in entries and not others:
            others = sorted(entries)  # parts of an index without its manifest: not an index either
        if others:
            shown = ", ".join(others[:_SHOWN_ENTRIES]) + (", ..." if len(others) > _SHOWN_ENTRIES else "")
            raise NotAnIndexFolder(
                f"the index folder {self.path} holds files that are not an index ({shown}), and building would "
                "replace them; give a new or empty folder"
            )

    def new_build(self) -> Path:
        """A new empty folder among the builds, to write a build into before ``publish``."""
        self.builds.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="build-", dir=self.builds))

    def publish(self, build: Path) -> None:
        """Point ``index_dir`` at ``build`` in one rename, then remove every other build."""
        if self.path.is_dir() and not self.path.is_symlink():
            # An index written elsewhere and copied in as a plain folder: adopt it as a build.
            self.path.rename(self.builds / f"adopted-{os.getpid()}")
        link = self.path.parent / f".{self.path.name}.link-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(build, self.path.parent))
        os.replace(link, self.path)
        self.remove_stale_builds()

    def remove_stale_builds(self) -> None:
        """Delete builds the link does not point at (left by earlier or killed runs); call under the lock."""
        current = self.path.resolve() if self.path.exists() else None
        if not self.builds.is_dir():
            return
        for build in self.builds.iterdir():
            if build.resolve() != current:
                shutil.rmtree(build, ignore_errors=True)
