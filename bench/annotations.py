"""Gold speaker annotations (`*.annotated.txt`) and the accuracy figures computed from them.

Format (see team CONTRACTS): the exact story text, except that right AFTER the closing quote
mark of every quoted span there is `{KEY}`, `{KEY1+KEY2}` (group line), `{?}` (speaker not
determinable) or `{-}` (quote marks that are not speech), optionally followed by `:thought`.
A speech paragraph that ends without a closing quote has its marker at the end of the paragraph.

Words that are not in quote marks are annotated by putting `{<}` where they start and the
marker right after their last character: unquoted inner speech
(`{<}Shut up Shukaku, you will not interfere.{gaara:thought} Gaara responded.`) and authors'
notes (`{<}(Now this is the last we see of them.){-:note}`: label `-`, kind `note`). Such golds
have `quoted = False`; the attribution figures count quoted spans only (the unquoted ones are
scored apart, see `Score.unquoted`).
Stripping every marker gives the plain text exactly. The cast sits beside it as
`<name>.cast.toml` (`[[character]]` with name, aliases, pronouns, optional key).

Used by bench/attribution.py and by tests/story/test_attribution_gold.py.
"""

from __future__ import annotations

import bisect
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.story.model import Character, Story  # noqa: E402
from bot.story.quotes import SPEECH_VERBS, THOUGHT_VERBS  # noqa: E402
from bot.story.readers import read_document  # noqa: E402
from bot.story.segmenter import segment  # noqa: E402

MARKER = re.compile(r"\{(?:(<)|(\?|-|[A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*)(?::(thought|note))?)\}")
_CLOSE_TO_OPEN = {"”": "“", "’": "‘", '"': '"', "'": "'", "»": "«"}
_DASHES = "—―–"


@dataclass(frozen=True)
class Gold:
    start: int  # inside the quote marks, offsets into the plain text
    end: int
    label: str  # "key", "?" or "-"
    keys: tuple[str, ...] = ()
    thought: bool = False
    quoted: bool = True  # False: unquoted inner speech or a note, marked with `{<}…{KEY:thought}`
    note: bool = False

    @property
    def kind(self) -> str:
        """"dialogue", "thought" or "note" ("-" for quote marks that are not speech)."""
        if self.note:
            return "note"
        if self.label == "-":
            return "-"
        return "thought" if self.thought else "dialogue"


@dataclass(frozen=True)
class Annotated:
    name: str
    raw: str  # with markers
    text: str  # plain
    golds: tuple[Gold, ...]
    cast: tuple[Character, ...]


def parse_annotated(raw: str) -> tuple[str, list[Gold]]:
    """The plain text and the gold spans of an annotated text."""
    parts: list[str] = []
    marks: list[tuple[int, re.Match[str]]] = []
    last = 0
    pos = 0
    for m in MARKER.finditer(raw):
        parts.append(raw[last : m.start()])
        pos += m.start() - last
        marks.append((pos, m))
        last = m.end()
    parts.append(raw[last:])
    text = "".join(parts)
    golds: list[Gold] = []
    opened: int | None = None
    for p, m in marks:
        if m.group(1):  # `{<}`: an unquoted span starts here
            opened = p
            continue
        label = m.group(2)
        kind = "?" if label == "?" else "-" if label == "-" else "key"
        keys = tuple(label.split("+")) if kind == "key" else ()
        if opened is not None:
            golds.append(Gold(opened, p, kind, keys, m.group(3) == "thought", quoted=False,
                              note=m.group(3) == "note"))
            opened = None
            continue
        para0 = text.rfind("\n\n", 0, p)
        para0 = 0 if para0 < 0 else para0 + 2
        while para0 < p and text[para0].isspace():
            para0 += 1
        close = p - 1
        c = text[close] if close >= 0 else ""
        if c in _CLOSE_TO_OPEN and not (c in "’'" and close + 1 < len(text) and text[close + 1 : close + 2].isalpha()):
            opener = _find_open(text, para0, close, _CLOSE_TO_OPEN[c])
            if opener < 0:
                continue
            start, end = opener + 1, close
        else:  # a paragraph that ends inside the speech
            end = p
            while end > para0 and text[end - 1].isspace():
                end -= 1
            if text[para0] in _DASHES:
                start = para0 + 1
                while start < end and text[start] == " ":
                    start += 1
            else:
                opener = max(text.rfind(o, para0, end) for o in ("“", '"', "‘", "«"))
                if opener < 0:
                    continue
                start = opener + 1
        golds.append(Gold(start, end, kind, keys, m.group(3) == "thought",
                          note=m.group(3) == "note"))
    return text, golds


def _find_open(text: str, para0: int, close: int, opener: str) -> int:
    i = close
    while True:
        i = text.rfind(opener, para0, i)
        if i < 0:
            return -1
        if opener not in "'\"" or i == para0 or not text[i - 1].isalnum():
            return i


