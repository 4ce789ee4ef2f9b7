"""EPUB e-books (what AO3 and FanFicFare hand out) read with the standard library only.

An EPUB is a zip: META-INF/container.xml names the OPF package, whose spine orders the XHTML
chapters. Each chapter goes through the HTML reader (so scripts, styles and site chrome are
dropped exactly as for an HTML download) and the chapters are joined into one `Document`:
a chapter's title (its own heading, else the table of contents' label) becomes a heading, so a
scene title; preface, afterword and title pages become notes; the cover and the table of
contents are skipped. The archive is checked before anything is inflated: entry count, total
uncompressed size, and names that are absolute, climb out with `..` or nest folders absurdly deep
are refused; only the files the package lists are ever read (never an archive inside the book).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree import ElementTree

from bot.story.readers import Document, StoryImportError, read_document

MAX_ENTRIES = 2_000  # AO3's longest works have a few hundred chapters
MAX_UNCOMPRESSED = 50_000_000  # all entries together, as the archive declares and as inflated
_CONTAINER = "META-INF/container.xml"
_XHTML_TYPES = ("application/xhtml+xml", "text/html", "application/xml")
# A spine item that is the book's front or back matter, not a chapter: kept, as a note.
_MATTER = re.compile(r"(?:^|[\W_])(?:preface|afterword|title[\W_]?page|titlepage|front[\W_]?matter|"
                     r"information|acknowledge?ments?|dedication|colophon|copyright|about|"
                     r"author'?s?[\W_]?notes?|end[\W_]?notes|notes|summary|log[\W_]?page)(?:$|[\W_])", re.I)
# Front or back matter is short; a long page named so (a one-file book whose TOC entry says
# "Preface") is story text, whose notes the HTML reader still finds by their markup.
MATTER_MAX_CHARS = 5_000
# Pages that hold no story words worth keeping: the cover image and the table of contents.
_SKIP = re.compile(r"(?:^|[\W_])(?:cover|toc|contents|table[\W_]?of[\W_]?contents|nav)(?:$|[\W_])", re.I)


def _fail(name: str, what: str) -> StoryImportError:
    return StoryImportError(f"{name or '<input>'}: {what}")


@dataclass(frozen=True)
class _Item:
    href: str  # path inside the zip
    media_type: str
    properties: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


MAX_DEPTH = 12  # folders inside folders: e-book tools use two or three


def _safe_name(entry: str) -> bool:
    if entry.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", entry) or "\\" in entry or "\x00" in entry:
        return False
    parts = entry.split("/")
    return ".." not in parts and len(parts) <= MAX_DEPTH


class _Book:
    """The archive, checked once; members are read with a hard cap on inflated bytes."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
            raise _fail(name, "this is not a readable EPUB (the zip is damaged); download it again, or "
                        "download the story as HTML and import that") from None
        if len(infos) > MAX_ENTRIES:
            raise _fail(name, f"the EPUB holds {len(infos)} files, more than the {MAX_ENTRIES} an e-book "
                        "needs; download it again or import the story as HTML")
        bad = [i.filename for i in infos if not _safe_name(i.filename)]
        if bad:
            raise _fail(name, f"the EPUB holds a file with an unsafe path ({bad[0][:80]!r}); it was not "
                        "made by an e-book tool, import the story as HTML instead")
        declared = sum(i.file_size for i in infos)
        if declared > MAX_UNCOMPRESSED:
            raise _fail(name, f"the EPUB unpacks to {declared // 1_000_000} MB, more than the "
                        f"{MAX_UNCOMPRESSED // 1_000_000} MB a story may have; split the story or import it as HTML")
        self.names = {i.filename for i in infos}
        self.budget = MAX_UNCOMPRESSED  # actual inflated bytes still allowed (headers can lie)

    def read(self, entry: str) -> bytes:
        if entry not in self.names:
            raise _fail(self.name, f"the EPUB lists {entry!r} but does not contain it; download it again")
        try:
            with self.zf.open(entry) as fh:
                out = fh.read(self.budget + 1)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError):
            raise _fail(self.name, f"{entry!r} in the EPUB cannot be unpacked (damaged or encrypted); "
                        "download it again, or import the story as HTML") from None
        if len(out) > self.budget:
            raise _fail(self.name, f"the EPUB unpacks to more than {MAX_UNCOMPRESSED // 1_000_000} MB; "
                        "split the story or import it as HTML")
        self.budget -= len(out)
        return out

    def xml(self, entry: str) -> ElementTree.Element:
        raw = self.read(entry)
        if b"<!ENTITY" in raw:  # no entity expansion games in package files
            raise _fail(self.name, f"{entry!r} in the EPUB declares XML entities; import the story as HTML")
        try:
            return ElementTree.fromstring(raw)
        except ElementTree.ParseError as exc:
            raise _fail(self.name, f"{entry!r} in the EPUB is not well-formed XML ({exc}); download it "
                        "again, or import the story as HTML") from None


def _resolve(base_dir: str, href: str) -> str:
    path = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(base_dir, path)) if base_dir else posixpath.normpath(path)


