"""A story file of any supported format read into one `Document`: EPUB books by `epub.py`,
text, Markdown and HTML by `readers.py`. What importing and loading a story go through."""

from __future__ import annotations

from bot.story.epub import read_epub
from bot.story.readers import Document, read_document

_ZIP = b"PK\x03\x04"


def is_epub(data: bytes, name: str = "", fmt: str | None = None) -> bool:
    if fmt:
        return fmt.lower().lstrip(".") == "epub"
    return name.lower().endswith(".epub") or (data[:4] == _ZIP and b"application/epub+zip" in data[:100])


def to_document(data: bytes | str, *, fmt: str | None = None, name: str = "") -> Document:
    """`read_document` for every format, EPUB included (`fmt` "txt", "md", "html" or "epub",
    else guessed from `name` and the bytes). Raises `StoryImportError` with file, what, what to do."""
    if isinstance(data, bytes | bytearray) and is_epub(bytes(data[:100]), name, fmt):
        return read_epub(bytes(data), name)
    return read_document(data, fmt=fmt, name=name)
