"""Reply composition: turns retrieved beats into a first-person answer in the character's voice.

Template-driven and deterministic (the same question gets the same reply); the frame is generic and
every fact comes from a quotation of the story's own words. Everything that leaves this module is
safe for Discord: no live mentions, no working links, no control characters, and the reader's
own words are markdown-escaped. `defuse` is the one function every echo of user text passes
(here and in the Discord app's replies).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answers.retrieval import Candidate, Query, light_stem, words
from bot.story.model import Beat, Character, Story

MAX_QUOTE_CHARS = 360
MAX_REPLY_CHARS = 1900  # one Discord message, with room to spare
MAX_ECHO_CHARS = 120

ZWSP = "\u200b"
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d*)", re.IGNORECASE)
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]<@])")
_SENTENCE = re.compile(r"(?<=[.!?…])[\"”’']?\s+(?=\S)")
_QUOTE = re.compile(r"“([^”]+)”|\"([^\"]+)\"|«([^»]+)»")
_ITALIC = re.compile(r"(?<![\w*])\*([^*]+)\*(?![\w*])|(?<![\w_])_([^_]+)_(?![\w_])")
_EMPHASIS = re.compile(r"(?<!\w)[*_]+|[*_]+(?!\w)")


# C0/C1 controls except newline and tab, and the bidirectional overrides that reorder what a
# reader sees (a reply must read as it is stored).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Anything Discord would turn into a link or an embed: a scheme URL (also inside a masked link
# or <...>), and a bare host with a path or a well-known top-level domain (invites: discord.gg/x).
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}):(/+|\\+)")
_HOST = re.compile(
    r"(?i)\b((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+)"
    r"([a-z][a-z0-9-]{1,62})(?=/|\b)")
_TLDS = frozenset("""com net org gg io ly me co xyz ru app dev link to tk info biz site online gl
    be tv cc us uk de fr cn jp su top click shop store live club fun win""".split())


def _defuse_host(m: re.Match[str]) -> str:
    labels, tld = m.group(1), m.group(2)
    after = m.string[m.end():m.end() + 1]
    if tld.casefold() in _TLDS or after == "/" or labels.casefold().startswith("www."):
        return labels[:-1] + ZWSP + "." + tld
    return m.group(0)


def defuse(text: str) -> str:
    """User text made safe to echo: control characters removed, links broken with a zero-width
    space (no clickable URL, no embed, no invite card), mentions unable to ping."""
    text = _CONTROLS.sub("", text)
    text = _SCHEME.sub(lambda m: m.group(1) + ZWSP + ":" + m.group(2), text)
    text = _HOST.sub(_defuse_host, text)
    return neutralise_mentions(text)


def neutralise_mentions(text: str) -> str:
    """Break @everyone, @here, <@id>, <@!id>, <@&id>, <#id> with a zero-width space so Discord shows
    them as text and never pings (AllowedMentions.none() is the second lock on the door)."""

    def fix(m: re.Match[str]) -> str:
        s = m.group(0)
        return s[0] + ZWSP + s[1:]

    return _MENTION.sub(fix, text)


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def clean_story_text(text: str) -> str:
    """Story words as we quote them: emphasis markers dropped (we add our own), one line, no pings."""
    text = _EMPHASIS.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = text.replace("`", "'").replace("|", "/")
    return neutralise_mentions(text)


# ---------------------------------------------------------------- the reader's question, turned round

_SWAP_PAIRS = {
    ("were", "you"): "was I", ("are", "you"): "am I", ("do", "you"): "do I", ("did", "you"): "did I",
    ("have", "you"): "have I", ("can", "you"): "can I", ("could", "you"): "could I",
    ("will", "you"): "will I", ("would", "you"): "would I", ("should", "you"): "should I",
    ("you", "are"): "I am", ("you", "were"): "I was", ("weren't", "you"): "wasn't I",
    ("aren't", "you"): "aren't I", ("don't", "you"): "don't I", ("didn't", "you"): "didn't I",
    ("won't", "you"): "won't I", ("can't", "you"): "can't I", ("wouldn't", "you"): "wouldn't I", ("am", "i"): "are you", ("was", "i"): "were you",
}
_SWAP_ONE = {
    "your": "my", "yours": "mine", "yourself": "myself", "you're": "I'm", "you've": "I've",
    "you'll": "I'll", "you'd": "I'd", "my": "your", "mine": "yours", "myself": "yourself",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "me": "you", "i": "you",
}
# "you" is the subject ("I") only after these (or first); after anything else it is the object
# ("who gave you the idea" -> "who gave me the idea", "did the seal hold you down" -> "… hold me down").
_SUBJECT_BEFORE = frozenset({"do", "did", "does", "are", "were", "was", "is", "can", "could", "will",
                             "would", "should", "have", "has", "had", "may", "might", "must", "shall",
                             "who", "what", "why", "how", "where", "when", "which", "and", "but", "or",
                             "if", "because", "that", "so", "while", "whether", "until", "unless",
                             "since", "as", "then"})


def echo_question(question: str, asked: Character, cast: Sequence[Character] = ()) -> str:
    """The question as the character repeats it to themselves: 'why were you scared' -> 'Why was I
    scared?'. Markdown-escaped; empty when too long to echo gracefully."""
    q = re.sub(r"\s+", " ", question).strip()
    # Drop a leading vocative ("Temari, why ...").
    for n in sorted(asked.names(), key=len, reverse=True):
        q = re.sub(rf"^(hey\s+)?{re.escape(n)}\s*[,:!-]\s*", "", q, flags=re.IGNORECASE)
    q = q.strip(" ?!.,")
    if not q or len(q) > MAX_ECHO_CHARS or "\n" in q:
        return ""
    # Words are swapped in place; spaces and punctuation stay exactly as the reader typed them.
    toks = re.findall(r"[\w’']+|\s+|[^\w\s]", q)
    word_at = [i for i, t in enumerate(toks) if t[0].isalnum() or t[0] in "_'’"]
    # Names keep the story's spelling ("naruto" -> "Naruto").
    proper = {w.casefold(): w for c in cast for n in c.names() for w in re.findall(r"\w+", n) if w[0].isupper()}
    out = list(toks)
    k = 0
    while k < len(word_at):
        i = word_at[k]
        low = toks[i].casefold().replace("’", "'")
        j = word_at[k + 1] if k + 1 < len(word_at) else None
        nxt = toks[j].casefold() if j is not None else ""
        if j is not None and (low, nxt) in _SWAP_PAIRS and all(t.isspace() for t in toks[i + 1:j]):
            out[i] = _SWAP_PAIRS[(low, nxt)]
            for m in range(i + 1, j + 1):
                out[m] = ""
            k += 2
            continue
        if low == "you":
            prev = toks[word_at[k - 1]].casefold() if k > 0 else ""
            prev = prev.replace("’", "'")
            subject = (k == 0 or prev in _SUBJECT_BEFORE or prev.endswith("n't")) and k != len(word_at) - 1
            out[i] = "I" if subject else "me"
        elif low in _SWAP_ONE:
            out[i] = _SWAP_ONE[low]
        else:
            out[i] = proper.get(low, toks[i])
        k += 1
    text = "".join(out).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return escape_markdown(defuse(text)) + "?"