def _toc_labels(book: _Book, opf_dir: str, manifest: dict[str, _Item], toc_id: str | None) -> dict[str, str]:
    """href -> the table of contents' label for it (EPUB 3 nav document, else EPUB 2 NCX)."""
    labels: dict[str, str] = {}
    nav = next((i for i in manifest.values() if "nav" in i.properties.split()), None)
    if nav is not None:
        try:
            root = book.xml(nav.href)
        except StoryImportError:
            root = None
        if root is not None:
            nav_dir = posixpath.dirname(nav.href)
            for el in root.iter():
                if _local(el.tag) == "a" and el.get("href"):
                    text = " ".join("".join(el.itertext()).split())
                    if text:
                        labels.setdefault(_resolve(nav_dir, el.get("href", "")), text)
    ncx = manifest.get(toc_id or "") or next(
        (i for i in manifest.values() if i.media_type == "application/x-dtbncx+xml"), None)
    if ncx is not None and not labels:
        try:
            root = book.xml(ncx.href)
        except StoryImportError:
            return labels
        ncx_dir = posixpath.dirname(ncx.href)
        for point in root.iter():
            if _local(point.tag) != "navPoint":
                continue
            label = src = ""
            for child in point:
                if _local(child.tag) == "navLabel":
                    label = " ".join("".join(child.itertext()).split())
                elif _local(child.tag) == "content":
                    src = child.get("src", "")
            if label and src:
                labels.setdefault(_resolve(ncx_dir, src), label)
    return labels


def _shift(spans: tuple[tuple[int, int], ...], by: int) -> list[tuple[int, int]]:
    return [(a + by, b + by) for a, b in spans]


def read_epub(data: bytes, name: str = "") -> Document:
    """The story in an EPUB as one Document (see the module docstring)."""
    book = _Book(data, name)
    container = book.xml(_CONTAINER) if _CONTAINER in book.names else None
    opf_path = ""
    if container is not None:
        for el in container.iter():
            if _local(el.tag) == "rootfile" and el.get("full-path"):
                opf_path = posixpath.normpath(el.get("full-path", ""))
                break
    if not opf_path:
        opfs = sorted(n for n in book.names if n.lower().endswith(".opf"))
        if not opfs:
            raise _fail(name, "this zip is not an EPUB (no META-INF/container.xml and no .opf package); "
                        "download the story as EPUB or HTML again")
        opf_path = opfs[0]
    opf = book.xml(opf_path)
    opf_dir = posixpath.dirname(opf_path)
    manifest: dict[str, _Item] = {}
    spine: list[tuple[str, bool]] = []  # (idref, linear)
    toc_id: str | None = None
    meta: dict[str, str] = {}
    for el in opf.iter():
        tag = _local(el.tag)
        if tag == "item" and el.get("id") and el.get("href"):
            manifest[el.get("id", "")] = _Item(_resolve(opf_dir, el.get("href", "")),
                                               (el.get("media-type") or "").lower(), el.get("properties") or "")
        elif tag == "spine":
            toc_id = el.get("toc")
        elif tag == "itemref" and el.get("idref"):
            spine.append((el.get("idref", ""), (el.get("linear") or "yes").lower() != "no"))
        elif tag in ("title", "creator") and (el.text or "").strip():
            meta.setdefault(tag, " ".join((el.text or "").split()))
    if not spine:
        raise _fail(name, "the EPUB's package lists no chapters (empty spine); download it again or "
                    "import the story as HTML")
    labels = _toc_labels(book, opf_dir, manifest, toc_id)

    text_parts: list[str] = []
    pos = 0
    italics: list[tuple[int, int]] = []
    breaks: list[int] = []
    headings: list[tuple[int, int]] = []
    notes: list[tuple[int, int]] = []
    warnings: list[str] = []
    first_title = ""
    for idref, linear in spine:
        item = manifest.get(idref)
        if item is None or item.media_type not in _XHTML_TYPES or "nav" in item.properties.split():
            continue
        base = posixpath.basename(item.href).rsplit(".", 1)[0]
        label = labels.get(item.href, "")
        if _SKIP.search(base) or (label and _SKIP.fullmatch(label.strip())):
            continue
        if item.href not in book.names:
            warnings.append(f"{name}: the book lists {item.href!r} but does not contain it; that part was skipped")
            continue
        raw = book.read(item.href)  # a damaged entry or too much inflated data stops the import
        try:
            doc = read_document(raw, fmt="html", name=f"{name}:{item.href}")
        except StoryImportError:
            continue  # an image-only or empty page: nothing to read
        first_title = first_title or doc.title
        named = bool(_MATTER.search(base)) or bool(label and _MATTER.fullmatch(label.strip()))
        matter = not linear or (named and len(doc.text) <= MATTER_MAX_CHARS)
        body = doc.text
        shift = 0
        chapter_heads = list(doc.headings)
        starts_with_heading = bool(chapter_heads) and not body[:chapter_heads[0][0]].strip()
        if not matter and not starts_with_heading and label:
            title = " ".join(label.split())
            body = f"{title}\n\n{body}"
            shift = len(title) + 2
            chapter_heads.insert(0, (-shift, len(title) - shift))
        if text_parts:
            text_parts.append("\n\n")
            pos += 2
        start = pos
        text_parts.append(body)
        italics += _shift(doc.italics, start + shift)
        breaks += [b + start + shift for b in doc.breaks]
        if matter:
            notes.append((start, start + len(body)))
        else:
            headings += _shift(tuple(chapter_heads), start + shift)
            notes += _shift(doc.notes, start + shift)
            if not chapter_heads and start > 0:
                breaks.append(start)  # an untitled chapter still starts a new scene
        warnings += doc.warnings
        pos += len(body)
    text = "".join(text_parts)
    if not text.strip():
        raise _fail(name, "the EPUB holds no chapter text (only images or empty pages); download the "
                    "story as HTML and import that")
    return Document(text=text, fmt="html", italics=tuple(sorted(italics)), breaks=tuple(sorted(set(breaks))),
                    headings=tuple(sorted(headings)), name=name, notes=tuple(sorted(notes)),
                    title=meta.get("title") or first_title, author=meta.get("creator", ""),
                    warnings=tuple(warnings))
