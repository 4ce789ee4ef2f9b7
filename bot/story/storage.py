"""Story folders on disk: load and validate `story.toml` + source + `script.txt`, save, import.

A folder `story_data/<slug>/` holds the original text (verbatim), `story.toml` (metadata, cast,
and in `[import]` the hash of the script as the importer wrote it) and `script.txt`, the reviewed
script the bot plays. Loading reports every problem at once as `path:line: what; what to do`.
Re-importing never overwrites a hand-edited script: the hash in `[import]` tells edits apart.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from bot.story.cards import CardError, card_persona, load_card
from bot.story.cast import (
    StoryFileError,
    cast_to_tables,
    check_cast,
    image_url_problem,
    lenient_cast,
    merge_cast,
    parse_toml,
    read_characters,
)
from bot.story.files import (
    MAX_TEXT_BYTES,
    MAX_TOML_BYTES,
    MB,
    StoryPathError,
    inside,
    read_capped,
    read_story_file,
)
from bot.story.model import Character, Scene, Story
from bot.story.readers import Document, StoryImportError
from bot.story.script import RESERVED_LABELS, SCRIPT_NAME, build_scenes, parse_script, render_script
from bot.story.sources import to_document

__all__ = ["ImportResult", "LoadedStory", "StoryFileError", "import_story", "load_story",
           "load_story_files", "save_story", "script_hash", "valid_slug"]

STORY_TOML = "story.toml"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
STORY_FIELDS = ("title", "author", "credit", "source_note", "content_warnings", "language",
                "narrator_name", "narrator_avatar_url", "source", "script", "include_notes")
SOURCE_FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html",
                  ".htm": "html", ".xhtml": "html", ".epub": "epub"}


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.match(slug))


def script_hash(text: str) -> str:
    """Hash of a script's content; line-ending style alone does not count as an edit."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadedStory:
    """A validated story folder: the Story plus the settings that live beside it."""

    story: Story
    folder: Path
    include_notes: bool = False
    source_file: str = "source.txt"
    script_file: str = SCRIPT_NAME
    warnings: tuple[str, ...] = ()
    import_info: dict[str, Any] = field(default_factory=dict)


def _source_format(name: str) -> str | None:
    return SOURCE_FORMATS.get(Path(name).suffix.lower())


def read_source(path: Path, *, folder: Path | None = None) -> Document:
    """The story text exactly as the importer read it (same reader, same offsets). With `folder`
    (the story folder naming it) the file must stay inside it and within the size cap."""
    data = read_story_file(folder, path, MAX_TEXT_BYTES, what="source") if folder is not None \
        else read_capped(path, MAX_TEXT_BYTES, what="source")
    return to_document(data, fmt=_source_format(path.name), name=str(path))


