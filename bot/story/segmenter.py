"""Prose to scenes and beats: paragraphs, scene breaks, notes, quotes, thoughts and speakers.

`segment(doc, cast)` turns a `Document` into a `Story`. Every word of the text lands in exactly
one beat, in order, except scene-break markers and chapter headings (headings become scene
titles). `Beat.text` is always `Story.text[beat.source[0]:beat.source[1]]` and `Beat.quotes`
are the spans inside the quote marks. The whole pass is linear in the length of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.story.attribution import REVIEW_BELOW, Attributor, NameIndex, SpeakerGuess
from bot.story.model import MAX_BEAT_CHARS, Beat, BeatKind, Character, Scene, Story
from bot.story.quotes import Quote, detect_style, find_quotes, unmarked_thoughts
from bot.story.ranker import Ranker, TraceEntry, default_ranker
from bot.story.readers import Document, StoryImportError
from bot.story.sentences import sentence_ends, skip_space, split_long, trim_end

__all__ = ["discover_cast", "segment"]

_LINE = re.compile(r"[^\n]*\S[^\n]*")
_LINE_END = frozenset(".!?…:;\"”’'»)]*-—–")
_HUGE_PARA = 3 * MAX_BEAT_CHARS
_MARKER = re.compile(
    r"(?:[*~=_#+•·◇◆○●◊♦♥☆★-]\s*){3,}|[#*§⁂]|(?:[-~=]\s*)?(?:o0o|oOo|0o0|OoO|xXx|XxX|xox|oxo|o\.o|x\.x)"
    r"(?:\s*[-~=])?|(?:[oO0xX]\s*){3,}[oO0xX]|[-~=]+\s*[oO0xX*]\s*[-~=]+"
)
_NUM = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
        r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
        r"hundred|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last|final)")
_HEADING = re.compile(
    r"(?:(?:chapter|part|book|volume|act)\s+(?:\d+|[ivxlc]+|(?:the\s+)?" + _NUM + r"(?:[- ]" + _NUM + r")*)\b"
    r"(?:\s*[.:—–-]\s*[^\n]{0,70}|\s+\(?(?-i:[A-Z])[^\n]{0,70})?"
    r"|(?:prologue|epilogue|interlude|afterword|foreword|preface|introduction)\b(?:\s*[.:—–-]\s*[^\n]{0,70})?"
    r"|[IVXLC]{1,7}\.?|\d{1,3}\.?)",
    re.I,
)
_NOTE = re.compile(
    r"\s*[(\[]?\s*(?:A\s*/\s*N\b|A\.\s?N\.|AN\s*[:\-–—]|Author['’]?s?['’]?\s*Notes?\b|Authors?\s+Notes?\b|"
    r"Disclaimer\b|N/A\b|Translator['’]?s?\s+Notes?\b|Beta['’]?s?\s+Notes?\b|Edit\s*:|Update\s*:|"
    r"Warnings?\s*:|Summary\s*:|Rating\s*:|Pairings?\s*:|Notes?\s*:|Author\s*:|Fandom\s*:|"
    r"Word count\s*:|Written for\b)",
    re.I,
)
_SENTENCE_PUNCT_END = re.compile(r"[.!?…][\"”’')\]]*\s*$")
_WORD = re.compile(r"\w")
_FIRST_SECOND_PERSON = re.compile(r"(?<![\w'’])(?:I|me|my|mine|myself|you|your|yours|we|us|our|I'm|I’m)(?![\w'’])")


_OUTER = re.compile(r"(?:part|book|volume|act)\b", re.I)
_OPENERS = {"double": "\"“„«", "single": "'‘‚"}
_MARKS = {"double": re.compile(r"[\"“”„«»]"), "single": re.compile(r"['‘’‚]")}


def _closed_later(text: str, paras: Sequence[_Para], n: int, style: str) -> bool:
    """Does the speech left open at the end of paragraph n go on and end later: the next
    paragraph opens a quote (speech running on), or the next quote mark in the scene closes it
    (a letter or a poem whose lines are paragraphs of their own)?"""
    for k in range(n + 1, min(len(paras), n + 40)):
        para = paras[k]
        if para.brk:
            return False
        if k == n + 1 and text[para.start : para.start + 1] in _OPENERS[style]:
            return True
        for m in _MARKS[style].finditer(text, para.start, para.end):
            i = m.start()
            c = text[i]
            if style == "single" and c in "'’" and i + 1 < para.end and text[i + 1].isalpha():
                continue  # an apostrophe inside a word
            if c in "”»’":
                return True
            if c in "“„«‘‚":
                return False
            before = text[i - 1] if i > para.start else " "
            return not before.isspace()  # a straight mark after a word closes
    return False
MAX_QUOTE_WARNINGS = 20


def _unclosed_warning(doc: Document, p: _Para, q: Quote) -> str:
    """"FILE:LINE: warning: …" for a quote opened and never closed (where the next paragraph
    does not open a quote, so it is no speech running on)."""
    text = doc.text
    words = " ".join(text[q.start : q.end].split())
    shown = words if len(words) <= 50 else words[:47] + "..."
    where = doc.name or "<input>"
    if doc.fmt != "html":  # HTML's lines are not the file's
        where += f":{text.count(chr(10), 0, q.open if q.open >= 0 else p.start) + 1}"
    return (f"{where}: warning: this quote is never closed ({text[q.open] if q.open >= 0 else ''}{shown}), "
            "so the rest of the paragraph was read as speech; add the closing quote mark where the "
            "words end and import again")


_MARKER_FIRST = frozenset("*~=_#+•·◇◆○●◊♦♥☆★-§⁂oO0xX")


def _is_marker(body: str) -> bool:
    """A scene-break line: "* * *", "*      *      *      *" (spaced out), "~o~", "xXx"."""
    if not body or body[0] not in _MARKER_FIRST or len(body) > 300:
        return False
    return len(body) <= 40 + 6 * body.count(" ") and len("".join(body.split())) <= 40 \
        and _MARKER.fullmatch(body) is not None


def _is_heading(body: str) -> bool:
    """A chapter heading: "Chapter 3: The Sea", "IV.", and a heading line with the chapter's
    title on the line under it ("CHAPTER I.\nDown the Rabbit-Hole", as plain-text books have)."""
    if len(body) > 160 or not body[:1].isalnum() or _is_marker(body):  # "xXx" is a separator, not XX
        return False
    lines = body.split("\n")
    if len(lines) == 1:
        return len(body) <= 80 and _HEADING.fullmatch(body) is not None
    if len(lines) != 2:
        return False
    first, second = lines[0].strip(), lines[1].strip().strip("_*")  # "BOOK THE FIRST\n_SOWING_"
    return (len(first) <= 80 and len(second) <= 80 and _HEADING.fullmatch(first) is not None
            and second[:1].isupper() and second[-1:] not in ".,;:" and not second.startswith(("\"", "“", "‘")))


@dataclass(slots=True)
class _Para:
    start: int
    end: int
    brk: bool = False  # a scene break comes before it


@dataclass
class _Builder:
    text: str
    beats: list[Beat] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    scene_beats: list[Beat] = field(default_factory=list)
    scene_title: str | None = None
    title_span: tuple[int, int] | None = None  # where the pending scene title came from
    content: int = 0  # beats that are story text, not stranded headings
    closed_title_span: tuple[int, int] | None = None  # title_span of the scene closed last
    voiced: list[tuple[int, SpeakerGuess]] = field(default_factory=list)  # beat index, its voice

    def close_scene(self) -> None:
        if self.scene_beats:
            self.scenes.append(Scene(len(self.scenes), self.scene_title, tuple(self.scene_beats)))
            self.scene_beats = []
            self.closed_title_span = self.title_span
            self.scene_title = None
            self.title_span = None  # the heading now titles a scene with text: its words are kept

    def fold_front_matter(self, doc_title: str) -> bool:
        """The document's own title (and a byline or notes under it) at the very top, followed by
        a real heading: they are front matter, not a scene. The title's words become a note beat
        ahead of the byline, in the scene the next heading opens. True when folded."""
        if len(self.scenes) == 1 and not self.scene_beats and self.closed_title_span is not None:
            # a scene break (<hr>) closed the front matter already: reopen it
            front = self.scenes[0]
            if (front.title is None or any(b.kind != "note" for b in front.beats)
                    or " ".join(doc_title.split()).casefold() != front.title.casefold()):
                return False
            self.scenes.pop()
            self.scene_beats = list(front.beats)
            self.scene_title = front.title
            self.title_span = self.closed_title_span
        if (self.scenes or self.title_span is None or self.scene_title is None
                or any(b.kind != "note" for b in self.scene_beats)
                or " ".join(doc_title.split()).casefold() != self.scene_title.casefold()):
            return False
        a, b = self.title_span
        kept = self.scene_beats
        if kept:
            del self.beats[-len(kept):]
        self.scene_beats = []
        self.add("note", a, b)
        for beat in kept:
            self.add("note", *beat.source)
        self.content -= 1 + len(kept)  # front matter is no story text
        self.scene_title = None
        self.title_span = None
        return True

    def keep_stranded_title(self) -> None:
        """A heading with no text under it (two headings in a row, a heading at the very end)
        would lose its words as a title of nothing: keep it as a narration beat instead."""
        if self.title_span is not None and not self.scene_beats:
            a, b = self.title_span
            self.add("narration", a, b)
            self.content -= 1
        self.title_span = None

    def add(self, kind: BeatKind, a: int, b: int, speakers: tuple[str, ...] = (),
            quotes: Sequence[tuple[int, int]] = (), voice: SpeakerGuess | None = None) -> None:
        self.content += 1
        for p0, p1 in split_long(self.text, a, b, MAX_BEAT_CHARS):
            qs = tuple((max(q0, p0), min(q1, p1)) for q0, q1 in quotes if q0 < p1 and q1 > p0)
            k: BeatKind = kind
            spk = speakers
            if kind in ("dialogue", "thought") and not qs:
                k, spk = "narration", ()
            conf = None if voice is None or k == "narration" else (voice.confidence if spk else 0.0)
            beat = Beat(index=len(self.beats), scene=len(self.scenes), kind=k, text=self.text[p0:p1],
                        speaker=spk[0] if spk else None, speakers=spk if len(spk) > 1 else (),
                        source=(p0, p1), quotes=qs, confidence=conf,
                        review=conf is not None and conf < REVIEW_BELOW,
                        runner_up=voice.runner_up if voice is not None and conf is not None else None)
            self.beats.append(beat)
            self.scene_beats.append(beat)
            if voice is not None and spk:
                self.voiced.append((beat.index, voice))


def _paragraphs(doc: Document) -> list[_Para]:
    text = doc.text
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text)]
    if not lines:
        return []
    gaps = [0] + [text.count("\n", lines[i - 1][1], lines[i][0]) - 1 for i in range(1, len(lines))]
    lens = sorted(b - a for a, b in lines)
    long_len = lens[(len(lens) * 9) // 10]  # hard-wrapped text keeps (nearly) every line under ~80
    blocks = 1 + sum(1 for g in gaps[1:] if g >= 1)
    # Hard-wrapped prose breaks lines mid-sentence; one-paragraph-per-line text ends (nearly)
    # every line with punctuation.
    ends = sum(1 for a, b in lines if text[b - 1] in _LINE_END)
    line_mode = doc.fmt != "html" and blocks * 3 < len(lines) and (long_len > 90 or ends > 0.6 * len(lines))
    if doc.fmt == "html":
        line_mode = True
    counts: dict[int, int] = {}
    for g in gaps[1:]:
        if g >= 1:
            counts[g] = counts.get(g, 0) + 1
    typical = max(sorted(counts), key=lambda g: counts[g]) if counts else 1
    if counts.get(typical, 0) < 2:
        typical = 1  # too few gaps to call a wide one the normal paragraph spacing
    threshold = 1 if line_mode and doc.fmt != "html" else max(2, typical + 1)
    if doc.fmt == "html":
        threshold = 10**9  # HTML breaks come from <hr>, not blank lines
    # In one-paragraph-per-line text a single blank line is a scene break, unless blank lines
    # separate most lines anyway.
    paras: list[_Para] = []
    cur: _Para | None = None
    prev_indent = 0
    for (a, b), g in zip(lines, gaps, strict=True):
        indent = skip_space(text, a, b) - a
        # wrapped text whose paragraphs start indented: a line indented deeper than the one
        # before it starts a new paragraph
        deeper = indent >= 2 and indent > prev_indent
        prev_indent = indent
        if cur is None or g >= 1 or line_mode or deeper:
            if cur is not None:
                paras.append(cur)
            cur = _Para(skip_space(text, a, b), b, brk=bool(paras) and g >= threshold)
        else:
            cur.end = b
    if cur is not None:
        paras.append(cur)
    out: list[_Para] = []
    for p in paras:
        p.end = trim_end(text, p.start, p.end)
        if p.end - p.start <= _HUGE_PARA:
            out.append(p)
            continue
        # A paragraph this long is not prose anyone wrote by hand; cutting it first at sentence
        # ends keeps the per-paragraph work bounded (and the whole pass linear).
        for k, (a, b) in enumerate(split_long(text, p.start, p.end, MAX_BEAT_CHARS)):
            out.append(_Para(a, b, brk=p.brk and k == 0))
    return out



def _unquoted_thoughts(text: str, p: _Para, quotes: Sequence[Quote], *, reply: bool) -> list[Quote]:
    """Inner speech without marks in the text around the paragraph's quotes ("Why does he even
    care? Gaara thought.", "…, Shukaku cackled in the back of his mind"); with `reply` (the
    paragraph before was a thought) also an unmarked answer to it ("Shut up. Gaara responded")."""
    out: list[Quote] = []
    pos = p.start
    for q in [*quotes, None]:
        stop = p.end if q is None else (q.open if q.open >= 0 else q.start)
        if stop - pos > 8:
            for a, b in unmarked_thoughts(text, pos, stop, reply=reply and not quotes):
                out.append(Quote(a, b, -1, -1, "italic"))
        if q is not None:
            pos = q.close + 1 if q.close >= 0 else p.end
    return out


_AUTHOR_ASIDE = re.compile(
    r"\b(?:I|I'm|I’m|I've|I’ve|we|my)\b[^()\[\]]*\b(?:chapter|story|stories|fic|fics|fanfic|fiction|write|writing|wrote|"
    r"written|readers?|review(?:s|ed|ers)?|update[sd]?|plot|scene|canon|OOC|POV|we see|switch(?:ing)? to|"
    r"skip(?:ping)?|own (?:nothing|naruto)|sorry)\b", re.I)


def _author_aside(text: str, a: int, b: int) -> bool:
    """A whole paragraph in parentheses or brackets where the writer talks about the story
    ("(Now this is the last we see of them, but I'm not going to do that…)"): an author's note."""
    body = text[a:b].strip()
    if len(body) < 12 or body[0] not in "([" or body[-1] not in ")]" or body.count(body[0]) != 1:
        return False
    return _AUTHOR_ASIDE.search(body) is not None