# ---------------------------------------------------------------- picking the words to quote


def spoken_part(beat: Beat) -> str:
    """For a voiced beat, the words inside the quote marks (joined); else the whole beat."""
    if beat.kind in ("dialogue", "thought"):
        for found in (_QUOTE.finditer(beat.text), _ITALIC.finditer(beat.text)):
            pieces = [p.strip() for m in found if (p := "".join(g for g in m.groups() if g)).strip()]
            if pieces:
                return join_pieces(pieces)
        pieces = [p.strip() for p in beat.quoted_text() if p.strip()]
        if pieces:
            return join_pieces(pieces)
    return beat.text


def join_pieces(pieces: Sequence[str]) -> str:
    """Quoted pieces of one beat as one quotation: “A, Gaara,” she said. “B.” -> A, Gaara… B."""
    out = ""
    for p in pieces:
        if not out:
            out = p
        elif out.endswith(("—", "…", ".", "!", "?")):
            out += " " + p
        else:
            # The ellipsis marks where the narration between the quotes was left out.
            out = out.rstrip(",;: ") + "… " + p
    return out.rstrip(",;: ")


def excerpt(text: str, query: Query, *, limit: int = MAX_QUOTE_CHARS) -> str:
    """The best one or two sentences for the question, whole when short; elisions marked with '…'."""
    text = clean_story_text(text)
    if len(text) <= limit:
        return text
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    stems = {light_stem(t) for t in query.forms}

    def hits(s: str) -> int:
        return sum(1 for w in words(s) if light_stem(w) in stems)

    best = max(range(len(sentences)), key=lambda i: (hits(sentences[i]), -i))
    chosen = [best]
    for j in (best + 1, best - 1):
        if 0 <= j < len(sentences) and len(" ".join(sentences[k] for k in [*chosen, j])) <= limit:
            chosen.append(j)
            break
    chosen.sort()
    picked = " ".join(sentences[i] for i in chosen)
    if len(picked) > limit:
        cut = picked[:limit].rsplit(" ", 1)[0]
        picked = cut.rstrip(",;: ") + "…"
    if chosen[0] > 0:
        picked = "…" + picked
    if chosen[-1] < len(sentences) - 1 and not picked.endswith("…"):
        picked += " …"
    return picked