def load_story_files(folder: Path) -> LoadedStory:
    """Load and validate one story folder. Raises StoryFileError listing every problem."""
    errors: list[str] = []
    warnings: list[str] = []
    toml_path = folder / STORY_TOML
    if not folder.is_dir():
        raise StoryFileError([f"{folder}: no such story folder; import one with "
                              "narrator import FILE --slug SLUG"])
    if not toml_path.is_file():
        raise StoryFileError([f"{toml_path}:1: missing; every story folder needs a story.toml "
                              "(narrator import writes one)"])
    try:
        inside(folder, toml_path, what="story.toml")
        if toml_path.stat().st_size > MAX_TOML_BYTES:
            raise StoryPathError(f"{toml_path}:1: story.toml is over {MAX_TOML_BYTES // MB} MB; it holds only "
                                 "the story's details and cast, so something else was saved into it")
    except StoryPathError as exc:
        raise StoryFileError([str(exc)]) from None
    if not valid_slug(folder.name):
        errors.append(f"{folder}: folder name {folder.name!r} is not a valid story id; rename it "
                      "to lowercase letters, digits and hyphens, like 'precious-person'")
    parsed = parse_toml(toml_path, errors)
    if parsed is None:
        raise StoryFileError(errors)
    data, lines = parsed
    meta = data.get("story")
    story_span = lines.table("[story")

    def where(key: str) -> str:
        return f"{toml_path}:{lines.key(key, story_span) if key else story_span[0]}"

    if not isinstance(meta, dict):
        errors.append(f"{toml_path}:1: no [story] table; add [story] with at least title and "
                      "source")
        meta = {}
    for key in meta:
        if key not in STORY_FIELDS:
            warnings.append(f"{where(key)}: warning: unknown field {key!r} in [story] is ignored; "
                            f"known fields: {', '.join(STORY_FIELDS)}")
    for key in data:
        if key not in ("story", "character", "import"):
            warnings.append(f"{toml_path}:{lines.table('[' + key)[0]}: warning: unknown table "
                            f"{key!r} is ignored")

    def text(key: str, default: str = "", *, required: bool = False) -> str:
        value = meta.get(key, default)
        if not isinstance(value, str):
            errors.append(f"{where(key)}: {key} must be text in quotes (got {value!r})")
            return default
        if required and not value.strip():
            errors.append(f"{where(key)}: {key} is missing; add {key} = \"...\"")
        return value.strip()

    title = text("title", required=True)
    author = text("author")
    credit = text("credit")
    source_note = text("source_note")
    language = text("language", "en") or "en"
    if not _LANG.match(language):
        errors.append(f"{where('language')}: language {language!r} should be a language code "
                      "like \"en\" or \"pt-BR\"")
    narrator_name = text("narrator_name", "Narrator") or "Narrator"
    if len(narrator_name) > 80:
        errors.append(f"{where('narrator_name')}: narrator_name is over Discord's 80-character "
                      "limit; shorten it")
    narrator_avatar = text("narrator_avatar_url") or None
    if narrator_avatar:
        why = image_url_problem(narrator_avatar)
        if why:
            errors.append(f"{where('narrator_avatar_url')}: narrator_avatar_url "
                          f"{narrator_avatar!r} {why}")
    warnings_raw = meta.get("content_warnings", [])
    content_warnings: tuple[str, ...] = ()
    if not isinstance(warnings_raw, list) or not all(isinstance(w, str) for w in warnings_raw):
        errors.append(f"{where('content_warnings')}: content_warnings must be a list of text, "
                      "like [\"injury\", \"violence\"] (or [] for none)")
    else:
        content_warnings = tuple(w.strip() for w in warnings_raw if w.strip())
    include_notes = meta.get("include_notes", False)
    if not isinstance(include_notes, bool):
        errors.append(f"{where('include_notes')}: include_notes must be true or false (no quotes)")
        include_notes = False
    source_name = text("source", required=True)
    script_name = text("script", SCRIPT_NAME) or SCRIPT_NAME
    for key, name in (("source", source_name), ("script", script_name)):
        if name and (Path(name).name != name or name.startswith(".")):
            errors.append(f"{where(key)}: {key} must be a file name inside the story folder, "
                          f"not a path (got {name!r})")
    import_info = data.get("import", {})
    if not isinstance(import_info, dict):
        import_info = {}

    errors_before_cast = len(errors)
    characters = read_characters(data, lines, toml_path, folder=folder, errors=errors,
                                 warnings=warnings)
    speakers = characters if len(errors) == errors_before_cast else lenient_cast(data)

    doc: Document | None = None
    source_path = folder / source_name
    if source_name and Path(source_name).name == source_name:
        if not source_path.is_file():
            errors.append(f"{where('source')}: source file {source_name!r} not found in {folder}; "
                          "put the original text there or fix the name")
        else:
            try:
                doc = read_source(source_path, folder=folder)
            except (StoryImportError, StoryPathError) as exc:
                errors.append(str(exc))
            except OSError as exc:
                errors.append(f"{source_path}: cannot read ({exc.strerror})")

    scenes: tuple[Scene, ...] = ()
    script_path = folder / script_name
    if Path(script_name).name == script_name:
        try:
            script_text = read_story_file(folder, script_path, MAX_TEXT_BYTES, what="script").decode("utf-8-sig")
        except StoryPathError as exc:
            errors.append(str(exc))
            script_text = None
        except FileNotFoundError:
            errors.append(f"{script_path}:1: missing; re-import the story to write it "
                          "(narrator import FILE --slug SLUG --force)")
            script_text = None
        except UnicodeDecodeError as exc:
            errors.append(f"{script_path}: not UTF-8 text (bad byte at position {exc.start}); "
                          "save it as UTF-8 in your editor")
            script_text = None
        if script_text is not None:
            parsed_script, script_errors = parse_script(script_text, speakers,
                                                        path=str(script_path))
            errors.extend(script_errors)
            if doc is not None and not script_errors:
                scenes, beat_errors, beat_warnings = build_scenes(
                    parsed_script, doc.text, path=str(script_path), source_name=source_name,
                    italics=doc.italics)
                errors.extend(beat_errors)
                warnings.extend(beat_warnings)
    if errors:
        raise StoryFileError(errors, warnings)
    assert doc is not None
    story = Story(
        slug=folder.name, title=title, scenes=scenes, characters=tuple(characters),
        author=author, credit=credit, source_note=source_note, content_warnings=content_warnings,
        language=language, narrator_name=narrator_name, narrator_avatar_url=narrator_avatar,
        text=doc.text,
    )
    return LoadedStory(story=story, folder=folder, include_notes=include_notes,
                       source_file=source_name, script_file=script_name,
                       warnings=tuple(warnings), import_info=dict(import_info))


