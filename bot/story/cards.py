"""Character Card V2 (and V1) import: a persona for a character from a community card file.

Cards are JSON (`{"spec": "chara_card_v2", "data": {...}}`, or the flat V1 fields) or a PNG
with that JSON base64-encoded in a `chara` text chunk, as SillyTavern-style tools export them.
Only the descriptive fields are used; greetings, lorebooks and prompts are ignored.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.story.files import MAX_CARD_BYTES, StoryPathError, read_capped, read_story_file

MAX_PERSONA_CHARS = 1000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class CardError(Exception):
    """str(e) is `path: what is wrong; what to do`."""


@dataclass(frozen=True, slots=True)
class CharacterCard:
    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""


def _png_text_chunks(data: bytes) -> dict[str, bytes]:
    chunks: dict[str, bytes] = {}
    pos = len(_PNG_MAGIC)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt" and b"\0" in body:
            key, _, value = body.partition(b"\0")
            chunks[key.decode("latin-1").lower()] = value
        elif kind == b"zTXt" and b"\0" in body:
            key, _, rest = body.partition(b"\0")
            try:
                chunks[key.decode("latin-1").lower()] = zlib.decompress(rest[1:])
            except zlib.error:
                continue
        elif kind == b"IEND":
            break
    return chunks


def _card_json(path: Path, data: bytes) -> Any:
    if data.startswith(_PNG_MAGIC):
        chunks = _png_text_chunks(data)
        raw = chunks.get("chara") or chunks.get("ccv3")
        if raw is None:
            raise CardError(f"{path}: this PNG has no character card inside (no 'chara' text "
                            "chunk); export the card again as PNG or JSON")
        try:
            data = base64.b64decode(raw, validate=False)
        except ValueError as exc:
            raise CardError(f"{path}: the card inside this PNG is not valid base64 ({exc}); "
                            "export the card again") from None
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CardError(f"{path}: not UTF-8 text; save the card as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise CardError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); fix the file or export "
                        "the card again") from None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def load_card(path: Path, *, folder: Path | None = None) -> CharacterCard:
    """Read a Character Card V2/V1 JSON or PNG. Raises CardError. With `folder` (the story
    folder the path came from) the card must resolve to a file inside it."""
    try:
        if folder is not None:
            data = read_story_file(folder, path, MAX_CARD_BYTES, what="card")
        else:
            data = read_capped(path, MAX_CARD_BYTES, what="card")
    except StoryPathError as exc:
        raise CardError(str(exc)) from None
    except FileNotFoundError:
        raise CardError(f"{path}: card file not found; check the 'card' path (it is relative to "
                        "the story folder)") from None
    except OSError as exc:
        raise CardError(f"{path}: cannot read the card ({exc.strerror}); check the file") from None
    obj = _card_json(path, data)
    if not isinstance(obj, dict):
        raise CardError(f"{path}: a character card is a JSON object; this file holds "
                        f"{type(obj).__name__}")
    fields = obj.get("data") if isinstance(obj.get("data"), dict) else obj
    assert isinstance(fields, dict)
    name = _text(fields.get("name")) or _text(obj.get("char_name"))
    if not name:
        raise CardError(f"{path}: the card has no name (data.name); is this a Character Card V2?")
    return CharacterCard(
        name=name,
        description=_text(fields.get("description")) or _text(obj.get("char_persona")),
        personality=_text(fields.get("personality")),
        scenario=_text(fields.get("scenario")) or _text(obj.get("world_scenario")),
    )


def _fill_macros(text: str, name: str) -> str:
    text = re.sub(r"\{\{\s*char\s*\}\}|<BOT>", name, text, flags=re.IGNORECASE)
    return re.sub(r"\{\{\s*user\s*\}\}|<USER>", "the reader", text, flags=re.IGNORECASE)


def card_persona(card: CharacterCard, name: str | None = None, *, limit: int = MAX_PERSONA_CHARS) -> str:
    """description + personality as one persona, macros filled in, cut at a sentence end."""
    who = name or card.name
    parts = [_fill_macros(p, who) for p in (card.description, card.personality) if p]
    text = re.sub(r"\s+", " ", " ".join(parts)).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[:end + 1] if end > limit // 3 else cut.rsplit(" ", 1)[0] + "…"