def addressee(quote: str, story: Story, asked: Character) -> str | None:
    """The name a line is said *to*, when the line itself says it as a vocative ("…, Gaara.")."""
    for c in story.characters:
        if c.key == asked.key:
            continue
        for n in sorted(c.names(), key=len, reverse=True):
            if re.search(rf"(,\s*{re.escape(n)}\s*[,.!?…—-])|(^{re.escape(n)}\s*[,!])|(,\s*{re.escape(n)}$)",
                         quote):
                return n
    return None


# ---------------------------------------------------------------- the reply


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    scene: int | None
    beats: tuple[int, ...]


def _pick(options: Sequence[str], seed: str) -> str:
    return options[zlib.crc32(seed.encode()) % len(options)]


def _pronouns(c: Character) -> tuple[str, str]:
    p = c.pronouns.casefold()
    if p.startswith("she"):
        return "she", "her"
    if p.startswith("he"):
        return "he", "his"
    if p.startswith("it"):
        return "it", "its"
    return "they", "their"


def scene_note(story: Story, scene: int) -> str:
    title = story.scenes[scene].title if 0 <= scene < len(story.scenes) else None
    label = f"scene {scene + 1}"
    if title:
        label += f" · {clean_story_text(title)[:60]}"
    return f"-# recalling {label}"


