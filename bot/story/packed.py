"""A story as a handful of files held in memory (a server's story lives in the database, not in
STORY_DIR): import, load, validate and edit it with exactly the rules of a story folder.

Each operation lays the files out in a private temporary folder and runs the folder code
(`import_story`, `load_story_files`), so a server's story is checked exactly like a bundled one;
error messages name the file inside the story (`script.txt:12: ...`), never the temporary path.
Pure Python and blocking: call it through `asyncio.to_thread` from async code.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tomli_w

from bot.story.cast import StoryFileError, load_cast
from bot.story.model import Beat, Character, Story
from bot.story.readers import StoryImportError
from bot.story.script import REVIEW_PREFIX, SCRIPT_NAME, parse_script
from bot.story.storage import STORY_TOML, LoadedStory, import_story, load_story_files

__all__ = ["PackedStory", "StoryFileError", "StoryImportError", "check_script", "edit_character",
           "import_packed", "kept_lines", "line_id", "mark_reviewed", "needs_review", "review_lines",
           "set_speaker", "unpack"]


@dataclass(frozen=True, slots=True)
class PackedStory:
    slug: str
    source_name: str  # "source.txt", "source.html", "source.epub", ...
    source: bytes  # the original file, byte for byte
    story_toml: str
    script: str

    @property
    def import_record(self) -> dict[str, Any]:
        try:
            rec = tomllib.loads(self.story_toml).get("import", {})
        except tomllib.TOMLDecodeError:
            return {}
        return rec if isinstance(rec, dict) else {}


def needs_review(beat: Beat, kept: frozenset[str] = frozenset()) -> bool:
    """Is this a line a person should check? Speech the importer was unsure of (its `#? CHECK:`
    mark, `Beat.review`) or could not attribute at all (UNKNOWN), unless a moderator kept it."""
    if beat.kind not in ("dialogue", "thought"):
        return False
    unsure = beat.review or (beat.speaker is None and not beat.speakers)
    return unsure and line_id(beat) not in kept


def review_lines(story: Story, kept: frozenset[str] = frozenset()) -> list[int]:
    return [b.index for b in story.beats if needs_review(b, kept)]


def line_id(beat: Beat) -> str:
    """A beat's identity that survives other beats being added or removed: its words."""
    return hashlib.sha256(" ".join(beat.text.split()).encode("utf-8")).hexdigest()[:16]


def kept_lines(loaded: LoadedStory) -> frozenset[str]:
    """Lines a moderator looked at and kept as they are (story.toml `[import] reviewed`)."""
    ids = loaded.import_info.get("reviewed", [])
    return frozenset(str(i) for i in ids) if isinstance(ids, list) else frozenset()


def mark_reviewed(packed: PackedStory, story: Story, beat_index: int) -> PackedStory:
    """The story with beat `beat_index` checked and kept as it is: its `#? CHECK:` mark leaves the
    script; a line still UNKNOWN is also recorded in story.toml so review does not ask again."""
    beat = story.beat(beat_index)
    lines, at = _beat_line(packed, story, beat_index)
    packed = replace(packed, script="\n".join(_unmarked(lines, at)))
    if beat.speaker is not None or beat.speakers:
        return packed
    try:
        data = tomllib.loads(packed.story_toml)
    except tomllib.TOMLDecodeError as exc:
        raise StoryFileError([f"{STORY_TOML}: cannot be read ({exc})"]) from None
    record = data.setdefault("import", {})
    if not isinstance(record, dict):
        raise StoryFileError([f"{STORY_TOML}: [import] must be a table"])
    ids = [str(i) for i in record.get("reviewed", []) if isinstance(i, str)]
    if line_id(beat) not in ids:
        ids.append(line_id(beat))
    record["reviewed"] = ids
    return replace(packed, story_toml=tomli_w.dumps(data))


def _write(folder: Path, packed: PackedStory) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / packed.source_name).write_bytes(packed.source)
    (folder / STORY_TOML).write_text(packed.story_toml, encoding="utf-8")
    (folder / SCRIPT_NAME).write_text(packed.script, encoding="utf-8")


def _read(folder: Path, slug: str) -> PackedStory:
    sources = sorted(p.name for p in folder.iterdir() if p.name.startswith("source.") and not p.name.endswith(".bak"))
    if not sources:
        raise StoryFileError([f"{slug}: the import wrote no source file"])
    return PackedStory(slug=slug, source_name=sources[0], source=(folder / sources[0]).read_bytes(),
                       story_toml=(folder / STORY_TOML).read_text(encoding="utf-8"),
                       script=(folder / SCRIPT_NAME).read_text(encoding="utf-8"))


def _tidy(messages: list[str] | tuple[str, ...], tmp: Path) -> list[str]:
    """Error messages with the temporary folder taken out: `script.txt:3: ...`."""
    out = []
    for m in messages:
        m = m.replace(str(tmp) + "/", "")
        m = re.sub(r"(?<![\w.-])(?:stories/)?[a-z0-9-]+/(story\.toml|script\.txt|source\.\w+|cast\.toml)", r"\1", m)
        out.append(m)
    return out


def unpack(packed: PackedStory, *, key: str | None = None) -> LoadedStory:
    """Load and validate; the Story's slug becomes `key` (a server story's library key).
    Raises StoryFileError with every problem (paths relative to the story)."""
    with tempfile.TemporaryDirectory(prefix="narrator-") as tmp:
        root = Path(tmp)
        folder = root / packed.slug
        _write(folder, packed)
        try:
            loaded = load_story_files(folder)
        except StoryFileError as exc:
            raise StoryFileError(_tidy(exc.errors, root), _tidy(exc.warnings, root)) from None
    story = loaded.story if key is None else replace(loaded.story, slug=key)
    return replace(loaded, story=story, folder=Path(packed.slug), warnings=tuple(_tidy(loaded.warnings, root)))