def _italic_thoughts(doc: Document, p: _Para, quotes: list[Quote], italics: list[tuple[int, int]]) -> list[Quote]:
    text = doc.text
    out: list[Quote] = []
    for a, b in italics:
        if any(q.start - 1 <= b and a <= q.end + 1 for q in quotes):
            continue
        body = text[a:b]
        words = body.split()
        if len(words) < 2:
            continue
        j = a - 1
        while j >= p.start and text[j] in " \t\n\"“‘'":
            j -= 1
        at_start = j < p.start or text[j] in ".!?…—–-:;”’\")"
        if not at_start:
            continue
        whole = (b - a) >= 0.9 * (p.end - p.start)
        follow = text[b : min(p.end, b + 40)]
        tagged = bool(re.match(r"\s*[,—–-]?\s*(?:\w+\s+){0,2}(?:thought|wondered|mused|thinks|wonders|"
                               r"(?:told|reminded|asked|promised|warned)\s+(?:him|her|them|my|your|our)sel(?:f|ves))\b",
                               follow))
        sentence = bool(_SENTENCE_PUNCT_END.search(body)) and body[:1].isupper()
        inner = bool(_FIRST_SECOND_PERSON.search(body)) or body.rstrip().endswith(("?", "!", "…", "..."))
        if tagged or (sentence and inner) or (whole and len(words) >= 3 and inner):
            out.append(Quote(a, b, -1, -1, "italic"))
    return out