def compose(story: Story, asked: Character, question: str, query: Query,
            picks: Sequence[Candidate]) -> Reply:
    """A first-person reply quoting the best line (and a second one from the same scene if it
    adds something)."""
    first = picks[0]
    seed = f"{question}|{first.beat.index}"
    echo = echo_question(question, asked, story.characters)
    lead = (echo + " ") if echo else ""
    line = excerpt(spoken_part(first.beat), query)
    to = addressee(line, story, asked)
    to_part = f" to {to}" if to else ""
    keys = ([first.beat.speaker] if first.beat.speaker else []) + sorted(first.beat.speakers)
    speaker_names = [story.character(k) for k in keys]

    if first.relation == "recent":
        gesture = _pick(("*thinks back*", "*shrugs*"), seed)
        verb = "thought" if first.beat.kind == "thought" else "said"
        quoted = f"*“{line}”*" if first.beat.kind == "thought" else f"“{line}”"
        body = _pick((
            f"{lead}The last thing I {verb}{to_part} was this: {quoted}",
            f"{lead}All I can give you is what I {verb} last{to_part}: {quoted}",
        ), seed)
    elif first.relation == "own" and first.beat.kind == "thought":
        gesture = _pick(("*lowers voice*", "*smirks*" if asked.pronouns.startswith("it") else "*looks away*",
                         "*thinks back*"), seed)
        body = _pick((
            f"{lead}I never said it out loud, but I thought it: *“{line}”*",
            f"{lead}Between you and me, this is what went through my head: *“{line}”*",
            f"{lead}You want the truth? I thought: *“{line}”*",
        ), seed)
    elif first.relation == "lived":
        gesture = _pick(("*thinks back*", "*remembers*"), seed)
        body = _pick((
            f"{lead}I remember it well: “{line}”",
            f"{lead}As I told it: “{line}”",
            f"{lead}Here is how it was for me: “{line}”",
        ), seed)
    elif first.relation == "own":
        gesture = _pick(("*thinks back*", "*remembers*", "*pauses, remembering*"), seed)
        if query.kind == "why":
            options = [f"{lead}I said it myself{to_part}: “{line}”",
                       f"{lead}I put it plainly{to_part}: “{line}”"]
            if to:
                options.append(f"{lead}That's what I told {to}: “{line}”")
        elif query.kind in ("opinion", "feel"):
            options = [f"{lead}I told {to} straight out: “{line}”" if to else f"{lead}I didn't hide it: “{line}”",
                       f"{lead}I'll tell you what I said{to_part}: “{line}”"]
        else:
            options = [f"{lead}I remember saying{to_part}: “{line}”",
                       f"{lead}In my own words{to_part}: “{line}”",
                       f"{lead}Here's what I said{to_part}: “{line}”"]
        body = _pick(options, seed)
    elif first.beat.kind in ("dialogue", "thought") and speaker_names and speaker_names[0] is not None:
        who = clean_story_text(speaker_names[0].name)
        gesture = _pick(("*thinks back*", "*remembers*"), seed)
        verb = "thought" if first.beat.kind == "thought" else "said"
        options = [f"{lead}I remember what {who} {verb}: “{line}”", f"{lead}{who} put it like this: “{line}”"]
        if first.relation == "about" and not query.speaker_named:
            options.append(f"{lead}{who} {verb} it, not me: “{line}”")
        body = _pick(options, seed)
    elif first.relation == "other":
        gesture = _pick(("*thinks back*", "*considers*"), seed)
        body = _pick((
            f"{lead}From what I heard: “{line}”",
            f"{lead}Word is, it went like this: “{line}”",
        ), seed)
    else:
        gesture = _pick(("*thinks back*", "*remembers*", "*pauses, remembering*"), seed)
        body = _pick((
            f"{lead}I remember how it went: “{line}”",
            f"{lead}Let me think back… “{line}”",
            f"{lead}It went like this: “{line}”",
        ), seed)

    used = [first.beat.index]
    if len(picks) > 1:
        second = picks[1]
        near = second.beat.scene == first.beat.scene and abs(second.beat.index - first.beat.index) <= 4
        if (near and second.relation == "own" and first.relation == "own"
                and second.score >= 0.6 * first.score):
            more = excerpt(spoken_part(second.beat), query, limit=200)
            if more and more not in line and line not in more:
                later = second.beat.index > first.beat.index
                body += f" {'And then' if later else 'Before that'}: “{more}”"
                used.append(second.beat.index)

    text = f"{gesture} {body}\n{scene_note(story, first.beat.scene)}"
    return Reply(_fit(text), first.beat.scene, tuple(used))  # the main line first


def deflection(story: Story, asked: Character, question: str) -> Reply:
    """In-character refusal when nothing relevant is known yet; never quotes the story."""
    if asked.deflection and asked.deflection.strip():
        # The story's author wrote it (markdown intended); only pings are taken out.
        body = neutralise_mentions(re.sub(r"\s+", " ", asked.deflection).strip())
    else:
        _, poss = _pronouns(asked)
        body = _pick((
            f"*shakes {poss} head* That's not something I can talk about — not yet.",
            "*considers the question* I don't know anything about that. Not yet, anyway.",
            f"*narrows {poss} eyes* Ask me again later. Right now I've got nothing to tell you.",
        ), f"{asked.key}|{question}")
    return Reply(_fit(f"{body}\n-# nothing to recall yet"), None, ())


def _fit(text: str) -> str:
    text = defuse(text)
    if len(text) <= MAX_REPLY_CHARS:
        return text
    head, _, note = text.rpartition("\n")
    return head[: MAX_REPLY_CHARS - len(note) - 2].rstrip() + "…\n" + note