def to_british(raw: str) -> str:
    """The same annotated text with British quotes: “→‘, ”→’, inner ‘’→“”, straight "→'.
    Character for character, so gold offsets are unchanged."""
    out = []
    n = len(raw)
    depth_single = 0
    for i, ch in enumerate(raw):
        nxt = raw[i + 1] if i + 1 < n else ""
        if ch == "“":
            out.append("‘")
        elif ch == "”":
            out.append("’")
        elif ch == "‘":
            out.append("“")
            depth_single += 1
        elif ch == "’" and depth_single > 0 and (nxt == "{" or not nxt.isalpha()) and not (
            i > 0 and raw[i - 1] in "sS" and nxt == " " and raw[i + 2 : i + 3].islower()
        ):
            out.append("”")
            depth_single -= 1
        elif ch == '"':
            out.append("'")
        else:
            if ch == "\n" and nxt == "\n":
                depth_single = 0
            out.append(ch)
    return "".join(out)


def load_cast(path: Path) -> list[Character]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for c in data.get("character", []):
        name = str(c["name"])
        key = str(c.get("key") or name.split()[0].lower())
        out.append(Character(key=key, name=name, aliases=tuple(c.get("aliases", ())),
                             pronouns=str(c.get("pronouns", ""))))
    return out


def load(path: Path) -> Annotated:
    raw = path.read_text(encoding="utf-8")
    text, golds = parse_annotated(raw)
    stem = path.name[: -len(".annotated.txt")]
    cast_path = path.with_name(stem + ".cast.toml")
    cast = load_cast(cast_path) if cast_path.exists() else []
    return Annotated(stem, raw, text, tuple(golds), tuple(cast))


def corpus_files() -> list[Path]:
    found: list[Path] = []
    for d in (ROOT / "bench" / "corpus", ROOT / "tests" / "data", ROOT / "tests" / "story" / "data"):
        if d.is_dir():
            found.extend(sorted(d.glob("*.annotated.txt")))
    return found


@dataclass
class Score:
    name: str
    gold: int  # speech spans in the gold
    predicted: int
    precision: float
    recall: float
    f1: float
    attributed: int  # spans with a known speaker
    correct: int
    named: int  # spans with an explicit named tag
    named_correct: int
    mistakes: list[str]
    kind_ok: int = 0  # matched spans whose beat kind (thought vs dialogue) agrees with the gold
    kind_total: int = 0
    unquoted: int = 0  # unquoted inner speech in the gold (`{<}…{KEY:thought}`)
    unquoted_correct: int = 0  # … found as a thought of the right character
    notes: int = 0  # authors' notes in the gold (`{<}…{-:note}`)
    notes_found: int = 0  # … inside a beat of kind "note"

    @property
    def accuracy(self) -> float:
        return self.correct / self.attributed if self.attributed else 1.0

    @property
    def named_accuracy(self) -> float:
        return self.named_correct / self.named if self.named else 1.0


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


_VERBS = "|".join(sorted(SPEECH_VERBS | THOUGHT_VERBS, key=len, reverse=True))


