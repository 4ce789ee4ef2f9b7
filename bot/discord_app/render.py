"""Turn engine cues into Discord messages: text split to fit, names Discord accepts, embeds.

Pure functions (no network). Story text is escaped so that a stray `*` or `_` in a fan fiction
never turns half a message italic; our own markup (`*thought*`, `-# aside`) is applied per
message AFTER splitting, so a split can never land inside it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import discord

from bot.answers.voice import defuse
from bot.engine.stage import Card, Cue, Voice

MESSAGE_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TITLE_LIMIT = 256
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
NAME_MAX = 80
ZWSP = "\u200b"
ELLIPSIS = "…"

# Where a message may end, best first: a paragraph, a line, a sentence, a clause, a word.
_SENTENCE_END = re.compile(r"""[.!?…]['"’”)\]]*\s+""")
_CLAUSE_END = re.compile(r"""[,;:—–]['"’”)\]]*\s+""")
_SPACE = re.compile(r"\s+")
_FORBIDDEN_IN_NAMES = re.compile(r"(clyde|discord)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --------------------------------------------------------------------------- splitting


def _cut_at(text: str, limit: int) -> int:
    """Index (<= limit) where `text` should end a message: the best boundary in its window."""
    window = text[: limit + 1]
    for sep in ("\n\n", "\n"):
        i = window.rfind(sep, 0, limit + 1)
        if i > 0:
            return i
    for pattern in (_SENTENCE_END, _CLAUSE_END, _SPACE):
        best = -1
        for m in pattern.finditer(window):
            end = m.start() + len(m.group(0).rstrip())
            if 0 < end <= limit:
                best = end
        if best > 0:
            return best
    # One "word" longer than a whole message (a URL, a wall of symbols): a hard cut, but never
    # between a backslash and the character it escapes, nor inside a surrogate-free grapheme.
    cut = limit
    while cut > 1 and text[cut - 1] == "\\":
        cut -= 1
    while 1 < cut < len(text) and unicodedata.combining(text[cut]):
        cut -= 1
    return cut


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into pieces of at most `limit` characters at paragraph, sentence or word
    boundaries (whitespace at the cut is dropped). Empty or blank text gives []."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    text = text.strip()
    out: list[str] = []
    while text:
        if len(text) <= limit:
            out.append(text)
            break
        cut = _cut_at(text, limit)
        piece = text[:cut].rstrip()
        if piece:
            out.append(piece)
        text = text[cut:].lstrip()
    return out


def escape(text: str) -> str:
    """Escape Discord markdown in story text so it shows literally."""
    return discord.utils.escape_markdown(text)


def subtext(aside: str) -> str:
    """An aside as Discord subtext: every non-empty line starts with `-# `."""
    lines = [ln.strip() for ln in aside.splitlines()]
    return "\n".join(f"-# {escape(ln)}" for ln in lines if ln)


def italic(piece: str) -> str:
    piece = piece.strip()
    return f"*{piece}*" if piece else ""


# --------------------------------------------------------------------------- names, avatars


def sanitize_name(name: str, fallback: str = "Narrator") -> str:
    """A webhook username Discord accepts: 1-80 characters, no 'clyde' or 'discord' in any case
    (a zero-width space is inserted after the first letter), no control characters."""
    clean = _SPACE.sub(" ", _CONTROL.sub(" ", name)).strip()
    if not clean:
        clean = fallback
    clean = _FORBIDDEN_IN_NAMES.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1:], clean)
    if clean.casefold() in ("everyone", "here"):
        clean = clean[0] + ZWSP + clean[1:]
    if len(clean) > NAME_MAX:
        clean = clean[: NAME_MAX - 1].rstrip() + ELLIPSIS
    return clean


def default_avatar(key: str | None) -> str:
    """A stable default avatar for a voice without one: one of Discord's six default avatars,
    chosen by a hash of the character key (so Gaara always gets the same one)."""
    digest = hashlib.sha256((key or "narrator").encode()).digest()
    return f"{discord.asset.Asset.BASE}/embed/avatars/{digest[0] % 6}.png"


def avatar_for(voice: Voice) -> str:
    url = (voice.avatar_url or "").strip()
    if url.startswith(("https://", "http://")):
        return url
    return default_avatar(voice.key)


def colour_for(voice: Voice) -> discord.Colour | None:
    if voice.colour and re.fullmatch(r"#[0-9a-fA-F]{6}", voice.colour):
        return discord.Colour(int(voice.colour[1:], 16))
    return None