def load_story(folder: Path) -> Story:
    """Load and validate `folder` (story.toml + source + script). Raises StoryFileError."""
    return load_story_files(folder).story


# ---------------------------------------------------------------------------------------------
# Saving


def story_toml_text(story: Story, *, source_name: str, script_name: str = SCRIPT_NAME,
                    include_notes: bool = False, import_info: dict[str, Any] | None = None,
                    comment: str = "") -> str:
    meta: dict[str, Any] = {
        "title": story.title,
        "author": story.author,
        "credit": story.credit,
        "source_note": story.source_note,
        "content_warnings": list(story.content_warnings),
        "language": story.language,
        "narrator_name": story.narrator_name,
    }
    if story.narrator_avatar_url:
        meta["narrator_avatar_url"] = story.narrator_avatar_url
    meta.update(source=source_name, script=script_name, include_notes=include_notes)
    head = ["# Story settings and cast for the narrator. Check edits with: "
            f"narrator check {story.slug}"]
    head.extend(f"# {line}".rstrip() for line in comment.splitlines())
    # [story] first, then one [[character]] table per character (never an inline array, which
    # tomli_w picks for a short cast and which is awkward to edit), then the import record.
    parts = [tomli_w.dumps({"story": meta}, multiline_strings=False)]
    for table in cast_to_tables(story.characters):
        parts.append("[[character]]\n" + tomli_w.dumps(table, multiline_strings=False))
    if not story.characters:
        parts.append("# No characters yet: add one [[character]] table per speaker, e.g.\n"
                     "# [[character]]\n# name = \"Mara\"\n# aliases = [\"Mara-san\"]\n"
                     "# pronouns = \"she/her\"\n")
    if import_info:
        parts.append(tomli_w.dumps({"import": import_info}, multiline_strings=False))
    return "\n".join(head) + "\n\n" + "\n".join(parts)


