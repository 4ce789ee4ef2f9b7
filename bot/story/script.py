"""The script format: a segmented story as plain text a moderator can fix in any editor.

```
# comments start with '#'
=== Scene 1: After the battle ===
NARRATION: The sand had stopped moving.

GAARA: “Lee.” Gaara's voice was hoarse, and the words
    after an indented line break continue the same beat.

GAARA (thought): “He came back for me,” Gaara thought.

KIBA + NARUTO: “Yes!” Kiba and Naruto said together.

NOTE: A/N: thanks for reading!
```

Every beat is `LABEL: text`; the label is NARRATION, NOTE, UNKNOWN (a line whose speaker is
not known) or one or more speakers (key, display name or alias, any case) joined by `+`,
optionally followed by `(thought)`. Blank lines separate beats; indented lines continue the
beat above (a wrap, joined with one space). The script stores no offsets: `align` recomputes
each beat's place in the source text at load time, so hand edits never leave stale numbers.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from bot.story.model import MAX_BEAT_CHARS, Beat, BeatKind, Character, Scene, Story
from bot.story.quotes import (
    SPEECH_VERBS,
    THOUGHT_VERBS,
    QuoteStyle,
    detect_style,
    find_quotes,
    word_alternation,
)

SCRIPT_NAME = "script.txt"
WRAP_WIDTH = 100
_INDENT = "    "

_WS = re.compile(r"\s+")
_SCENE = re.compile(r"^===+(.*?)===+\s*$")
_SCENE_INNER = re.compile(r"^\s*scene\b\s*(\d+)?\s*(?::\s*(.*?))?\s*$", re.IGNORECASE)
_LABEL = re.compile(r"^(?P<names>[^()]*?)\s*(?:\(\s*(?P<kind>[^()]*?)\s*\))?\s*$")
_WORDY = re.compile(r"\w")

NARRATION_LABELS = ("narration", "narrator")
NOTE_LABELS = ("note", "a/n", "author's note")
UNKNOWN_LABELS = ("unknown", "?")
_THOUGHT_KINDS = ("thought", "thinks", "thinking")
_SPEECH_KINDS = ("dialogue", "says", "said", "speech")
RESERVED_LABELS = frozenset(NARRATION_LABELS + NOTE_LABELS + UNKNOWN_LABELS)


@dataclass(frozen=True, slots=True)
class ScriptBeat:
    """One beat as written in the script, before it is placed in the source."""

    line: int
    kind: BeatKind
    speakers: tuple[str, ...]  # keys; empty for narration, notes and UNKNOWN lines
    text: str  # the words, wrapped lines joined with single spaces
    review: bool = False  # a `#?` review marker stands above it
    confidence: float | None = None  # the importer's confidence, as the marker gives it


@dataclass(frozen=True, slots=True)
class ReviewMark:
    """A `#? CHECK:` line above a beat: the importer was unsure of that beat's speaker."""

    line: int  # the beat's first line (the marker is the line above)
    label: str  # the beat's label as written (the guessed speaker)
    runner_up: str | None  # the next most likely speaker the marker names
    confidence: float | None
    words: str  # the beat's text