def import_packed(data: bytes, *, file_name: str, slug: str, title: str | None = None,
                  author: str | None = None, cast_toml: bytes | None = None,
                  progress: Callable[[int, int], None] | None = None) -> tuple[PackedStory, LoadedStory, list[str]]:
    """Segment a story file into a new PackedStory. Returns it, its loaded form and the
    importer's messages. Raises StoryImportError / StoryFileError (one sentence per problem)."""
    safe_name = Path(file_name).name or "story.txt"
    with tempfile.TemporaryDirectory(prefix="narrator-") as tmp:
        root = Path(tmp)
        cast: list[Character] | None = None
        if cast_toml is not None:
            _no_card_paths(cast_toml)
            cast_path = root / "cast.toml"
            cast_path.write_bytes(cast_toml)
            try:
                cast = load_cast(cast_path)
            except StoryFileError as exc:
                raise StoryFileError(_tidy(exc.errors, root), _tidy(exc.warnings, root)) from None
        try:
            result = import_story(root / "stories", slug, data, file_name=safe_name, title=title,
                                  author=author, cast=cast, progress=progress)
        except StoryFileError as exc:
            raise StoryFileError(_tidy(exc.errors, root), _tidy(exc.warnings, root)) from None
        packed = _read(result.folder, slug)
        messages = _tidy(list(result.messages), root)
    loaded = unpack(packed)
    return packed, loaded, messages


def _no_card_paths(cast_toml: bytes) -> None:
    """An uploaded cast file comes alone: a `card` path in it could only point at files on the
    bot's own machine, so it is refused (with its line) instead of being read."""
    try:
        text = cast_toml.decode("utf-8-sig")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # load_cast reports it with its line
    tables = data.get("character", [])
    if not isinstance(tables, list) or not any(isinstance(t, dict) and "card" in t for t in tables):
        return
    line = next((n for n, ln in enumerate(text.splitlines(), 1) if re.match(r"\s*card\s*=", ln)), 1)
    raise StoryFileError([f"cast.toml:{line}: `card` cannot be used in a cast file sent through Discord; "
                          "remove that line (set the persona with /story cast instead)"])


def check_script(packed: PackedStory, script: str) -> tuple[PackedStory, LoadedStory]:
    """`packed` with `script` in place, if it validates; else StoryFileError listing every
    problem as `script.txt:LINE: what is wrong`."""
    candidate = replace(packed, script=script.replace("\r\n", "\n"))
    return candidate, unpack(candidate)


_LABEL = re.compile(r"^(?P<label>[^:\n]*?):(?P<rest>.*)$")


def set_speaker(packed: PackedStory, story: Story, beat_index: int, speaker: str | None) -> PackedStory:
    """The script with beat `beat_index` spoken by `speaker` (a cast key), or narration when
    None. Only that beat's label changes; every other line of the script stays as written."""
    beat = story.beat(beat_index)
    lines, at = _beat_line(packed, story, beat_index)
    m = _LABEL.match(lines[at])
    if m is None:
        raise StoryFileError([f"{SCRIPT_NAME}:{at + 1}: this beat has no 'LABEL:'; fix it in the script"])
    if speaker is None:
        label = "NARRATION"
    else:
        label = speaker.upper() + (" (thought)" if beat.kind == "thought" else "")
    lines[at] = f"{label}:{m.group('rest')}"
    return replace(packed, script="\n".join(_unmarked(lines, at)))  # checked: its mark goes


def _beat_line(packed: PackedStory, story: Story, beat_index: int) -> tuple[list[str], int]:
    """The script's lines and the index of the line where beat `beat_index` starts."""
    scenes, errors = parse_script(packed.script, story.characters)
    if errors:
        raise StoryFileError(errors)
    flat = [b for s in scenes for b in s.beats]
    if len(flat) != len(story) or not 0 <= beat_index < len(flat):
        raise StoryFileError([f"{SCRIPT_NAME}: the script no longer matches the story; send it again with /story import"])
    return packed.script.split("\n"), flat[beat_index].line - 1


def _unmarked(lines: list[str], at: int) -> list[str]:
    """`lines` without the `#?` review marks standing right above line `at`."""
    top = at
    while top > 0 and lines[top - 1].startswith(REVIEW_PREFIX):
        top -= 1
    return lines[:top] + lines[at:]


_FIELDS = ("avatar_url", "colour", "pronouns", "persona")


def edit_character(packed: PackedStory, key: str, changes: dict[str, str]) -> PackedStory:
    """story.toml with one character's avatar URL, colour, pronouns and persona replaced (an
    empty value clears the field). Validate with `unpack` before keeping it."""
    try:
        data = tomllib.loads(packed.story_toml)
    except tomllib.TOMLDecodeError as exc:
        raise StoryFileError([f"{STORY_TOML}: cannot be read ({exc})"]) from None
    for table in data.get("character", []):
        if not isinstance(table, dict):
            continue
        if (table.get("key") or _slug(str(table.get("name", "")))) == key:
            for name, value in changes.items():
                if name not in _FIELDS:
                    continue
                value = value.strip()
                if value:
                    table[name] = value
                else:
                    table.pop(name, None)
            break
    else:
        raise StoryFileError([f"{STORY_TOML}: no character with key {key!r}"])
    return replace(packed, story_toml=tomli_w.dumps(data))


def _slug(name: str) -> str:
    from bot.story.cast import slugify

    return slugify(name)