def segment(doc: Document, cast: Sequence[Character] | None = None, *, slug: str = "story",
            title: str = "", progress: Callable[[int, int], None] | None = None,
            warnings: list[str] | None = None, ranker: Ranker | None = None) -> Story:
    """Split `doc` into scenes and beats and attribute every quoted line. Without a `cast`, one
    is discovered from the text (see `discover_cast`). Problems in the text that were read as
    best they could be (a quote never closed) are appended to `warnings` as
    "FILE:LINE: warning: …" lines. `progress(done, total)` is called every
    few hundred paragraphs and once at the end (counts are paragraphs). `ranker` re-decides the
    rules' speakers and sets the confidences (default: the shipped model, see ranker.py)."""
    text = doc.text
    characters = list(cast) if cast is not None else discover_cast(doc)
    paras = _paragraphs(doc)
    total = len(paras)
    style = detect_style(text)
    names = NameIndex(characters, text)
    att = Attributor(text, names)
    trace: list[TraceEntry] = []  # every paragraph the attributor saw, for the ranker
    pre_quotes: list[list[Quote] | None] = [
        None if _NOTE.match(text, p.start, p.end) else find_quotes(text, p.start, p.end, style) for p in paras
    ]
    att.narrator = _narrator(text, paras, pre_quotes, names, characters)
    out = _Builder(text)
    breaks = sorted(doc.breaks)
    bi = 0
    headings = sorted(doc.headings)
    hi = 0
    italics = sorted(doc.italics)
    ii = 0
    notes = sorted(doc.notes)
    ni = 0
    prev_end = 0
    after_thought = False  # the paragraph before ended on a thought (an unmarked answer may follow)
    after_heading = False  # the paragraph before was a heading
    unclosed: list[str] = []
    for n, p in enumerate(paras):
        if progress is not None and n % 250 == 0:
            progress(n, total)
        brk = p.brk
        while bi < len(breaks) and breaks[bi] <= p.start:
            if breaks[bi] >= prev_end:
                brk = True
            bi += 1
        prev_end = p.end
        while hi < len(headings) and headings[hi][1] <= p.start:
            hi += 1
        body = text[p.start : p.end]
        marked = hi < len(headings) and headings[hi][0] < p.end
        is_heading = marked or _is_heading(body)
        if brk and not after_heading:  # a break right under a heading ends nothing
            out.close_scene()
            att.reset()
            trace.append(None)
            after_thought = False
        after_heading = is_heading
        if is_heading:
            outer: tuple[str, int] | None = None
            if out.fold_front_matter(doc.title):
                pass
            elif (out.scene_title is not None and out.title_span is not None and _OUTER.match(out.scene_title)
                    and all(b.kind == "note" for b in out.scene_beats)):
                # "VOLUME I" / "BOOK THE FIRST" right over "CHAPTER I": one scene, both titles
                outer = (out.scene_title, out.title_span[0])
            else:
                out.keep_stranded_title()
                out.close_scene()
            att.reset(heading=True)
            trace.append(None)
            after_thought = False
            h_end = p.end
            if hi < len(headings) and headings[hi][0] <= p.start + len(body) - len(body.lstrip()):
                h_end = min(p.end, headings[hi][1])
            out.scene_title = " ".join(text[p.start : h_end].split())
            out.title_span = (p.start, h_end)
            if outer is not None:
                out.scene_title = f"{outer[0]} {out.scene_title}"  # as the text has it: the loader finds it
                out.title_span = (outer[1], h_end)
            rest = h_end + len(text[h_end : p.end]) - len(text[h_end : p.end].lstrip())
            if rest < p.end:  # "Title\nby Author" in one paragraph: the line under the title is text
                while ni < len(notes) and notes[ni][1] <= rest:
                    ni += 1
                noted = ni < len(notes) and notes[ni][0] < p.end
                out.add("note" if noted or _NOTE.match(text, rest, p.end) else "narration", rest, p.end)
            continue
        if _is_marker(body):
            out.close_scene()
            att.reset()
            trace.append(None)
            after_thought = False
            continue
        while ni < len(notes) and notes[ni][1] <= p.start:
            ni += 1
        if (_NOTE.match(text, p.start, p.end) or (ni < len(notes) and notes[ni][0] < p.end)
                or _author_aside(text, p.start, p.end)):
            out.add("note", p.start, p.end)
            continue
        found = pre_quotes[n]
        quotes = found if found is not None else find_quotes(text, p.start, p.end, style)
        if (warnings is not None and quotes and quotes[-1].close < 0 and quotes[-1].kind in ("double", "single")
                and not _closed_later(text, paras, n, style)):
            unclosed.append(_unclosed_warning(doc, p, quotes[-1]))
        while ii < len(italics) and italics[ii][1] <= p.start:
            ii += 1
        local: list[tuple[int, int]] = []
        k = ii
        while k < len(italics) and italics[k][0] < p.end:
            local.append(italics[k])
            k += 1
        if local:
            extra = _italic_thoughts(doc, p, quotes, local)
            if extra:
                quotes = sorted([*quotes, *extra], key=lambda q: q.start)
        inner = _unquoted_thoughts(text, p, quotes, reply=after_thought)
        if inner:
            quotes = sorted([*quotes, *inner], key=lambda q: q.start)
        after_thought = False
        if not quotes:
            att.paragraph(p.start, p.end, [])
            trace.append((p.start, p.end, (), (), att.last_mentions))
            out.add("narration", p.start, p.end)
            continue
        voices = att.paragraph(p.start, p.end, quotes)
        trace.append((p.start, p.end, quotes, list(voices), att.last_mentions))  # the turn pass may extend `voices`
        _emit_voiced(out, text, p, quotes, voices, local, unmarked={q.start for q in inner}, names=names)
        after_thought = bool(out.beats) and out.beats[-1].kind == "thought"
    if progress is not None:
        progress(total, total)
    if warnings is not None:
        warnings.extend(unclosed[:MAX_QUOTE_WARNINGS])
        if len(unclosed) > MAX_QUOTE_WARNINGS:
            warnings.append(f"{doc.name or '<input>'}: warning: {len(unclosed) - MAX_QUOTE_WARNINGS} more "
                            "quotes are never closed; fix the ones above first")
    out.keep_stranded_title()
    out.close_scene()
    att.settle()
    (ranker if ranker is not None else default_ranker()).rerank(text, names, trace, att.narrator)
    _revise(out)
    if not out.content:
        where = doc.name or "<input>"
        raise StoryImportError(f"{where}: no story text found (only headings or scene-break markers); "
                               "check that this is the story file")
    return Story(slug=slug, title=title or doc.title or slug, scenes=tuple(out.scenes),
                 characters=tuple(characters), text=text, author=doc.author)


