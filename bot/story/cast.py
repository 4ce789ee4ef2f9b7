"""Cast tables: the `[[character]]` entries of story.toml and of `--cast` files, validated.

Both files share one reader so a character means the same thing everywhere. Every problem is
reported as `path:line: what is wrong; what to do`; TOML itself gives no line numbers for values,
so `TomlLines` finds them in the text.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.story.cards import CardError, card_persona, load_card
from bot.story.model import Character
from bot.story.script import RESERVED_LABELS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_NAME_CHARS = 80  # Discord's limit for a webhook username
CHARACTER_FIELDS = ("key", "name", "aliases", "pronouns", "avatar_url", "colour", "persona",
                    "deflection", "card")
_KEY = re.compile(r"^[^\W_][\w-]*$")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


class StoryFileError(Exception):
    """A story folder or cast file is invalid; `errors` holds every problem, one per line."""

    def __init__(self, errors: Sequence[str], warnings: Sequence[str] = ()) -> None:
        self.errors = list(errors)
        self.warnings = list(warnings)
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__((self.errors[0] if self.errors else "invalid story files") + more)


def slugify(name: str) -> str:
    """'Rock Lee' -> 'rock-lee'; accents dropped, other scripts kept."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\W_]+", "-", text).strip("-")


def image_url_problem(url: str) -> str | None:
    """Why `url` is not a direct http(s) image link Discord can show as an avatar, or None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must start with https:// (or http://)"
    if not parts.path.lower().endswith(IMAGE_SUFFIXES):
        return ("must be a direct link to a .png, .jpg, .jpeg, .gif or .webp image (open the "
                "image itself and copy its address)")
    return None


class TomlLines:
    """Line numbers of tables and keys in a TOML text (tomllib reports values without them)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._tables: list[tuple[int, str]] = []  # (line number, header) in file order
        for n, line in enumerate(self.lines, start=1):
            m = re.match(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?", line)
            if m:
                self._tables.append((n, ("[[" if m.group(1) == "[[" else "[") + m.group(2)))

    def table(self, header: str, nth: int = 0) -> tuple[int, int]:
        """(first line, last line) of the nth table with this header ('[story', '[[character')."""
        hits = [i for i, (_, h) in enumerate(self._tables) if h == header]
        if nth >= len(hits):
            return (1, len(self.lines))
        i = hits[nth]
        start = self._tables[i][0]
        end = self._tables[i + 1][0] - 1 if i + 1 < len(self._tables) else len(self.lines)
        return start, end

    def key(self, name: str, span: tuple[int, int]) -> int:
        pat = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=")
        for n in range(span[0], span[1] + 1):
            if n - 1 < len(self.lines) and pat.match(self.lines[n - 1]):
                return n
        return span[0]


def parse_toml(path: Path, errors: list[str]) -> tuple[dict[str, Any], TomlLines] | None:
    """Read and parse a TOML file, reporting problems as `path:line: ...`."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        errors.append(f"{path}:1: file not found")
        return None
    except UnicodeDecodeError:
        errors.append(f"{path}:1: not UTF-8 text; save the file as UTF-8")
        return None
    except OSError as exc:
        errors.append(f"{path}:1: cannot read the file ({exc.strerror})")
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        # "at end of document": the problem is on the last line (an unclosed list or string)
        line = m.group(1) if m else str(max(1, len(text.rstrip().splitlines())))
        what = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
        errors.append(f"{path}:{line}: invalid TOML ({what}); fix the syntax (strings need "
                      "quotes, lists need [ ])")
        return None
    return data, TomlLines(text)


def _str(table: Mapping[str, Any], field: str, where: Callable[[str], str], errors: list[str],
         *, default: str = "") -> str:
    value = table.get(field, default)
    if not isinstance(value, str):
        errors.append(f"{where(field)}: {field} must be text in quotes (got {value!r})")
        return default
    return value.strip()


def _opt_str(table: Mapping[str, Any], field: str, where: Callable[[str], str],
             errors: list[str]) -> str | None:
    if field not in table:
        return None
    return _str(table, field, where, errors) or None


def character_from_table(table: Any, *, where: Callable[[str], str], errors: list[str],
                         warnings: list[str], folder: Path | None = None) -> Character | None:
    """One `[[character]]` table -> Character, or None with the problems added to `errors`.

    `folder` is where a `card` path is looked up; when given, a card's name and persona fill
    in what the table leaves out.
    """
    if not isinstance(table, dict):
        errors.append(f"{where('')}: each character must be a [[character]] table")
        return None
    before = len(errors)
    for field in table:
        if field not in CHARACTER_FIELDS and field != "color":
            warnings.append(f"{where(field)}: warning: unknown character field {field!r} is "
                            f"ignored; known fields: {', '.join(CHARACTER_FIELDS)}")
    name = _str(table, "name", where, errors)
    card = _opt_str(table, "card", where, errors)
    persona = _str(table, "persona", where, errors)
    if card is not None and folder is not None:
        card_path = folder / card
        try:
            loaded = load_card(card_path, folder=folder)
        except CardError as exc:
            errors.append(f"{where('card')}: {exc}")
        else:
            name = name or loaded.name
            persona = persona or card_persona(loaded, name)
    if not name:
        errors.append(f"{where('name')}: character has no name; add name = \"...\" (the name "
                      "shown on their messages)")
    elif len(name) > MAX_NAME_CHARS:
        errors.append(f"{where('name')}: name is {len(name)} characters; Discord allows "
                      f"{MAX_NAME_CHARS}, shorten it")
    key = _str(table, "key", where, errors) or slugify(name)
    if name and not key:
        errors.append(f"{where('name')}: cannot make a key from {name!r}; add key = \"...\" "
                      "(letters, digits, hyphens)")
    elif key and not _KEY.match(key):
        errors.append(f"{where('key')}: key {key!r} must be letters, digits and hyphens, like "
                      "\"rock-lee\"")
    if key.casefold() in RESERVED_LABELS or name.casefold() in RESERVED_LABELS:
        errors.append(f"{where('key')}: {key or name!r} is a reserved script label "
                      "(NARRATION, NOTE, UNKNOWN); choose another key or name")
    aliases_raw = table.get("aliases", [])
    aliases: list[str] = []
    if not isinstance(aliases_raw, list) or not all(isinstance(a, str) for a in aliases_raw):
        errors.append(f"{where('aliases')}: aliases must be a list of names, like "
                      "[\"Gaara-kun\", \"Sabaku no Gaara\"]")
    else:
        for a in aliases_raw:
            a = a.strip()
            if a and a.casefold() != name.casefold() and a not in aliases:
                aliases.append(a)
    pronouns = _str(table, "pronouns", where, errors).lower()
    if pronouns and pronouns.split("/")[0].strip() not in ("he", "she", "they", "it"):
        # attribution reads only these; anything else silently loses 'he said' style tags
        warnings.append(f"{where('pronouns')}: warning: pronouns {pronouns!r} are not understood; "
                        "use \"he/him\", \"she/her\", \"they/them\" or \"it/its\" so lines "
                        "tagged 'he said' / 'she said' can be given to this character")
    avatar = _opt_str(table, "avatar_url", where, errors)
    if avatar is not None:
        why = image_url_problem(avatar)
        if why:
            errors.append(f"{where('avatar_url')}: avatar_url {avatar!r} {why}")
    colour_field = "colour" if "colour" in table else "color"
    colour = _opt_str(table, colour_field, where, errors)
    if colour is not None:
        if not _COLOUR.match(colour):
            errors.append(f"{where(colour_field)}: colour {colour!r} must look like \"#aa3322\"")
        else:
            if len(colour) == 4:
                colour = "#" + "".join(ch * 2 for ch in colour[1:])
            colour = colour.lower()
    deflection = _opt_str(table, "deflection", where, errors)
    if len(errors) > before:
        return None
    return Character(key=key, name=name, aliases=tuple(aliases), pronouns=pronouns,
                     avatar_url=avatar, colour=colour, persona=persona, deflection=deflection,
                     card=card)


def check_cast(characters: Sequence[Character], where: Callable[[int], str],
               errors: list[str], warnings: list[str]) -> None:
    """Keys and display names must be unique; an alias shared by two characters is a warning."""
    seen_key: dict[str, int] = {}
    seen_name: dict[str, int] = {}
    seen_alias: dict[str, str] = {}
    for i, c in enumerate(characters):
        k = c.key.casefold()
        if k in seen_key:
            errors.append(f"{where(i)}: key {c.key!r} is used twice (also character "
                          f"{seen_key[k] + 1}); give each character its own key")
        seen_key.setdefault(k, i)
        n = c.name.casefold()
        if n in seen_name:
            errors.append(f"{where(i)}: two characters are named {c.name!r}; tell them apart "
                          "(e.g. a surname)")
        seen_name.setdefault(n, i)
    for c in characters:
        for a in c.aliases:
            owner = seen_alias.get(a.casefold())
            if owner and owner != c.key:
                warnings.append(f"{where(seen_key[c.key.casefold()])}: warning: alias {a!r} "
                                f"belongs to both {owner} and {c.key}; the script must use the "
                                "key for these two")
            seen_alias.setdefault(a.casefold(), c.key)


def read_characters(data: Mapping[str, Any], lines: TomlLines, path: Path, *,
                    folder: Path | None, errors: list[str],
                    warnings: list[str]) -> list[Character]:
    tables = data.get("character", [])
    if not isinstance(tables, list):
        errors.append(f"{path}:{lines.table('[character')[0]}: write [[character]] (double "
                      "brackets) for each character, not [character]")
        return []
    out: list[Character] = []
    spans: list[tuple[int, int]] = []
    for i, table in enumerate(tables):
        span = lines.table("[[character", i)

        def where(field: str, span: tuple[int, int] = span) -> str:
            return f"{path}:{lines.key(field, span) if field else span[0]}"

        c = character_from_table(table, where=where, errors=errors, warnings=warnings,
                                 folder=folder)
        if c is not None:
            out.append(c)
            spans.append(span)
    check_cast(out, lambda i: f"{path}:{spans[i][0]}", errors, warnings)
    return out


def lenient_cast(data: Mapping[str, Any]) -> list[Character]:
    """Names and keys of every [[character]] table, valid or not: enough to check a script's
    speakers while story.toml still has other problems (a bad colour hides no script errors)."""
    out: list[Character] = []
    tables = data.get("character", [])
    for table in tables if isinstance(tables, list) else []:
        if not isinstance(table, dict):
            continue
        name = table.get("name") if isinstance(table.get("name"), str) else ""
        key = table.get("key") if isinstance(table.get("key"), str) else ""
        key = (key or slugify(name or "")).strip()
        aliases = table.get("aliases")
        names = tuple(a for a in aliases if isinstance(a, str)) if isinstance(aliases, list) else ()
        if key:
            out.append(Character(key=key, name=(name or key).strip(), aliases=names))
    return out


def load_cast(path: Path) -> list[Character]:
    """Read a `--cast` TOML file. Raises StoryFileError listing every problem."""
    errors: list[str] = []
    warnings: list[str] = []
    parsed = parse_toml(path, errors)
    if parsed is None:
        raise StoryFileError(errors)
    data, lines = parsed
    cast = read_characters(data, lines, path, folder=path.parent, errors=errors,
                           warnings=warnings)
    if not cast and not errors:
        errors.append(f"{path}:1: no characters; add [[character]] tables with name, aliases "
                      "and pronouns")
    if errors:
        raise StoryFileError(errors, warnings)
    return cast


def cast_to_tables(characters: Sequence[Character]) -> list[dict[str, Any]]:
    """Characters as TOML tables (fields left at their defaults are left out)."""
    out: list[dict[str, Any]] = []
    for c in characters:
        t: dict[str, Any] = {"key": c.key, "name": c.name, "aliases": list(c.aliases),
                             "pronouns": c.pronouns}
        for field in ("avatar_url", "colour", "persona", "deflection", "card"):
            value = getattr(c, field)
            if value:
                t[field] = value
        out.append(t)
    return out


def merge_cast(new: Sequence[Character], old: Sequence[Character]) -> list[Character]:
    """`new`, with details the new cast leaves empty taken from the same key in `old`."""
    by_key = {c.key: c for c in old}
    out = []
    for c in new:
        prev = by_key.get(c.key)
        if prev is None:
            out.append(c)
            continue
        out.append(replace(
            c,
            aliases=c.aliases or prev.aliases,
            pronouns=c.pronouns or prev.pronouns,
            avatar_url=c.avatar_url or prev.avatar_url,
            colour=c.colour or prev.colour,
            persona=c.persona or prev.persona,
            deflection=c.deflection or prev.deflection,
            card=c.card or prev.card,
        ))
    return out
