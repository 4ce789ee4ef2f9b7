"""Reading the files a story folder names, treating the folder as a trust boundary.

A story folder may come from anyone (a download, a shared archive). Every path it names —
`card`, `source`, `script` — must resolve (symlinks included) to a regular file inside the
folder, and is read with a size cap, so a folder can neither show another file's contents
(`card = "../../secret.json"`), nor hang or exhaust the bot (`card = "/dev/zero"`, a 50 MB
script).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MB = 1024 * 1024
MAX_CARD_BYTES = 8 * MB  # PNG cards carry an image
MAX_TOML_BYTES = 1 * MB
MAX_TEXT_BYTES = 10 * MB  # a source or a script: longer than War and Peace (3.2 MB as text)
MAX_WARNINGS_PER_FOLDER = 50  # shown at start-up and by `check`; the rest are counted


class StoryPathError(Exception):
    """str(e) is `path: what is wrong; what to do`."""


def inside(folder: Path, path: Path, *, what: str) -> Path:
    """`path` resolved (symlinks followed); refused unless it stays inside `folder`."""
    base = folder.resolve()
    target = path.resolve()
    if target != base and not target.is_relative_to(base):
        raise StoryPathError(f"{path}: the {what} points outside the story folder ({target}); "
                             "keep every file a story uses inside its folder")
    return target


def read_capped(path: Path, limit: int, *, what: str) -> bytes:
    """A regular file's bytes, refused when larger than `limit` (devices, FIFOs refused too)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then tells what it is.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoryPathError(f"{path}: the {what} is not a regular file; point it at a file in the "
                                 "story folder")
        if st.st_size > limit:
            raise StoryPathError(f"{path}: the {what} is {st.st_size / MB:.1f} MB, over the "
                                 f"{limit // MB} MB a story may use; split the story or trim the file")
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while we read it
        raise StoryPathError(f"{path}: the {what} is over the {limit // MB} MB a story may use; "
                             "split the story or trim the file")
    return data


def read_story_file(folder: Path, path: Path, limit: int, *, what: str) -> bytes:
    """A file a story folder names: inside the folder, a regular file, at most `limit` bytes."""
    return read_capped(inside(folder, path, what=what), limit, what=what)


def capped(messages: list[str] | tuple[str, ...], where: Path | str,
           limit: int = MAX_WARNINGS_PER_FOLDER) -> list[str]:
    """At most `limit` messages about one folder, then one line counting the rest."""
    if len(messages) <= limit:
        return list(messages)
    return [*messages[:limit], f"{where}: … and {len(messages) - limit} more like these "
                               f"(`narrator check {Path(where).name}` lists them all)"]