_FIRST_PERSON = re.compile(r"(?<![\w'’])I(?![\w'’])")
_THIRD_PERSON = re.compile(r"(?<![\w'’])(?:[Hh]e|[Ss]he)(?![\w'’])")


def _narrator(text: str, paras: list[_Para], quotes: list[list[Quote] | None], names: NameIndex,
              cast: Sequence[Character]) -> str | None:
    """The cast member telling a first-person story ("said I"): named in other people's speech,
    hardly ever in the narration. A cast alias "I" or "narrator" says so outright."""
    for c in cast:
        if any(a.strip().lower() in ("i", "narrator", "the narrator") for a in c.aliases):
            return c.key
    first = third = 0
    inside: dict[str, int] = {}
    outside: dict[str, int] = {}
    for p, qs in zip(paras, quotes, strict=True):
        if qs is None:
            continue
        pos = p.start
        spans = [(q.start, q.end) for q in qs]
        for a, b in [*spans, (p.end, p.end)]:
            if a > pos:
                first += len(_FIRST_PERSON.findall(text, pos, a))
                third += len(_THIRD_PERSON.findall(text, pos, a))
            pos = max(pos, b)
        if not spans:
            for m in names.find(text, p.start, p.end):
                outside[m.key] = outside.get(m.key, 0) + 1
            continue
        for m in names.find(text, p.start, p.end):
            hit = any(a <= m.start < b for a, b in spans)
            d = inside if hit else outside
            d[m.key] = d.get(m.key, 0) + 1
    if first < 3 or first * 10 < third:
        return None
    best, score = None, 0
    for key, n in inside.items():
        sc = n - 3 * outside.get(key, 0)
        if n >= 2 and sc > score:
            best, score = key, sc
    return best