# A line the importer was unsure of carries this comment line above it; a moderator who has
# checked the speaker deletes the marker (it is a comment, so a script with markers is valid).
REVIEW_PREFIX = "#?"
_REVIEW = re.compile(r"^#\?\s*(?:CHECK\b[:\s]*)?(?:.*?\((?P<conf>\d{1,3})\s*%\))?"
                     r"(?:.*?\bor\s+(?P<runner>[^?]+?)\s*\?)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ScriptScene:
    line: int  # 0 when the script starts without a scene header
    title: str | None
    beats: tuple[ScriptBeat, ...]


# ---------------------------------------------------------------------------------------------
# Writing


def label_for(beat: Beat) -> str:
    if beat.kind == "narration":
        return "NARRATION"
    if beat.kind == "note":
        return "NOTE"
    keys = beat.speakers or ((beat.speaker,) if beat.speaker else ())
    names = " + ".join(k.upper() for k in keys) if keys else "UNKNOWN"
    return f"{names} (thought)" if beat.kind == "thought" else names


def _one_line(text: str) -> str:
    return _WS.sub(" ", text).strip()


def render_beat(beat: Beat, *, width: int = WRAP_WIDTH) -> str:
    first = f"{label_for(beat)}: "
    lines = textwrap.wrap(
        _one_line(beat.text), width=width, initial_indent=first, subsequent_indent=_INDENT,
        break_long_words=False, break_on_hyphens=False,
    )
    return "\n".join(lines) if lines else first.rstrip()


def review_line(beat: Beat) -> str:
    """The `#? CHECK:` marker written above a beat the importer is unsure of."""
    conf = f" ({round(100 * beat.confidence)}%)" if beat.confidence is not None else ""
    other = f", or {beat.runner_up.upper()}?" if beat.runner_up else ""
    return (f"{REVIEW_PREFIX} CHECK: {label_for(beat)}{conf}{other} "
            "Fix the name if needed, then delete this line.")


def render_script(story: Story, *, width: int = WRAP_WIDTH, note: str = "") -> str:
    """The script text for `story` (what `parse_script` + `align` read back)."""
    out = [
        f"# {story.title} — script: one beat per block, blank lines between beats.",
        "#",
        "# Each beat starts with who speaks, before the colon:",
        "#   NARRATION: ...            the narrator",
        "#   GAARA: ...                dialogue spoken by that character (key, name or alias, any case)",
        "#   GAARA (thought): ...      a thought",
        "#   KIBA + NARUTO: ...        a line several characters say together",
        "#   UNKNOWN: ...              dialogue whose speaker the importer could not tell: put a name",
        "#   NOTE: ...                 an author's note (played only when include_notes = true)",
        "# Fix a wrong speaker by changing the name before the colon. Indented lines continue the",
        "# beat above. '=== Scene N: title ===' starts a scene. Lines starting with '#' are comments.",
        f"# '{REVIEW_PREFIX} CHECK: ...' above a beat: the importer was unsure who speaks it (its guess, how",
        "# sure, the runner-up). Check it, fix the name if needed, then delete the '#?' line.",
        f"# After editing run:  narrator check {story.slug}",
    ]
    if story.characters:
        out.append("#")
        out.append("# Speakers:")
        for c in story.characters:
            extra = f" — also {', '.join(c.aliases)}" if c.aliases else ""
            out.append(f"#   {c.key.upper()} = {c.name}{extra}")
    if note:
        out.append("#")
        out.extend(f"# {line}".rstrip() for line in note.splitlines())
    for scene in story.scenes:
        title = _one_line(scene.title or "")
        head = f"=== Scene {scene.index + 1}: {title} ===" if title else f"=== Scene {scene.index + 1} ==="
        out.append("")
        out.append(head)
        for beat in scene.beats:
            out.append("")
            if beat.review and beat.kind in ("dialogue", "thought"):
                out.append(review_line(beat))
            out.append(render_beat(beat, width=width))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Reading


class SpeakerIndex:
    """Resolves a label's names to cast keys: key first, then display name, then alias."""

    def __init__(self, characters: Sequence[Character]) -> None:
        self.keys = [c.key for c in characters]
        self._by_key = {c.key.casefold(): c.key for c in characters}
        self._by_name: dict[str, set[str]] = {}
        self._by_alias: dict[str, set[str]] = {}
        for c in characters:
            self._by_name.setdefault(_one_line(c.name).casefold(), set()).add(c.key)
            for a in c.aliases:
                self._by_alias.setdefault(_one_line(a).casefold(), set()).add(c.key)

    def resolve(self, name: str) -> tuple[str | None, str]:
        """(key, "") or (None, why it failed; what to do)."""
        wanted = _one_line(name).casefold()
        if wanted in self._by_key:
            return self._by_key[wanted], ""
        for table in (self._by_name, self._by_alias):
            found = table.get(wanted)
            if found and len(found) == 1:
                return next(iter(found)), ""
            if found:
                return None, (f"speaker {name!r} could mean {' or '.join(sorted(found))}; "
                              "write the key instead")
        known = ", ".join(k.upper() for k in self.keys) or "(the cast is empty)"
        close = difflib.get_close_matches(
            wanted, [*self._by_key, *self._by_name, *self._by_alias], n=1, cutoff=0.75)
        hint = ""
        if close:
            key, _ = self.resolve(close[0])
            if key:
                hint = f"did you mean {key.upper()}? "
        return None, (f"unknown speaker {name!r}; {hint}use one of {known} (or NARRATION, NOTE, "
                      "UNKNOWN), or add the character to story.toml")


def _parse_label(label: str, speakers: SpeakerIndex, where: str,
                 errors: list[str]) -> tuple[BeatKind, tuple[str, ...]] | None:
    m = _LABEL.match(label)
    if not m or not m.group("names").strip():
        errors.append(f"{where}: cannot read the speaker label {label!r}; write it like "
                      "'GAARA:' or 'GAARA (thought):' or 'NARRATION:'")
        return None
    names = [n.strip() for n in re.split(r"[+&]", m.group("names"))]
    kind_word = (m.group("kind") or "").casefold()
    if kind_word and kind_word not in _THOUGHT_KINDS + _SPEECH_KINDS:
        errors.append(f"{where}: unknown kind '({m.group('kind')})'; write '(thought)' for a "
                      "thought, or nothing for spoken dialogue")
        return None
    thought = kind_word in _THOUGHT_KINDS
    if len(names) == 1:
        word = names[0].casefold()
        if word in NARRATION_LABELS or word in NOTE_LABELS:
            if kind_word:
                errors.append(f"{where}: {names[0].upper()} cannot be '({m.group('kind')})'; "
                              "put a character's name before the brackets instead")
                return None
            return ("narration" if word in NARRATION_LABELS else "note"), ()
        if word in UNKNOWN_LABELS:
            return ("thought" if thought else "dialogue"), ()
    keys: list[str] = []
    ok = True
    for name in names:
        if not name:
            errors.append(f"{where}: empty name in {label!r}; join speakers like 'KIBA + NARUTO'")
            ok = False
            continue
        if name.casefold() in RESERVED_LABELS:
            errors.append(f"{where}: {name.upper()} cannot be part of a group line; "
                          "list only characters, like 'KIBA + NARUTO'")
            ok = False
            continue
        key, why = speakers.resolve(name)
        if key is None:
            errors.append(f"{where}: {why}")
            ok = False
        elif key not in keys:
            keys.append(key)
    if not ok:
        return None
    return ("thought" if thought else "dialogue"), tuple(keys)


def parse_script(text: str, characters: Sequence[Character], *,
                 path: str = SCRIPT_NAME) -> tuple[list[ScriptScene], list[str]]:
    """Read a script. Returns (scenes, errors); every error is `path:line: what; what to do`."""
    speakers = SpeakerIndex(characters)
    errors: list[str] = []
    scenes: list[ScriptScene] = []
    scene_line, scene_title = 0, None
    beats: list[ScriptBeat] = []
    # the beat being read: (line, label result, text parts)
    open_line = 0
    open_head: tuple[BeatKind, tuple[str, ...]] | None = None
    open_parts: list[str] = []
    open_valid = False
    open_review: tuple[bool, float | None] = (False, None)
    pending_review: tuple[bool, float | None] = (False, None)  # a `#?` line above the next beat

    def close_beat() -> None:
        nonlocal open_line, open_head, open_parts, open_valid, open_review
        if open_valid:
            words = _one_line(" ".join(open_parts))
            if not words:
                errors.append(f"{path}:{open_line}: beat has no text; write the words after the "
                              "colon, or delete the line")
            elif open_head is not None:
                beats.append(ScriptBeat(open_line, open_head[0], open_head[1], words, *open_review))
        open_line, open_head, open_parts, open_valid = 0, None, [], False
        open_review = (False, None)

    def close_scene(next_line: int) -> None:
        nonlocal beats
        close_beat()
        if beats:
            scenes.append(ScriptScene(scene_line, scene_title, tuple(beats)))
        elif scene_line:
            errors.append(f"{path}:{scene_line}: scene has no beats; add beats below the header "
                          "or delete it")
        beats = []

    lines = text.split("\n")
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        where = f"{path}:{number}"
        if not line.strip():
            close_beat()
            continue
        if line.startswith("#"):
            if line.startswith(REVIEW_PREFIX):
                close_beat()
                mark = _REVIEW.match(line)
                conf = mark.group("conf") if mark else None
                pending_review = (True, min(100, int(conf)) / 100 if conf else None)
            continue
        if line[0].isspace():
            if open_line:
                open_parts.append(line.strip())
            else:
                errors.append(f"{where}: indented line does not continue a beat (is there a blank "
                              "line above it?); start it with a speaker like 'NARRATION:' or join "
                              "it to the beat above")
            continue
        scene = _SCENE.match(line)
        if scene:
            close_scene(number)
            inner = scene.group(1).strip()
            head = _SCENE_INNER.match(inner)
            scene_line = number
            scene_title = (head.group(2) or None) if head else (inner or None)
            continue
        close_beat()
        label, colon, rest = line.partition(":")
        if not colon or not label.strip() or len(label) > 120:
            errors.append(f"{where}: line does not start with a speaker label; write "
                          "'NARRATION: text' or 'NAME: text', or indent it to continue the beat "
                          "above")
            continue
        head_result = _parse_label(label.strip(), speakers, where, errors)
        open_line = number
        open_head = head_result
        open_parts = [rest.strip()]
        open_valid = head_result is not None
        open_review, pending_review = pending_review, (False, None)
        if head_result is None:  # the error is reported; keep its continuation lines quiet
            open_valid = False
    close_scene(len(lines) + 1)
    if not scenes and not errors:
        errors.append(f"{path}:1: the script has no beats; re-import the story or write beats "
                      "like 'NARRATION: text'")
    return scenes, errors


def review_marks(text: str) -> list[ReviewMark]:
    """Every `#? CHECK:` marker of a script that stands above a beat, in order."""
    out: list[ReviewMark] = []
    lines = text.split("\n")
    for i, raw in enumerate(lines):
        if not raw.startswith(REVIEW_PREFIX):
            continue
        j = i + 1
        while j < len(lines) and lines[j].startswith(REVIEW_PREFIX):
            j += 1
        if j >= len(lines) or not lines[j].strip() or lines[j][0].isspace() or lines[j].startswith("#"):
            continue
        label, colon, rest = lines[j].partition(":")
        if not colon:
            continue
        parts = [rest.strip()]
        k = j + 1
        while k < len(lines) and lines[k][:1].isspace() and lines[k].strip():
            parts.append(lines[k].strip())
            k += 1
        mark = _REVIEW.match(raw)
        conf = mark.group("conf") if mark else None
        runner = mark.group("runner") if mark else None
        out.append(ReviewMark(j + 1, label.strip(), runner.strip() if runner else None,
                              min(100, int(conf)) / 100 if conf else None, " ".join(parts)))
    return out


# ---------------------------------------------------------------------------------------------
# Quotes


_DOUBLE = "\"“”„‟«»"
_SINGLE = "'‘’‚‛"
_DASHES = "—―–"


def quote_spans(text: str, style: QuoteStyle | None = None) -> list[tuple[int, int]]:
    """Spans (inside the marks) of the quoted words in one beat's text, found the way the
    segmenter finds them (`bot.story.quotes`); `style` defaults to the text's own."""
    spans, _ = _beat_quotes(text, 0, len(text), style or detect_style(text), carry=False)
    return spans


def _first_close(text: str, start: int, end: int, style: QuoteStyle) -> int:
    for j in range(start, end):
        ch = text[j]
        if style == "double" and ch in _DOUBLE:
            return j
        if style == "single" and ch in _SINGLE and not text[j - 1].isspace() and (
                j + 1 >= len(text) or not text[j + 1].isalnum()):
            return j
    return -1


def _beat_quotes(text: str, start: int, end: int, style: QuoteStyle,
                 carry: bool) -> tuple[list[tuple[int, int]], bool]:
    """Quotes of text[start:end] and whether the beat ends inside an open quote.

    `carry`: the previous beat of the same paragraph ended inside a quote (a long speech split
    at a sentence), so this beat starts inside it unless it opens with a quote mark itself.
    """
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end and text[pos].isspace():
        pos += 1
    if carry and pos < end and text[pos] not in _DOUBLE + _SINGLE + _DASHES:
        close = _first_close(text, pos, end, style)
        if close < 0:
            stop = end
            while stop > pos and text[stop - 1].isspace():
                stop -= 1
            return [(pos, stop)], True
        if close > pos:
            spans.append((pos, close))
        pos = close + 1
    found = find_quotes(text, pos, end, style)
    spans.extend((q.start, q.end) for q in found)
    still_open = bool(found) and found[-1].close < 0 and found[-1].open >= 0
    return spans, still_open


# ---------------------------------------------------------------------------------------------
# Placing beats in the source


class _Squeezed:
    """The source with every whitespace run made one space, plus the way back to real offsets."""

    def __init__(self, text: str) -> None:
        self.text = _WS.sub(" ", text)
        self._starts: list[int] = []  # squeezed index of each shortened run's single space
        self._removed: list[int] = [0]  # characters removed before run k
        removed = 0
        for m in _WS.finditer(text):
            size = m.end() - m.start()
            if size > 1:
                self._starts.append(m.start() - removed)
                removed += size - 1
                self._removed.append(removed)

    def original(self, index: int) -> int:
        return index + self._removed[bisect_left(self._starts, index)]


@dataclass(frozen=True, slots=True)
class Placement:
    start: int
    end: int
    matched: bool


def place_beats(beats: Sequence[ScriptBeat], source: str) -> list[Placement]:
    """Find each beat's words in `source`, in order, ignoring differences in whitespace.

    A beat whose words are not found (edited by hand) gets the stretch of source between its
    neighbours. Linear: each search starts where the previous beat ended.
    """
    sq = _Squeezed(source)
    needles = [_one_line(b.text) for b in beats]
    found: list[tuple[int, int] | None] = []
    pos = 0
    for i, needle in enumerate(needles):
        m = sq.text.find(needle, pos) if needle else -1
        if m >= 0 and sq.text[pos:m].strip():
            # Something lies between the last beat and this match: make sure the match is not a
            # later repeat of an edited beat's words by checking where the next beat sits.
            nxt = needles[i + 1] if i + 1 < len(needles) else ""
            n = sq.text.find(nxt, pos) if nxt else -1
            if 0 <= n < m:
                m = -1
        if m < 0:
            found.append(None)
            continue
        end = m + len(needle)
        found.append((sq.original(m), sq.original(end - 1) + 1))
        pos = end
    out: list[Placement] = []
    prev_end = 0
    for i, f in enumerate(found):
        if f is not None:
            out.append(Placement(f[0], f[1], True))
            prev_end = f[1]
            continue
        nxt_start = next((g[0] for g in found[i + 1:] if g is not None), len(source))
        a, b = prev_end, max(prev_end, nxt_start)
        while a < b and source[a].isspace():
            a += 1
        while b > a and source[b - 1].isspace():
            b -= 1
        out.append(Placement(a, b, False))
    return out


_TAG_VERB = word_alternation(SPEECH_VERBS | THOUGHT_VERBS)  # a trie: hundreds of verbs at the cost of a few
_TAG_SUBJECT = r"(?:[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?|[Hh]e|[Ss]he|[Tt]hey|I|[Tt]he\s+\w+)"
# A speech or thought tag starting a clause: "Gaara responded", "he thought to himself",
# "Shukaku cackled", "thought Gaara".
_TAG_CLAUSE = re.compile(
    rf"(?:{_TAG_SUBJECT})\s+(?:\w+ly\s+)?(?:{_TAG_VERB})(?![\w'’-])|(?:{_TAG_VERB})\s+(?:{_TAG_SUBJECT})(?![\w'’-])")
_CLAUSE_START = re.compile(r"[,.!?…;:—–][*_’'\"”)]*\s+")
_CLAUSE_END = re.compile(r"[.;!?…]")


def unquoted_thought_spans(text: str) -> list[tuple[int, int]]:
    """The thought's own words in a thought beat written without quote marks or italics,
    as offsets into `text`:

    - the words before a tag: "Must've thought I came to kill him, he thought to himself." and
      "Shut up Shukaku, you will not interfere. Gaara responded, and slammed …";
    - and after it, when the tag clause ends with a semicolon: "He is an unusual ninja, thought
      Gaara as he followed Lee; he has no skill …";
    - a tag first ("Gaara thought: …"): the words after it;
    - no tag: the whole beat (put the narration around a thought in a NARRATION beat of its own).
    """
    # a tag after the words first: a capitalised first word may be a name or just a sentence start
    starts = [*(m.end() for m in _CLAUSE_START.finditer(text)), 0]
    for p in starts:
        tag = _TAG_CLAUSE.match(text, p)
        if tag is None:
            continue
        spans: list[tuple[int, int]] = []
        if p > 0:
            end = p
            while end > 0 and text[end - 1].isspace():
                end -= 1
            spans.append((0, end))
        stop = _CLAUSE_END.search(text, tag.end())
        rest = -1
        if p == 0:
            lead = re.compile(r"[,:—–]\s*").search(text, tag.end())
            rest = lead.end() if lead else -1
        elif stop is not None and stop.group() == ";":
            rest = stop.end()
        if rest >= 0:
            while rest < len(text) and text[rest].isspace():
                rest += 1
            end = len(text.rstrip())
            if rest < end and _WORDY.search(text[rest:end]):
                spans.append((rest, end))
        if spans:
            return _trim_emphasis(text, spans)
    end = len(text.rstrip())
    return _trim_emphasis(text, [(0, end)]) if _WORDY.search(text) else []


def _trim_emphasis(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Markdown emphasis marks around the words (`*Not yet,*`) are not part of them."""
    out = []
    for a, b in spans:
        while a < b and text[a] in "*_":
            a += 1
        while b > a and text[b - 1] in "*_":
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def _italic_quotes(start: int, end: int,
                   italics: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Italic runs inside [start, end); nested or overlapping runs (a ship's name in italics
    inside an italic thought) count once, as the outer run, so quotes never overlap."""
    out: list[tuple[int, int]] = []
    for a, b in sorted((max(a, start), min(b, end)) for a, b in italics if a < end and b > start):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def build_scenes(script: Sequence[ScriptScene], source: str, *, path: str = SCRIPT_NAME,
                 source_name: str = "source.txt", italics: Sequence[tuple[int, int]] = (),
                 ) -> tuple[tuple[Scene, ...], list[str], list[str]]:
    """Place the script's beats in `source`; returns (scenes, errors, warnings)."""
    flat = [b for s in script for b in s.beats]
    places = place_beats(flat, source)
    errors: list[str] = []
    warnings: list[str] = []
    scenes: list[Scene] = []
    titles = [_one_line(s.title or "") for s in script if s.title]
    index = 0
    prev_end = 0
    prev_matched = True
    style = detect_style(source)
    carry = False  # the last placed beat ended inside an open quote
    last_start = last_end = 0
    for si, sc in enumerate(script):
        beats: list[Beat] = []
        for sb in sc.beats:
            place = places[index]
            where = f"{path}:{sb.line}"
            if place.matched:
                text = source[place.start:place.end]
                gap = _WS.sub(" ", source[prev_end:place.start]) if prev_matched else ""
                for t in sorted(titles, key=len, reverse=True):  # "CHAPTER II" before "CHAPTER I"
                    gap = gap.replace(t, "", 1) if t else gap  # (a title may span lines in the source)
                if _WORDY.search(_WS.sub(" ", gap)):
                    shown = _one_line(gap)
                    shown = shown if len(shown) <= 60 else shown[:57] + "..."
                    warnings.append(f"{where}: warning: the source text before this beat is in no "
                                    f"beat ({shown!r}); add it back if it was deleted by mistake")
                prev_end, prev_matched = place.end, True
            else:
                text = sb.text
                warnings.append(f"{where}: warning: this beat's text is not in {source_name} "
                                "(edited?); it will be played as written — check the spelling if "
                                "it should match")
                prev_matched = False
            if len(text) > MAX_BEAT_CHARS:
                errors.append(f"{where}: beat is {len(text):,} characters, over Discord's "
                              f"{MAX_BEAT_CHARS:,}-character message limit; split it into two "
                              "beats (a blank line, then the same label again)")
            quotes: tuple[tuple[int, int], ...] = ()
            if place.matched:
                # A beat continues the previous one's paragraph when only spaces lie between
                # them (or one line break, in hard-wrapped text).
                gap_text = source[last_end:place.start]
                same_paragraph = "\n" not in gap_text or (
                    gap_text.count("\n") == 1 and "\n" in source[last_start:last_end])
                spans, carry = _beat_quotes(source, place.start, place.end, style,
                                            carry and same_paragraph)
                last_start, last_end = place.start, place.end
            else:
                local, _ = _beat_quotes(text, 0, len(text), style, False)
                spans = [(place.start + a, place.start + b) for a, b in local]
                carry = False
            if sb.kind in ("dialogue", "thought"):
                quotes = tuple(spans)
                if not quotes and place.matched:
                    quotes = _italic_quotes(place.start, place.end, italics)
                if not quotes and sb.kind == "thought":
                    quotes = tuple((place.start + a, place.start + b)
                                   for a, b in unquoted_thought_spans(text))
            speaker = sb.speakers[0] if sb.speakers else None
            group = sb.speakers if len(sb.speakers) > 1 else ()  # the model's convention
            review = sb.review and sb.kind in ("dialogue", "thought")
            beats.append(Beat(index=index, scene=si, kind=sb.kind, text=text, speaker=speaker,
                              speakers=group, source=(place.start, place.end),
                              quotes=quotes, review=review,
                              confidence=sb.confidence if review else None))
            index += 1
        scenes.append(Scene(index=si, title=sc.title, beats=tuple(beats)))
    if prev_matched and flat:
        tail = source[prev_end:]
        if _WORDY.search(tail):
            shown = _one_line(tail)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            warnings.append(f"{path}:{flat[-1].line}: warning: the source text after the last beat "
                            f"is in no beat ({shown!r}); add it back if it was deleted by mistake")
    unmatched = [w for w in warnings if "this beat's text is not in" in w]
    if len(unmatched) > 10 and len(unmatched) * 4 > len(flat):
        # Most of the script does not match: the source was replaced, not a few lines edited.
        first = unmatched[0].split(": warning: ")[0]
        warnings = [w for w in warnings if w not in unmatched]
        warnings.insert(0, f"{first}: warning: {len(unmatched)} of {len(flat)} beats are not in "
                        f"{source_name}; was the source replaced? Re-import it to rebuild the "
                        "script (your edited script is kept)")
    return tuple(scenes), errors, warnings