def _write(path: Path, data: str | bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8", newline="\n")
    else:
        tmp.write_bytes(data)
    tmp.replace(path)


def save_story(folder: Path, story: Story, *, source: bytes | None = None,
               source_name: str = "source.txt", include_notes: bool = False,
               import_info: dict[str, Any] | None = None, script_text: str | None = None,
               comment: str = "") -> Path:
    """Write story.toml, the source (given bytes, else `story.text` as UTF-8) and script.txt.

    Returns the folder. `script_text` defaults to the rendered script of `story`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / source_name, source if source is not None else story.text.encode("utf-8"))
    script = script_text if script_text is not None else render_script(story)
    _write(folder / SCRIPT_NAME, script)
    _write(folder / STORY_TOML, story_toml_text(story, source_name=source_name,
                                                include_notes=include_notes,
                                                import_info=import_info, comment=comment))
    return folder


# ---------------------------------------------------------------------------------------------
# Importing


@dataclass(frozen=True)
class ImportResult:
    folder: Path
    story: Story
    script_written: Path  # script.txt, or script.new.txt when script.txt had manual edits
    kept_edits: bool  # True: script.txt was left alone because it had been edited
    backup: Path | None  # script.txt.bak when --force replaced an edited script
    cast_from: str  # "cast-file", "story.toml" or "discovered"
    messages: tuple[str, ...] = ()


def _existing(folder: Path) -> tuple[dict[str, Any], list[Character], dict[str, Any]]:
    """[story], characters and [import] of an existing story.toml (empty when unreadable)."""
    errors: list[str] = []
    parsed = parse_toml(folder / STORY_TOML, errors) if (folder / STORY_TOML).is_file() else None
    if parsed is None:
        return {}, [], {}
    data, lines = parsed
    warnings: list[str] = []
    chars = read_characters(data, lines, folder / STORY_TOML, folder=None, errors=errors,
                            warnings=warnings)
    meta = data.get("story") if isinstance(data.get("story"), dict) else {}
    info = data.get("import") if isinstance(data.get("import"), dict) else {}
    assert isinstance(meta, dict) and isinstance(info, dict)
    return meta, chars, info


def _copy_cards(cast: Sequence[Character], cast_dir: Path, folder: Path) -> list[Character]:
    """Copy the cast's card files into the story folder. A persona that merely repeats the card
    is left out of story.toml, so editing the card later still changes the character."""
    out = []
    for c in cast:
        card = c.card
        if card and (cast_dir / card).is_file():
            try:
                if c.persona == card_persona(load_card(cast_dir / card), c.name):
                    c = replace(c, persona="")
            except CardError:
                pass  # load_cast already reported a bad card
            if not (folder / card).is_file():
                target = Path("cards") / Path(card).name
                (folder / "cards").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(cast_dir / card, folder / target)
                c = replace(c, card=target.as_posix())
        out.append(c)
    return out


def import_story(root: Path, slug: str, data: bytes, *, file_name: str,
                 title: str | None = None, author: str | None = None,
                 cast: Sequence[Character] | None = None, cast_dir: Path | None = None,
                 force: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Segment `data` and write `root/slug/`. Never silently replaces a hand-edited script.

    The cast is `cast` when given (details missing from it are kept from an existing story.toml),
    else the existing story.toml's cast, else one discovered from the text (marked for review).
    Raises StoryImportError for unreadable input and StoryFileError for a bad slug.
    """
    from bot.story.segmenter import discover_cast, segment

    if not valid_slug(slug):
        raise StoryFileError([f"--slug {slug!r}: use lowercase letters, digits and hyphens, like "
                              "'precious-person'"])
    fmt = _source_format(file_name) or None
    doc = to_document(data, fmt=fmt, name=file_name)
    folder = root / slug
    old_meta, old_cast, old_info = _existing(folder)
    new_source_hash = hashlib.sha256(data).hexdigest()
    old_file = old_info.get("original_file")
    other_story = (isinstance(old_file, str) and old_file != Path(file_name).name
                   and old_info.get("source_sha256") not in (None, new_source_hash))
    if other_story and not force:
        # A different file under a slug that is taken: most likely a slip, and importing would
        # replace someone's story. Re-importing the same file (edited or not) is always allowed.
        raise StoryFileError([
            f"{folder}: the slug {slug!r} already holds {old_meta.get('title', slug)!r} "
            f"(imported from {old_file}); choose another --slug, or pass --force to replace it "
            "(the old story.toml, source and script are kept as .bak files)"])
    if cast is not None:
        chars = merge_cast(cast, old_cast)
        cast_from = "cast-file"
        if cast_dir is not None:
            chars = _copy_cards(chars, cast_dir, folder)
    elif old_cast:
        chars, cast_from = list(old_cast), "story.toml"
    else:
        # a guessed "Narrator" or "Note" would clash with the script's own labels
        chars = [c for c in discover_cast(doc)
                 if c.key.casefold() not in RESERVED_LABELS and c.name.casefold() not in RESERVED_LABELS]
        cast_from = "discovered"
    errors: list[str] = []
    warnings: list[str] = []
    check_cast(chars, lambda i: f"cast: character {i + 1} ({chars[i].name})", errors, warnings)
    if errors:
        raise StoryFileError(errors, warnings)

    def keep(key: str, fallback: str) -> str:
        value = old_meta.get(key)
        return value if isinstance(value, str) and value.strip() else fallback

    first_heading = doc.text[doc.headings[0][0]:doc.headings[0][1]].strip() if doc.headings else ""
    story_title = title or keep("title", "") or doc.title or first_heading or slug.replace("-", " ").title()
    text_warnings: list[str] = []  # e.g. "tale.txt:12: warning: this quote is never closed …"
    story = segment(doc, chars, slug=slug, title=story_title, progress=progress, warnings=text_warnings)
    cw = old_meta.get("content_warnings")
    story = replace(
        story,
        slug=slug,
        title=story_title,
        characters=tuple(chars),
        author=author if author is not None else keep("author", story.author),
        credit=keep("credit", story.credit),
        source_note=keep("source_note", story.source_note),
        content_warnings=tuple(cw) if isinstance(cw, list) else story.content_warnings,
        language=keep("language", story.language),
        narrator_name=keep("narrator_name", story.narrator_name),
        narrator_avatar_url=keep("narrator_avatar_url", story.narrator_avatar_url or "") or None,
    )
    ext = ".epub" if fmt == "epub" else {"txt": ".txt", "md": ".md", "html": ".html"}[doc.fmt]
    source_name = "source" + ext
    messages: list[str] = [*doc.warnings, *text_warnings]  # e.g. "read as Windows-1252"
    note = ""
    if cast_from == "discovered":
        note = ("The cast in story.toml was guessed from the text. Check each character's name, "
                "aliases and pronouns, then re-import with the same command to attribute again.")
    script = render_script(story, note=note)
    new_hash = script_hash(script)

    folder.mkdir(parents=True, exist_ok=True)
    script_path = folder / SCRIPT_NAME
    kept_edits = False
    backup: Path | None = None
    written = script_path
    if script_path.is_file():
        current = script_path.read_bytes().decode("utf-8", errors="replace")
        edited = script_hash(current) != old_info.get("script_sha256")
        if edited and current.replace("\r\n", "\n") != script:
            if force:
                backup = folder / (SCRIPT_NAME + ".bak")
                shutil.copyfile(script_path, backup)
                messages.append(f"{script_path} had manual edits; the old version is in {backup}")
            else:
                kept_edits = True
                written = folder / "script.new.txt"
                messages.append(
                    f"{script_path} has manual edits, so it was left as it is and the new script "
                    f"was written to {written}. Compare the two, move your fixes over and rename "
                    f"{written.name} to {SCRIPT_NAME} — or re-run with --force to replace "
                    f"{SCRIPT_NAME} (the old one is kept as {SCRIPT_NAME}.bak).")
    old_source = old_meta.get("source")
    if isinstance(old_source, str) and old_source != source_name and (folder / old_source).is_file():
        messages.append(f"the previous source {folder / old_source} was kept; delete it if you no "
                        "longer need it")
    toml_path = folder / STORY_TOML
    if toml_path.is_file():
        shutil.copyfile(toml_path, folder / (STORY_TOML + ".bak"))
    if other_story:
        # --force over a different story: keep what it replaces
        if (folder / source_name).is_file():
            shutil.copyfile(folder / source_name, folder / (source_name + ".bak"))
        if script_path.is_file() and backup is None and written == script_path:
            backup = folder / (SCRIPT_NAME + ".bak")
            shutil.copyfile(script_path, backup)
        messages.append(f"replaced the story imported from {old_file}; its files are kept in "
                        f"{folder} as .bak")
    info = {
        "script_sha256": new_hash,
        "source_sha256": new_source_hash,
        "imported_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "cast": cast_from,
        "original_file": Path(file_name).name,
    }
    comment = ""
    if cast_from == "discovered":
        comment = ("REVIEW THE CAST: these characters were discovered automatically from the "
                   "text.\nFix names, aliases and pronouns (add key, colour, avatar_url, persona "
                   "as you like),\nthen re-import to attribute the lines again.")
    _write(folder / source_name, data)
    _write(written, script)
    _write(toml_path, story_toml_text(story, source_name=source_name,
                                      include_notes=bool(old_meta.get("include_notes", False)),
                                      import_info=info, comment=comment))
    if not kept_edits:
        # What was written must load: say so now rather than when a moderator starts the story.
        try:
            load_story_files(folder)
        except StoryFileError as exc:
            messages.extend(exc.errors[:10])
            messages.append(f"fix the problems above, then run: narrator check {slug}")
    return ImportResult(folder=folder, story=story, script_written=written,
                        kept_edits=kept_edits, backup=backup, cast_from=cast_from,
                        messages=tuple(messages))