def _named_tag_regexes(cast: tuple[Character, ...]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    names = sorted({n for c in cast for n in (*c.names(), *c.name.split()) if len(n) > 1}, key=len, reverse=True)
    if not names:
        return None
    alt = "|".join(re.escape(n) for n in names)
    after = re.compile(rf"^[\s,.!?…—–-]*(?:(?:{alt})(?:-\w+)?(?:['’]s)?\s+(?:\w+ly\s+)?(?:{_VERBS})\b"
                       rf"|(?:{_VERBS})\s+(?:\w+ly\s+)?(?:{alt})\b)")
    before = re.compile(rf"(?:(?:{alt})(?:-\w+)?\s+(?:\w+ly\s+)?(?:{_VERBS})(?:\s+\w+ly)?|(?:{_VERBS})\s+(?:{alt}))\s*[,:—–-]?\s*$")
    return after, before


def discovered_key_map(found: list[Character], gold: tuple[Character, ...]) -> dict[str, str]:
    """Discovered character key -> gold key, by a shared name or alias (case-insensitive)."""
    out: dict[str, str] = {}
    for c in found:
        mine = {n.casefold() for n in c.names()}
        for g in gold:
            theirs = {n.casefold() for n in (*g.names(), *g.name.split())}
            if mine & theirs:
                out[c.key] = g.key
                break
    return out


def score(doc: Annotated, text: str | None = None, *, discover: bool = False) -> tuple[Score, Story]:
    """Score segment() on the plain text (or `text`, e.g. the British edition) against the gold.
    With `discover`, no cast is given: the segmenter finds one, mapped to gold keys by name."""
    plain = doc.text if text is None else text
    story = segment(read_document(plain, fmt="txt", name=doc.name), None if discover else list(doc.cast),
                    slug=doc.name)
    key_map = discovered_key_map(list(story.characters), doc.cast) if discover else {}
    preds: list[tuple[int, int, tuple[str, ...], bool]] = []
    for b in story.beats:
        spk = b.speakers or ((b.speaker,) if b.speaker else ())
        if key_map:
            spk = tuple(key_map.get(k, "?" + k) for k in spk)
        for q0, q1 in b.quotes:
            preds.append((q0, q1, spk, b.kind == "thought"))
    preds.sort()
    starts = [p[0] for p in preds]
    gold = [g for g in doc.golds if g.label != "-" and g.quoted]
    gstarts = [g.start for g in gold]
    hits = 0
    kind_ok = kind_total = 0
    correct = attributed = named = named_correct = 0
    mistakes: list[str] = []
    rx = _named_tag_regexes(doc.cast)
    for g in gold:
        lo = max(0, bisect.bisect_left(starts, g.start) - 3)
        best = None
        cover = 0
        best_ov = 0
        for p in preds[lo:]:
            if p[0] >= g.end:
                break
            ov = _overlap(g.start, g.end, p[0], p[1])
            cover += ov
            if ov > best_ov:
                best, best_ov = p, ov
        found = cover * 2 >= (g.end - g.start)
        if not found and g.start > 0 and plain[g.start - 1 : g.start].strip() == "" and plain[
                plain.rfind("\n", 0, g.start) + 1 : g.start].strip() in _DASHES:
            # em-dash gold runs to the paragraph end (tag included): a predicted quote that
            # starts where the speech starts has found it
            found = best is not None and abs(best[0] - g.start) <= 2
        hits += found
        if found and best is not None and g.label == "key":
            kind_total += 1
            kind_ok += best[3] == g.thought
        if g.label != "key":
            continue
        attributed += 1
        ok = found and best is not None and set(best[2]) == set(g.keys)
        correct += ok
        is_named = False
        if rx is not None:
            tail_end = plain.find("\n", g.end)
            tail = plain[g.end + 1 : min(g.end + 80, tail_end if tail_end > 0 else len(plain))]
            head_start = plain.rfind("\n", 0, g.start) + 1
            head = plain[max(head_start, g.start - 80) : max(head_start, g.start - 1)]
            is_named = bool(rx[0].search(tail)) or bool(rx[1].search(head))
        if is_named:
            named += 1
            named_correct += ok
        if not ok:
            got = "+".join(best[2]) if best and found else "(no quote found)"
            mistakes.append(f"{'NAMED ' if is_named else ''}want {'+'.join(g.keys)} got {got}: "
                            f"{plain[max(0, g.start - 40) : g.end + 40]!r}")
    # a predicted span on unquoted gold words (inner speech, a note) is scored below, not here
    unq = [(g.start, g.end) for g in doc.golds if not g.quoted]
    preds_q = [p for p in preds if not any(_overlap(a, b, p[0], p[1]) * 2 >= p[1] - p[0] for a, b in unq)]
    tp = 0
    for p in preds_q:
        lo = max(0, bisect.bisect_left(gstarts, p[0]) - 3)
        inside = 0
        for g in gold[lo:]:
            if g.start >= p[1]:
                break
            inside += _overlap(g.start, g.end, p[0], p[1])
        tp += inside * 2 >= (p[1] - p[0])
    # Unquoted inner speech and notes, scored apart from the quoted spans.
    unq_mistakes: list[str] = []
    unquoted = unquoted_correct = notes = notes_found = 0
    for g in doc.golds:
        if g.quoted:
            continue
        if g.note:
            notes += 1
            hit = any(b.kind == "note" and b.source[0] <= g.start and g.end <= b.source[1]
                      for b in story.beats)
            notes_found += hit
            if not hit:
                unq_mistakes.append(f"NOTE not a note beat: {plain[g.start : g.end][:60]!r}")
            continue
        if g.label != "key":
            continue
        unquoted += 1
        best_ov, best_p = 0, None
        for p in preds:
            ov = _overlap(g.start, g.end, p[0], p[1])
            if ov > best_ov:
                best_ov, best_p = ov, p
        ok = (best_p is not None and best_ov * 2 >= g.end - g.start and set(best_p[2]) == set(g.keys)
              and best_p[3] == g.thought)
        unquoted_correct += ok
        if not ok:
            got = ("+".join(best_p[2]) + (":thought" if best_p[3] else "")) if best_p and best_ov * 2 >= (
                g.end - g.start) else "(not found)"
            unq_mistakes.append(f"UNQUOTED want {'+'.join(g.keys)}{':thought' if g.thought else ''} got {got}: "
                                f"{plain[g.start : g.end][:60]!r}")
    mistakes.extend(unq_mistakes)
    precision = tp / len(preds_q) if preds_q else 1.0
    recall = hits / len(gold) if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(doc.name, len(gold), len(preds), precision, recall, f1, attributed, correct, named,
                 named_correct, mistakes, kind_ok, kind_total, unquoted, unquoted_correct, notes,
                 notes_found), story
