"""Readers: plain text, Markdown and single-file HTML become one `Document`.

A `Document` is the story's plain text as read (UTF-8, BOM stripped, every newline style turned
into ``\\n``) plus what the markup said about it: emphasised spans, explicit scene breaks and
chapter headings. Every offset, here and in the segmenter, is a Python string index into
`Document.text`.

Bad input never escapes as anything but `StoryImportError`, whose message reads
``FILE[:LINE]: what is wrong; what to do``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Literal, cast

Format = Literal["txt", "md", "html"]

MAX_IMPORT_BYTES = 50_000_000


class StoryImportError(Exception):
    """The file cannot be read as a story; ``str(e)`` says where, what and what to do."""


@dataclass(frozen=True)
class Document:
    text: str  # plain text as read; all offsets point here
    fmt: Format
    italics: tuple[tuple[int, int], ...] = ()  # emphasised spans (HTML <i>/<em>, md *x*/_x_)
    breaks: tuple[int, ...] = ()  # offsets of explicit scene-break markers
    headings: tuple[tuple[int, int], ...] = ()  # chapter-heading spans
    name: str = ""  # file name for error messages
    notes: tuple[tuple[int, int], ...] = ()  # spans the markup calls notes / metadata (AO3 preface)
    title: str = ""  # the work's title when the file names it (HTML <title>/<h1>, "Title\nby Author")
    author: str = ""  # the work's author when the file names it (byline, rel="author", meta author)
    warnings: tuple[str, ...] = ()  # "FILE: what was guessed" (e.g. a Windows-1252 decode)


def _fail(name: str, line: int | None, what: str) -> StoryImportError:
    where = name or "<input>"
    if line is not None:
        where = f"{where}:{line}"
    return StoryImportError(f"{where}: {what}")


# Characters that are not text: C0/C1 controls except tab and the newline family.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LETTER = re.compile(r"[^\W\d_]")


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """The text, and a warning ("" when none) when the encoding had to be guessed."""
    if len(data) > MAX_IMPORT_BYTES:
        raise _fail(name, None, f"the file is {len(data) // 1_000_000} MB, more than the "
                    f"{MAX_IMPORT_BYTES // 1_000_000} MB a story may have; split it into parts and import each")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ""
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n\x00") + data[: e.start].count(b"\x00\n") + 1
            raise _fail(name, line, "the file says it is UTF-16 but is not readable as UTF-16; "
                        "re-save it as UTF-8 text") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _fail(name, data[:nul].count(b"\n") + 1,
                    "this looks like a binary file (it contains NUL bytes), not a story; export the "
                    "story as plain text (.txt), Markdown (.md) or a single HTML page (.html)")
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as e:
        first_bad = e.start
    return _decode_fallback(data, name, first_bad)


_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{2,40})""", re.I)
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode_fallback(data: bytes, name: str, first_bad: int) -> tuple[str, str]:
    """Not valid UTF-8: old Windows / Latin-1 text is common in fan-fiction archives. Decode it
    with a warning instead of refusing it; binary junk is still refused (by `_clean`)."""
    line = data[:first_bad].count(b"\n") + 1
    declared = _CHARSET.search(data[:4096])
    if declared:  # an HTML page that names its own encoding (<meta charset="windows-1252">)
        try:
            enc_name = codecs.lookup(declared.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            enc_name = ""
        if enc_name and enc_name not in ("utf-8", "utf-16", "utf-32"):
            try:
                return data.decode(enc_name), ""
            except UnicodeDecodeError:
                pass
    high = len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    utf8 = sum(len(m.group()) for m in _UTF8_SEQ.finditer(data))
    if utf8 and utf8 * 10 >= high * 9:  # UTF-8 with a few stray bytes: keep it UTF-8
        return (data.decode("utf-8", errors="replace"),
                f"{name or '<input>'}:{line}: a few bytes are not valid UTF-8 and were replaced "
                "with U+FFFD; re-save the file as UTF-8 to keep them")
    try:
        text = data.decode("cp1252")
        enc = "Windows-1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        enc = "Latin-1"
    return text, (f"{name or '<input>'}:{line}: the file is not UTF-8; read it as {enc} "
                  "(check accented letters and curly quotes, or re-save the file as UTF-8)")


def _clean(text: str, name: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    text = _NEWLINES.sub("\n", text)
    text = _SURROGATE.sub("\ufffd", text)
    junk = _CONTROL.findall(text)
    if junk:
        if "\x00" in junk or len(junk) > max(8, len(text) // 200):
            first = _CONTROL.search(text)
            line = text.count("\n", 0, first.start() if first else 0) + 1
            raise _fail(name, line, "this looks like a binary file (it is full of control characters), "
                        "not a story; export the story as plain text (.txt), Markdown (.md) or HTML")
        text = _CONTROL.sub("", text)
    return text


def _sniff(text: str, name: str, fmt: str | None) -> Format:
    if fmt:
        f = fmt.lower().lstrip(".")
        table = {"txt": "txt", "text": "txt", "md": "md", "markdown": "md", "html": "html", "htm": "html"}
        if f not in table:
            raise _fail(name, None, f"unknown format {fmt!r}; use txt, md or html")
        return cast(Format, table[f])
    low = name.lower()
    if low.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if low.endswith((".md", ".markdown", ".mdown")):
        return "md"
    if low.endswith(".txt"):
        return "txt"
    head = text[:2000].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or (
        len(re.findall(r"<p[\s>]|<br\s*/?>|<div[\s>]", text[:20000], re.I)) >= 3
    ):
        return "html"
    return "txt"


def read_document(data: bytes | str, *, fmt: str | None = None, name: str = "") -> Document:
    """Read a story file's contents. `fmt` is "txt", "md" or "html" (guessed from `name` or the
    contents when absent). Raises `StoryImportError` for empty, binary or undecodable input."""
    warnings: list[str] = []
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            raw, warning = _decode(bytes(data), name)
            if warning:  # returned, not logged: the caller shows it (narrator import does)
                warnings.append(warning)
        elif isinstance(data, str):
            raw = data
        else:
            raise _fail(name, None, f"cannot read a {type(data).__name__}; pass the file's bytes or text")
        text = _clean(raw, name)
        kind = _sniff(text, name, fmt)
        if kind == "html":
            doc = _read_html(text, name)
        elif kind == "md":
            doc = _read_markdown(text, name)
        else:
            doc = Document(text=text, fmt="txt", name=name)
        doc = _front_matter(doc)
        if warnings:
            doc = replace(doc, warnings=tuple(warnings))
    except StoryImportError:
        raise
    except (RecursionError, MemoryError, ValueError, AssertionError) as e:  # pragma: no cover - defensive
        raise _fail(name, None, f"the file could not be read ({type(e).__name__}); check it is a text, "
                    "Markdown or HTML story") from None
    if not doc.text.strip():
        raise _fail(name, None, "the file is empty (no text after reading it); choose the file that holds "
                    "the story")
    if not _LETTER.search(doc.text):
        raise _fail(name, 1, "the file holds no words (only symbols, digits or markup); choose the file that "
                    "holds the story")
    return doc


# ---------------------------------------------------------------------------------------- HTML

_SKIP_TAGS = frozenset({"script", "style", "noscript", "head", "nav", "form", "button", "select",
                        "iframe", "svg", "template", "textarea", "object", "embed", "canvas", "title",
                        "footer"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
                   "param", "source", "track", "wbr"})
_BLOCK = frozenset({"p", "div", "li", "ul", "ol", "blockquote", "section", "article", "main",
                    "table", "tr", "td", "th", "h4", "h5", "h6", "pre", "center", "dd", "dt", "dl",
                    "figure", "figcaption", "body", "aside"})
_HEADINGS = frozenset({"h1", "h2", "h3"})
_ITALIC = frozenset({"i", "em", "cite", "dfn", "var"})
_BOILER = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|footer|sidebar|breadcrumbs?|comments?|share|sharing|"
    r"kudos|ads?|advert|advertisement|login|toolbar|social|cookie|banner|pagination|pager|"
    r"review|review-?box|reviews|chap_select|chapter-?nav|actions|feedback)(?:$|[\s_-])",
    re.I,
)
_NOTES = re.compile(r"(?:^|[\s_-])(?:preface|afterword|notes|endnotes|end-notes|summary|byline|tags|"
                    r"author-?notes?|a-?n|disclaimer|landmark|meta|profile|profile_top)(?:$|[\s_-])", re.I)
# A paragraph that is only site navigation ("Review", "« Prev | Next Chapter »", "Kudos") or a
# menu ("Home | Just In | Community | Log in"): dropped, it is no word of the story.
_NAV_SEP = r"[\s«»<>|·•\-\[\]()→←/:]*"
_NAV_WORDS = re.compile(
    r"(?:" + _NAV_SEP + r"(?:reviews?|review this (?:story|chapter)|(?:next|prev|previous|last|first) "
    r"(?:chapter|page|part|story)|next|prev|previous|chapter index|index|table of contents|contents|back|back to top|top|home|kudos|"
    r"comments?|bookmarks?|share|log ?in|log ?out|sign ?up|follow|favou?rites?|subscribe|report|print|"
    r"download|menu|search|skip to (?:main )?content|leave (?:a )?(?:review|comment|kudos)|post comment|"
    r"add to (?:favou?rites|community)|story alert|author alert|entire work|chapter by chapter|"
    r"(?:chapter|ch\.?) ?\d+ of \d+))+" + _NAV_SEP,
    re.I,
)
_NAV_PHRASE = re.compile(r"(?:Posted originally on the Archive of Our Own\b|Please drop by the archive and "
                         r"comment\b|Story Text Placeholder\b|(?:Chapter|Work) Text:?\s*$)", re.I)
_MENU_SPLIT = re.compile(r"\s*[|•·]\s*")


def _is_nav(text: str) -> bool:
    t = text.strip()
    if not t or len(t) > 300:
        return False
    if _NAV_PHRASE.match(t):
        return True
    if any(q in t for q in "\"“”‘’«»") and not _NAV_WORDS.fullmatch(t):
        return False
    if _NAV_WORDS.fullmatch(t) and t[-1] not in ".!?…":
        return True
    parts = [x for x in _MENU_SPLIT.split(t) if x]
    return len(parts) >= 3 and t.count("|") >= 2 and all(len(x) <= 30 for x in parts) and t[-1] not in ".!?…"


_CHAPTERISH = re.compile(r"(?:chapter|part|book|volume|prologue|epilogue|act)\b|[IVXLC]{1,7}\.?$|\d{1,3}\.?$", re.I)
_AUTHOR_LINK = re.compile(r"^(?:https?://[^/]*)?/u/\d+")
_SPAN_ITALIC = re.compile(r"(?<![\w-])(?:italics?|emphasis|emph)(?![\w-])|font-style\s*:\s*(?:italic|oblique)", re.I)
_WS = re.compile(r"[ \t\n\r\f\v\xa0]+")


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pos = 0
        self.space = False  # a collapsed space is pending
        self.at_para_start = True
        self.skip: list[tuple[str, int]] = []  # (tag, depth) of the element being dropped
        self.italic_open: list[int] = []
        self.italics: list[tuple[int, int]] = []
        self.breaks: list[int] = []
        self.headings: list[tuple[int, int]] = []
        self.heading_start: int | None = None
        self.note_open: list[tuple[str, int, int]] = []  # (tag, depth, start) of a notes element
        self.notes: list[tuple[int, int]] = []
        self.para_idx = 0  # where the current paragraph starts, in parts and in pos
        self.para_pos = 0
        # metadata: <title>, <meta name=author>, rel="author" / profile links, the first <h1>
        self.meta: dict[str, str] = {}
        self.page_title: list[str] = []
        self.in_title = False
        self.link_author: str | None = None  # "rel" or "profile" while inside such a link
        self.link_text: list[str] = []
        self.h1_texts: list[str] = []
        self.heading_tag = ""
        self.heading_in_note = False
        self.heading_is_title = False
        self.span_italic: list[bool] = []  # per open <span>: does it make its text italic?

    # -- output helpers
    def _write(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def _para(self) -> None:
        if not self.at_para_start:
            self._drop_if_nav()
        if not self.at_para_start:
            self._write("\n\n")
        self.at_para_start = True
        self.space = False
        self.para_idx = len(self.parts)
        self.para_pos = self.pos

    def _drop_if_nav(self) -> None:
        start = self.para_pos
        if self.pos - start > 300 or not _is_nav("".join(self.parts[self.para_idx :])):
            return
        del self.parts[self.para_idx :]
        self.pos = start
        self.italics = [s for s in self.italics if s[0] < start]
        self.italic_open = [min(s, start) for s in self.italic_open]
        self.breaks = [b for b in self.breaks if b <= start]
        self.at_para_start = True

    def _metadata(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("name") or a.get("property") or "").lower()
            if key in ("author", "dc.creator", "dc:creator", "title", "dc.title", "dc:title", "og:title") and a.get("content"):
                self.meta.setdefault(key.split(".")[-1].split(":")[-1], " ".join(a["content"].split()))
        elif tag == "title":
            self.in_title = True
        elif tag == "a":
            if "author" in a.get("rel", "").split():
                self.link_author, self.link_text = "rel", []
            elif _AUTHOR_LINK.match(a.get("href", "")):
                self.link_author, self.link_text = "profile", []

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "title", "a"):
            self._metadata(tag, attrs)
        if self.skip:
            if tag == self.skip[-1][0] and tag not in _VOID:
                name, depth = self.skip[-1]
                self.skip[-1] = (name, depth + 1)
            return
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id", "role"))
        if tag in _SKIP_TAGS or (tag not in _VOID and tag not in ("body", "html") and marks
                                  and _BOILER.search(marks)):
            if tag not in _VOID:
                self.skip.append((tag, 1))
            return
        if tag not in _VOID and marks and _NOTES.search(marks):
            self._para()
            self.note_open.append((tag, 1, self.pos))
            return
        if self.note_open and tag == self.note_open[-1][0] and tag not in _VOID:
            t, depth, start = self.note_open[-1]
            self.note_open[-1] = (t, depth + 1, start)
        if tag == "br":
            self._para()
        elif tag == "hr":
            self._para()
            self.breaks.append(self.pos)
        elif tag in _HEADINGS:
            self._para()
            self.heading_start = self.pos
            self.heading_tag = tag
            self.heading_in_note = bool(self.note_open)
            self.heading_is_title = bool(re.search(r"(?<![\w-])title(?![\w-])", marks, re.I))
        elif tag in _BLOCK:
            self._para()
        elif tag in _ITALIC:
            self.italic_open.append(self.pos)
        elif tag == "span":  # Calibre / word processors: <span class="italic">, style="font-style: italic"
            style = " ".join(v or "" for k, v in attrs if k in ("class", "style"))
            slanted = bool(_SPAN_ITALIC.search(style))
            self.span_italic.append(slanted)
            if slanted:
                self.italic_open.append(self.pos)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "a" and self.link_author:
            name = " ".join("".join(self.link_text).split())
            if name:
                self.meta.setdefault("rel-author" if self.link_author == "rel" else "profile-author", name)
            self.link_author = None
        if self.skip:
            name, depth = self.skip[-1]
            if tag == name:
                if depth <= 1:
                    self.skip.pop()
                else:
                    self.skip[-1] = (name, depth - 1)
            return
        if self.note_open and tag == self.note_open[-1][0]:
            t, depth, start = self.note_open[-1]
            if depth <= 1:
                self.note_open.pop()
                self._para()
                if self.pos > start:
                    self.notes.append((start, self.pos))
                return
            self.note_open[-1] = (t, depth - 1, start)
        if tag in _HEADINGS:
            if self.heading_start is not None and self.pos > self.heading_start:
                words = "".join(self.parts[self.para_idx :]).strip()
                if self.heading_tag == "h1" and words:
                    self.h1_texts.append(words)
                if self.heading_is_title and words:  # AO3 work page: <h2 class="title heading">
                    self.meta.setdefault("heading-title", words)
                # the work's <h1> title inside a preface is part of the note; an AO3 chapter
                # heading sits inside its "meta group" block and still starts a chapter
                if not self.heading_in_note or (self.heading_tag != "h1" and _CHAPTERISH.match(words)):
                    self.headings.append((self.heading_start, self.pos))
            self.heading_start = None
            self._para()
        elif tag in _BLOCK:
            self._para()
        elif (tag in _ITALIC or (tag == "span" and self.span_italic and self.span_italic.pop())) and self.italic_open:
            start = self.italic_open.pop()
            if self.pos > start:
                self.italics.append((start, self.pos))

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.page_title.append(data)
        if self.link_author:
            self.link_text.append(data)
        if self.skip or not data:
            return
        pieces = _WS.split(data)
        lead = data[0] in " \t\n\r\f\v\xa0"
        trail = data[-1] in " \t\n\r\f\v\xa0"
        words = [p for p in pieces if p]
        if not words:
            if lead:
                self.space = True
            return
        if (lead or self.space) and not self.at_para_start:
            self._write(" ")
        self._write(" ".join(words))
        self.at_para_start = False
        self.space = trail


def _trim(text: str, spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return tuple(sorted(set(out)))


def _read_html(text: str, name: str) -> Document:
    p = _HtmlText()
    p.feed(text)
    p.close()
    p._para()
    body = "".join(p.parts)
    # Drop trailing paragraph separators; offsets all lie before them.
    end = len(body.rstrip())
    body = body[:end]
    breaks = tuple(sorted({min(b, end) for b in p.breaks}))
    author = p.meta.get("creator") or p.meta.get("author") or p.meta.get("rel-author") or p.meta.get("profile-author") or ""
    title = p.meta.get("title", "")
    if not title:
        title = next((h for h in p.h1_texts if len(h) <= 150 and not _CHAPTERISH.match(h)), "")
    if not title:
        title = p.meta.get("heading-title", "")
    if not title:
        title, found = _clean_page_title("".join(p.page_title), author)
        author = author or found
    return Document(text=body, fmt="html", italics=_trim(body, [(a, min(b, end)) for a, b in p.italics]),
                    breaks=breaks, headings=_trim(body, [(a, min(b, end)) for a, b in p.headings]),
                    name=name, notes=_trim(body, [(a, min(b, end)) for a, b in p.notes]),
                    title=title, author=author)


def _clean_page_title(raw: str, author: str) -> tuple[str, str]:
    """A work's title (and author, when the page says it) from an HTML <title> as archives write
    it: "Title - Author - Fandom [Archive of Our Own]", "Title Chapter 1: X, a Y fanfic | FanFiction",
    "Title by Author"."""
    t = " ".join(raw.split())
    ao3 = t.endswith("[Archive of Our Own]")
    t = re.sub(r"\s*\[Archive of Our Own\]$", "", t)
    t = re.sub(r"\s*\|\s*(?:FanFiction|FictionPress|Wattpad|AO3|Archive of Our Own)\b[^|]*$", "", t, flags=re.I)
    t = re.sub(r",\s+an?\s+[^,]*\bfanfic\b.*$", "", t, flags=re.I)
    t = re.sub(r"\s+Chapter\s+\d+\b.*$", "", t)
    found = ""
    parts = t.split(" - ")
    if len(parts) >= 2 and (ao3 or (author and parts[1].strip() == author)):
        t, found = parts[0].strip(), parts[1].strip()
    else:
        m = re.fullmatch(r"(.+?)\s+by\s+(\S.{0,60})", t)
        if m and (not author or m.group(2).strip() == author):
            t, found = m.group(1).strip(), m.group(2).strip()
    return (t if len(t) <= 150 else ""), found


# ----------------------------------------------------------------------------- front matter

_BYLINE = re.compile(r"[ \t]*(?:by|written by|author)[ \t]*:?[ \t]+([^\n]{1,60}?)[ \t]*$", re.I)
_LABEL = re.compile(r"[ \t]*(title|author|by)[ \t]*:[ \t]*([^\n]{1,150}?)[ \t]*$", re.I)
_NAMEISH = re.compile(r"(?:[A-Z0-9_@][\w.'’@-]*|[a-z0-9_.-]*[_0-9][\w.-]*|[a-z][\w.-]*(?=$))"
                      r"(?:[ \t]+(?:[A-Z][\w.'’-]*|de|van|von|la|le|du|da|of|the))*")


def _front_matter(doc: Document) -> Document:
    """Title and author from the top of the text: "Title\nby Author", "Title: X / Author: Y" lines
    (the byline and label lines become notes; a plain title line becomes a heading)."""
    text = doc.text
    head_end = min(len(text), 3000)
    title, author = doc.title, doc.author
    notes = list(doc.notes)
    headings = list(doc.headings)
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", text[:head_end])][:8]
    prev: tuple[int, int] | None = None
    dated: list[tuple[int, int]] = []  # "(1814)" between the title and the byline
    for a, b in lines:
        line = text[a:b]
        if prev is not None and _YEAR_LINE.fullmatch(line):
            dated.append((a, b))
            continue
        lab = _LABEL.fullmatch(line)
        if lab:
            key, value = lab.group(1).lower(), lab.group(2).strip()
            if key == "title":
                title = title or value
            else:
                author = author or value
            notes.append((a, b))
            prev = (a, b)
            continue
        by = _BYLINE.fullmatch(line)
        if by and _NAMEISH.fullmatch(by.group(1).strip().strip("*_")) and prev is not None:
            author = author or by.group(1).strip().strip("*_")
            notes.append((a, b))
            notes.extend(dated)
            notes.extend((c, d) for c, d in lines if c > b and _YEAR_LINE.fullmatch(text[c:d])
                         and not text[b:c].strip())
            pa, pb = prev
            above = text[pa:pb].strip()
            if not title and len(above) <= 120 and above[-1:] not in ".,;:\"”’'" and not _LABEL.fullmatch(above):
                title = above
                if not any(ha <= pa < hb for ha, hb in headings) and not any(na <= pa < nb for na, nb in notes):
                    headings.append((pa + len(text[pa:pb]) - len(text[pa:pb].lstrip()), pb))
            break
        prev = (a, b)
    if not title and doc.fmt == "txt":
        title = _title_line(text, lines, notes, headings)
    if (title, author) == (doc.title, doc.author) and len(notes) == len(doc.notes):
        return doc
    return replace(doc, title=title, author=author, notes=_trim(text, notes), headings=_trim(text, headings))


_YEAR_LINE = re.compile(r"[ \t]*\(?(?:1[5-9]|20)\d\d\)?\.?[ \t]*")
_TITLE_WORD = re.compile(r"[\w'’-]+")
_MINOR = frozenset("a an and as at but by for from in into of on or the to with nor".split())


def _title_line(text: str, lines: list[tuple[int, int]], notes: list[tuple[int, int]],
                headings: list[tuple[int, int]]) -> str:
    """A plain-text book's own title: its first line, standing alone, short, with no closing
    punctuation, and either followed by more short lines (author, edition) up to the first
    chapter heading ("ALICE'S ADVENTURES IN WONDERLAND / Lewis Carroll / CHAPTER I."), or
    written in title case above the story ("The Kitchen at Night"). The title line becomes a
    heading and the lines under it notes, so they are front matter rather than story."""
    if not lines:
        return ""
    a, b = lines[0]
    first = text[a:b].strip()
    words = _TITLE_WORD.findall(first)
    if (not words or len(first) > 80 or len(words) > 12 or first[-1] in ".,;:!?\"”’'»)-—–"
            or _CHAPTERISH.match(first) or first[:1] in "\"“‘'(["
            or (not text[b:].startswith(("\n\n", "\r\n\r\n")) and not text[b:].lstrip(" \t").startswith("\n\n"))):
        return ""
    under: list[tuple[int, int]] = []
    for c, d in lines[1:]:
        line = text[c:d].strip()
        if _CHAPTERISH.match(line):
            break
        if len(line) > 60 or (line[-1:] in ".,;:!?\"”" and not re.search(r"\d\.\d$", line)):
            under = []
            break
        under.append((c, d))
    else:
        under = []
    if under or (not lines[1:] or _CHAPTERISH.match(text[lines[1][0]:lines[1][1]].strip())):
        notes.extend(under)
    elif not all(w[:1].isupper() or w.lower() in _MINOR for w in words) or len(words) < 2:
        return ""
    headings.append((a + len(text[a:b]) - len(text[a:b].lstrip()), a + len(text[a:b].rstrip())))
    return " ".join(first.split())


# ------------------------------------------------------------------------------------ Markdown

_MD_BREAK = re.compile(r"^[ \t]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|(?:~[ \t]*){3,})$")
_MD_SETEXT = re.compile(r"^[ \t]{0,3}(?:=+|-+)[ \t]*$")
_MD_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_MD_PREFIX = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+|^[ \t]{0,3}(?:[-+*]|\d{1,3}[.)])[ \t]+(?=\S)")
_MD_INLINE = re.compile(
    r"\\([\\`*_{}\[\]()#+\-.!>~|])"  # 1 escaped char
    r"|!?\[([^\]\n]*)\]\([^)\n]*\)"  # 2 link / image text
    r"|`([^`\n]*)`"  # 3 code
    r"|<(?:br|/?(?:p|span|div|b|strong|u|sup|sub|small|font)\b)[^>\n]*>"  # simple inline HTML
    r"|(\*+|_+)"  # 4 emphasis delimiter run
)


def _md_inline(line: str) -> tuple[str, list[tuple[int, int]]]:
    """Strip inline markup from one paragraph; return the text and its italic spans (offsets in it)."""
    # Pass 1: tokens. Each is (kind, raw, text) where kind "d" is a delimiter run.
    tokens: list[list[object]] = []
    last = 0
    for m in _MD_INLINE.finditer(line):
        if m.start() > last:
            tokens.append(["t", line[last : m.start()]])
        if m.group(1) is not None:
            tokens.append(["t", m.group(1)])
        elif m.group(2) is not None:
            tokens.append(["t", m.group(2)])
        elif m.group(3) is not None:
            tokens.append(["t", m.group(3)])
        elif m.group(4) is not None:
            run = m.group(4)
            before = line[m.start() - 1] if m.start() > 0 else " "
            after = line[m.end()] if m.end() < len(line) else " "
            can_open = not after.isspace()
            can_close = not before.isspace()
            if run[0] == "_":  # intraword underscores are not emphasis
                can_open = can_open and not before.isalnum()
                can_close = can_close and not after.isalnum()
            tokens.append(["d", run, can_open, can_close, 0, 0])  # [.., opened_len, closed_len]
        else:
            tokens.append(["t", ""])
        last = m.end()
    if last < len(line):
        tokens.append(["t", line[last:]])
    # Pass 2: match delimiter runs (closer to nearest opener of the same character).
    stack: list[int] = []
    pairs: list[tuple[int, int, int]] = []  # opener token, closer token, length used
    for i, tok in enumerate(tokens):
        if tok[0] != "d":
            continue
        run = cast(str, tok[1])
        if tok[3]:
            j = len(stack) - 1
            while j >= 0 and cast(str, tokens[stack[j]][1])[0] != run[0]:
                j -= 1
            if j >= 0:
                o = stack[j]
                n = min(len(cast(str, tokens[o][1])), len(run))
                pairs.append((o, i, n))
                del stack[j:]
                continue
        if tok[2]:
            stack.append(i)
    used: dict[int, int] = {}
    for o, c, n in pairs:
        used[o] = n
        used[c] = n
    # Pass 3: emit.
    out: list[str] = []
    pos = 0
    starts: dict[int, int] = {}
    spans: list[tuple[int, int]] = []
    pair_of = {c: (o, n) for o, c, n in pairs}
    for i, tok in enumerate(tokens):
        if tok[0] == "t":
            s = cast(str, tok[1])
        else:
            run = cast(str, tok[1])
            n = used.get(i, 0)
            if i in pair_of:  # closer: delimiters nearest the text are consumed first
                s = run[n:]
                o, n2 = pair_of[i]
                if n2 in (1, 3):
                    spans.append((starts.get(o, pos), pos))
            else:
                s = run[: len(run) - n]
                starts[i] = pos + len(s)
        out.append(s)
        pos += len(s)
    return "".join(out), spans


def _read_markdown(text: str, name: str) -> Document:
    out: list[str] = []
    pos = 0
    italics: list[tuple[int, int]] = []
    breaks: list[int] = []
    headings: list[tuple[int, int]] = []
    lines = text.split("\n")
    para: list[str] = []
    in_fence = False

    def emit(s: str) -> None:
        nonlocal pos
        out.append(s)
        pos += len(s)

    def flush(nl: str) -> None:
        # A paragraph's lines are stripped of inline markup together, so emphasis may span lines.
        if not para:
            return
        body = "\n".join(para)
        para.clear()
        stripped, spans = _md_inline(body)
        italics.extend((pos + a, pos + b) for a, b in spans)
        emit(stripped + nl)

    for i, line in enumerate(lines):
        nl = "\n" if i < len(lines) - 1 else ""
        if line.lstrip().startswith(("```", "~~~~")) and not _MD_BREAK.match(line):
            in_fence = not in_fence
            flush("\n")
            emit(nl)
            continue
        if in_fence:
            emit(line + nl)
            continue
        if len(para) == 1 and _MD_SETEXT.match(line):  # "Title\n=====": a heading, not a break
            title, _ = _md_inline(para.pop())
            if title.strip():
                headings.append((pos, pos + len(title)))
            emit(title + nl)
            continue
        if _MD_BREAK.match(line):
            flush("\n")
            breaks.append(pos)
            emit(line + nl)
            continue
        h = _MD_HEADING.match(line)
        if h:
            flush("\n")
            title, _ = _md_inline(h.group(2))
            if title.strip():
                headings.append((pos, pos + len(title)))
            emit(title + nl)
            continue
        if not line.strip():
            flush("\n")
            emit(line + nl)
            continue
        para.append(_MD_PREFIX.sub("", line))
    flush("")
    body = "".join(out)
    return Document(text=body, fmt="md", italics=_trim(body, italics), breaks=tuple(breaks),
                    headings=_trim(body, headings), name=name)