def trim(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit < 8:
        return text[:limit]
    pieces = split_text(text, limit - 1)
    return (pieces[0] if pieces else text[: limit - 1]).rstrip() + ELLIPSIS


# --------------------------------------------------------------------------- cues


@dataclass(frozen=True)
class Part:
    """One Discord message: text content, embeds, or both."""

    content: str = ""
    embeds: tuple[discord.Embed, ...] = ()


@dataclass(frozen=True)
class Rendered:
    username: str
    avatar_url: str
    colour: discord.Colour | None
    parts: tuple[Part, ...] = field(default_factory=tuple)


def card_embed(card: Card, colour: discord.Colour | None = None) -> discord.Embed:
    """A title or closing card within Discord's embed limits (6,000 characters in all)."""
    title = trim(card.title, EMBED_TITLE_LIMIT)
    footer = trim(card.footer, min(EMBED_FOOTER_LIMIT, 512))
    description = trim(card.description, min(EMBED_DESCRIPTION_LIMIT,
                                              EMBED_TOTAL_LIMIT - len(title) - len(footer) - 64))
    embed = discord.Embed(title=title or None, description=description or None,
                          colour=colour or discord.Colour.dark_gold())
    budget = EMBED_TOTAL_LIMIT - len(title) - len(description) - len(footer) - 64
    for name, value in card.fields[:25]:
        n = trim(name, EMBED_FIELD_NAME_LIMIT) or "\u200b"
        room = min(EMBED_FIELD_VALUE_LIMIT, budget - len(n))
        if room < 16:
            break
        v = trim(value, room) or "\u200b"
        budget -= len(n) + len(v)
        embed.add_field(name=n, value=v, inline=False)
    if footer:
        embed.set_footer(text=footer)
    return embed


def _body_pieces(cue: Cue) -> list[str]:
    """The message texts of a beat-like cue, markup applied after splitting."""
    # Answers come ready to post (the ask engine adds its own `-#` note); story text is escaped.
    # An answer carries a reader's words (the question, their name): defused once more here, the
    # last stop before Discord, whatever composed it.
    text = defuse(cue.text) if cue.kind == "answer" else escape(cue.text)
    aside = defuse(cue.aside) if cue.kind == "answer" and cue.aside else cue.aside
    head = f"### {escape(_SPACE.sub(' ', cue.heading).strip())}"[:300] if cue.heading and cue.heading.strip() else ""
    lim = MESSAGE_LIMIT - (len(head) + 1 if head else 0)  # every piece leaves room for the heading
    if cue.kind == "thought":
        pieces = [italic(p) for p in split_text(text, lim - 2)]
    elif cue.kind == "note":
        pieces = split_text(text, lim)
        label = "-# Author's note"
        if pieces and len(label) + 1 + len(pieces[0]) <= MESSAGE_LIMIT:
            pieces[0] = f"{label}\n{pieces[0]}"
        else:
            pieces.insert(0, label)
    elif cue.kind == "notice":
        pieces = [subtext(p) for p in split_text(cue.text, MESSAGE_LIMIT - 200)]
    else:
        pieces = split_text(text, lim)
    pieces = [p for p in pieces if p]
    if cue.rewound:
        pieces = [f"~~{q}~~" for p in pieces for q in split_text(p, lim - 4)]
    if aside and aside.strip():
        # Never cut: a very long action beat becomes several subtext messages.
        for chunk in split_text(aside, MESSAGE_LIMIT - 300):
            small = subtext(chunk)
            if pieces and len(pieces[-1]) + 1 + len(small) <= MESSAGE_LIMIT:
                pieces[-1] = f"{pieces[-1]}\n{small}"
            else:
                pieces.append(small)
    if head:
        if pieces and len(head) + 1 + len(pieces[0]) <= MESSAGE_LIMIT:
            pieces[0] = f"{head}\n{pieces[0]}"
        else:
            pieces.insert(0, head)
    return pieces


def render_cue(cue: Cue) -> Rendered:
    """The messages a cue becomes when posted through a webhook under its voice."""
    voice = cue.voice
    colour = colour_for(voice)
    parts: list[Part]
    if cue.card is not None:
        # The card carries everything; `text` is only its plain-text summary.
        parts = [Part(content="", embeds=(card_embed(cue.card, colour),))]
    else:
        parts = [Part(content=p) for p in _body_pieces(cue)]
    if not parts:
        parts = [Part(content=subtext("(nothing to show)"))]
    return Rendered(
        username=sanitize_name(voice.name),
        avatar_url=avatar_for(voice),
        colour=colour,
        parts=tuple(parts),
    )


def as_bot_message(rendered: Rendered) -> tuple[Part, ...]:
    """Without a webhook the bot posts itself: each part becomes an embed whose author line
    carries the character's name and avatar (cards keep their own embed)."""
    out: list[Part] = []
    for part in rendered.parts:
        if part.embeds:
            out.append(Part(content=part.content, embeds=part.embeds))
            continue
        embed = discord.Embed(description=part.content or None, colour=rendered.colour)
        embed.set_author(name=rendered.username, icon_url=rendered.avatar_url)
        out.append(Part(content="", embeds=(embed,)))
    return tuple(out)


def plain_text(part: Part) -> str:
    """Everything a posted message says (content, then embed author/title/description/fields),
    for matching messages we see again after a restart."""
    out = [part.content] if part.content else []
    for e in part.embeds:
        out += [e.author.name or "", e.title or "", e.description or ""]
        out += [f"{f.name or ''} {f.value or ''}" for f in e.fields]
    return "\n".join(x for x in out if x)


def progress_bar(done: int, total: int, width: int = 16) -> str:
    total = max(total, 1)
    done = min(max(done, 0), total)
    filled = round(width * done / total)
    return "▰" * filled + "▱" * (width - filled) + f" {round(100 * done / total)}%"