def _revise(out: _Builder) -> None:
    """Beats whose voice the attributor's turn-taking pass changed afterwards, rebuilt."""
    changed: dict[int, Beat] = {}
    for i, v in out.voiced:
        b = out.beats[i]
        if v.speakers and (b.speaker != v.speakers[0] or b.confidence != v.confidence):
            changed[i] = replace(b, speaker=v.speakers[0], speakers=v.speakers if len(v.speakers) > 1 else (),
                                 confidence=v.confidence, review=v.confidence < REVIEW_BELOW, runner_up=v.runner_up)
    if changed:
        out.scenes = [Scene(s.index, s.title, tuple(changed.get(b.index, b) for b in s.beats)) for s in out.scenes]


def _italic_runs(start: int, end: int, italics: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Italic runs inside [start, end), nested/overlapping runs merged into the outer one (the
    same rule the script loader uses, so export and segment agree)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted((max(a, start), min(b, end)) for a, b in italics if a < end and b > start):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _own_lead(text: str, a: int, q0: int, v: SpeakerGuess, names: NameIndex) -> int:
    """Where the narration in front of a line stops being the scene's and becomes the speaker's:
    only the one sentence right before the words, when it is the speaker's own action ("Gaara
    nodded. “…”") or names them first; whatever comes before ("By the time they came to a
    waterfall it was nearing night.", "He felt ashamed…" before someone else's line) is
    narration, posted as such rather than under the speaker's name. Returns `a` to keep all."""
    starts = [s for s in (a, *sentence_ends(text, a, q0)) if s < q0 and _WORD.search(text, s, q0)]
    if not starts or not v.speakers:
        return a
    last = skip_space(text, starts[-1], q0)
    own = v.source in ("action", "tag_before")
    if not own:
        first = names.find(text, last, min(q0, last + 60))
        own = bool(first) and first[0].start == last and first[0].key in v.speakers
    cut = last if own else q0
    return a if cut <= skip_space(text, a, q0) else cut


def _emit_voiced(out: _Builder, text: str, p: _Para, quotes: list[Quote], voices: list[SpeakerGuess],
                 italics: Sequence[tuple[int, int]] = (), unmarked: set[int] | frozenset[int] = frozenset(),
                 names: NameIndex | None = None) -> None:
    # consecutive quotes with the same voice form one beat
    runs: list[tuple[list[Quote], SpeakerGuess]] = []
    for q, v in zip(quotes, voices, strict=True):
        if runs and runs[-1][1].speakers == v.speakers and runs[-1][1].thought == v.thought:
            runs[-1][0].append(q)
        else:
            runs.append(([q], v))
    cuts = [p.start]
    for r in range(1, len(runs)):
        last_q = runs[r - 1][0][-1]
        first_q = runs[r][0][0]
        gap0 = last_q.close + 1 if last_q.close >= 0 else last_q.end
        gap1 = first_q.open if first_q.open >= 0 else first_q.start
        cut = gap0
        if runs[r - 1][1].source in ("tag_after", "action_after"):
            ends = sentence_ends(text, gap0, gap1)
            cut = ends[0] if ends else gap1
        cut = max(cut, cuts[-1])
        cuts.append(min(cut, gap1))
    cuts.append(p.end)
    for r, (qs, v) in enumerate(runs):
        a, b = cuts[r], cuts[r + 1]
        kind: BeatKind = "thought" if v.thought else "dialogue"
        spans = [(q.start, q.end) for q in qs]
        if qs[0].start in unmarked and sentence_ends(text, a, qs[0].start):
            # narration before a thought without marks ("Gaara mentally shook his head. Get a
            # grip…") is a beat of its own: the thought beat is then the inner voice and its tag
            out.add("narration", a, qs[0].start)
            a = qs[0].start
        elif names is not None:
            keep = _own_lead(text, a, qs[0].open if qs[0].open >= 0 else qs[0].start, v, names)
            if keep > a:
                out.add("narration", a, keep)
                a = keep
        if italics and all(q.kind == "italic" for q in qs):
            # a beat voiced by italics: every italic run in it is its words ("*She'll go
            # first,* he thought. *She always does.*"), not only the one that was recognised
            spans = _italic_runs(a, b, italics) or spans
        out.add(kind, a, b, v.speakers, spans, v)


# ----------------------------------------------------------------------------- cast discovery

def discover_cast(doc: Document) -> list[Character]:
    """Characters found in the text: recurring capitalised names next to speech verbs, with
    honorific and full-name forms as aliases and a pronoun guessed from nearby he/she."""
    from bot.story.castfinder import find_cast, metadata_names

    return find_cast(doc.text, hints=metadata_names(doc.text, doc.notes))
