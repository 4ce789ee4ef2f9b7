"""`narrator import|segment|export|check`: turn a text into a story folder, inspect and validate it."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.cli import CliError
from bot.config import Settings
from bot.story.cast import StoryFileError, load_cast
from bot.story.jsonview import story_to_json
from bot.story.library import story_folders
from bot.story.model import Character
from bot.story.readers import StoryImportError
from bot.story.script import review_marks
from bot.story.storage import import_story, load_story_files, valid_slug

PROGRESS_MIN_CHARS = 100_000  # below this an import is instant and needs no progress line


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="import a story file into story_data/",
                       description="Segment a story (.txt, .md or .html) and write STORY_DIR/SLUG/: "
                                   "the source, story.toml and script.txt for review.")
    p.add_argument("file", type=Path, help="the story file (.txt, .md, .html or .epub)")
    p.add_argument("--slug", required=True, help="folder name / story id, e.g. precious-person")
    p.add_argument("--title", help="story title (default: the file's first heading or the slug)")
    p.add_argument("--author", help="author name")
    p.add_argument("--cast", type=Path, help="cast TOML: [[character]] name, aliases, pronouns")
    p.add_argument("--force", action="store_true",
                   help="replace a hand-edited script.txt (a backup is kept as script.txt.bak)")
    p.set_defaults(func=_import)

    p = sub.add_parser("segment", help="print the automatic segmentation of a file as JSON",
                       description="Segment a story file and print the result as JSON; nothing "
                                   "is saved.")
    p.add_argument("file", type=Path, help="the story file (.txt, .md, .html or .epub)")
    p.add_argument("--cast", type=Path, help="cast TOML: [[character]] name, aliases, pronouns")
    p.set_defaults(func=_segment)

    p = sub.add_parser("export", help="print a stored story's reviewed script as JSON",
                       description="Print the reviewed script of STORY_DIR/SLUG/ as JSON (beat "
                                   "numbers are the ones narrator ask --at uses).")
    p.add_argument("slug", metavar="SLUG", help="story id (its folder name), e.g. precious-person")
    p.set_defaults(func=_export)

    p = sub.add_parser("check", help="validate story folders",
                       description="Validate story folders (all when none is named). Prints "
                                   "file:line problems; exit status 1 when there are errors.")
    p.add_argument("slugs", nargs="*", metavar="SLUG", help="story ids to check (default: all)")
    p.set_defaults(func=_check)


# Formats people export from word processors and e-book tools: their bytes are not the story
# text, so reading them as plain text would import markup or garbage.
UNSUPPORTED = {".rtf": "RTF", ".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".odt": "OpenDocument",
               ".mobi": "Kindle", ".azw3": "Kindle", ".pages": "Pages"}


def _read_input(path: Path) -> bytes:
    kind = UNSUPPORTED.get(path.suffix.lower())
    if kind:
        raise CliError(f"{path}: {kind} files cannot be read; save the story as plain text (.txt), "
                       "Markdown (.md) or a single HTML page (.html) and import that")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a folder; give the story file itself") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror})") from None


def _cast(path: Path | None) -> list[Character] | None:
    if path is None:
        return None
    try:
        return load_cast(path)
    except StoryFileError as exc:
        # every problem in the cast file at once, one `file:line: ...` per line
        raise CliError(_all(exc.errors)) from None


def _all(errors: list[str]) -> str:
    """Every problem, one per line, in file and line order."""
    def order(e: str) -> tuple[str, int]:
        m = re.match(r"(.*?):(\d+): ", e)
        return (m.group(1), int(m.group(2))) if m else (e, 0)
    return "\n".join(sorted(errors, key=order))


def _summary(errors: list[str]) -> str:
    more = len(errors) - 1
    return errors[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else "")


def _progress_printer(total_chars: int, out: TextIO) -> Callable[[int, int], None] | None:
    if total_chars < PROGRESS_MIN_CHARS:
        return None
    shown = -1
    tty = out.isatty()

    def show(done: int, total: int) -> None:
        nonlocal shown
        pct = 100 * done // total if total else 100
        step = pct if tty else pct - pct % 10
        if step <= shown:
            return
        shown = step
        if tty:
            out.write(f"\rsegmenting: {pct:3d}%")
            if pct >= 100:
                out.write("\n")
        else:
            out.write(f"segmenting: {step}%\n")
        out.flush()

    return show


def _import(args: argparse.Namespace, settings: Settings) -> int:
    if not valid_slug(args.slug):
        raise CliError(f"--slug {args.slug!r}: use lowercase letters, digits and hyphens, like "
                       "'precious-person'")
    data = _read_input(args.file)
    cast = _cast(args.cast)
    progress = _progress_printer(len(data), sys.stderr)
    try:
        result = import_story(settings.story_dir, args.slug, data, file_name=str(args.file),
                              title=args.title, author=args.author, cast=cast,
                              cast_dir=args.cast.parent if args.cast else None, force=args.force,
                              progress=progress)
    except StoryImportError as exc:
        raise CliError(str(exc)) from None
    except StoryFileError as exc:
        raise CliError(_all(exc.errors)) from None
    except OSError as exc:
        raise CliError(f"{settings.story_dir / args.slug}: cannot write ({exc.strerror}); check "
                       "the folder's permissions and free space") from None
    story = result.story
    voiced = sum(1 for b in story.beats if b.kind in ("dialogue", "thought"))
    unknown = sum(1 for b in story.beats if b.kind in ("dialogue", "thought") and not b.speaker)
    print(f"imported {story.title!r} into {result.folder}: {len(story.scenes)} scenes, "
          f"{len(story)} beats, {voiced} spoken or thought lines"
          + (f" ({unknown} with an UNKNOWN speaker)" if unknown else ""))
    if result.cast_from == "discovered":
        names = ", ".join(c.name for c in story.characters) or "none found"
        print(f"cast discovered from the text ({names}): review it in "
              f"{result.folder / 'story.toml'}, or pass --cast CAST.toml")
    for msg in result.messages:
        print(msg, file=sys.stderr)
    print(f"next: review {result.script_written} (fix speakers before the colon), then run "
          f"narrator check {args.slug}")
    _print_review(result.script_written)
    return 0


def _print_review(script: Path, *, summary: bool = True) -> int:
    """List the script's `#? CHECK` lines (file:line, the words, the guess, the runner-up) and
    (with `summary`) end with "N lines to review"; returns N."""
    try:
        marks = review_marks(script.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return 0
    for m in marks:
        words = " ".join(m.words.split())
        q = min((i for i in (words.find(c) for c in "\"“‘'«") if i >= 0), default=0)
        words = words[q:]  # the spoken words, not the narration before them
        words = words if len(words) <= 72 else words[:69] + "..."
        conf = f" ({round(100 * m.confidence)}% sure)" if m.confidence is not None else ""
        other = f", runner-up {m.runner_up}" if m.runner_up else ""
        print(f"{script}:{m.line}: {words!r} — guessed {m.label}{other}{conf}")
    n = len(marks)
    if not summary:
        return n
    print(f"{n} line{'s' * (n != 1)} to review" + (f" (the '#?' lines in {script.name}: check the speaker, "
                                                   "then delete the marker)" if n else ""))
    return n


def _segment(args: argparse.Namespace, settings: Settings) -> int:
    from bot.story.segmenter import discover_cast, segment
    from bot.story.sources import to_document

    data = _read_input(args.file)
    cast = _cast(args.cast)
    try:
        doc = to_document(data, name=str(args.file))
        # the same title import would give (the document's own, else its first heading)
        heading = doc.text[doc.headings[0][0]:doc.headings[0][1]].strip() if doc.headings else ""
        warnings: list[str] = []
        story = segment(doc, cast if cast is not None else discover_cast(doc),
                        slug=args.file.stem, title=doc.title or heading or args.file.stem, warnings=warnings)
    except StoryImportError as exc:
        raise CliError(str(exc)) from None
    for line in [*doc.warnings, *warnings]:
        print(line, file=sys.stderr)
    _print_json(story_to_json(story))
    return 0


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1))
    sys.stdout.write("\n")


def _export(args: argparse.Namespace, settings: Settings) -> int:
    folder = settings.story_dir / args.slug
    if not valid_slug(args.slug) or not folder.is_dir():
        raise CliError(f"{folder}: no such story; {_known(settings.story_dir)}")
    try:
        loaded = load_story_files(folder)
    except StoryFileError as exc:
        raise CliError(f"{_summary(exc.errors)}; run: narrator check {args.slug}") from None
    for line in loaded.warnings:
        print(line, file=sys.stderr)
    _print_json(story_to_json(loaded.story))
    return 0


def _known(root: Path) -> str:
    slugs = [p.name for p in story_folders(root)]
    return f"stories in {root}: {', '.join(slugs)}" if slugs else f"{root} holds no stories yet"


def _check(args: argparse.Namespace, settings: Settings) -> int:
    root = settings.story_dir
    if args.slugs:
        folders = [root / s for s in args.slugs]
    else:
        if not root.is_dir():
            raise CliError(f"{root}: no such folder; set STORY_DIR to the folder that holds your "
                           "stories (default: story_data)")
        folders = story_folders(root)
        if not folders:
            raise CliError(f"{root}: no story folders to check; import one with narrator import "
                           "FILE --slug SLUG")
    errors = 0
    warnings = 0
    beats = 0
    reviewed: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            print(f"{folder}: no such story folder; {_known(root)}")
            errors += 1
            continue
        try:
            loaded = load_story_files(folder)
        except StoryFileError as exc:
            for line in exc.errors:
                print(line)
            for line in exc.warnings:
                print(line)
            errors += len(exc.errors)
            warnings += len(exc.warnings)
            continue
        for line in loaded.warnings:
            print(line)
        warnings += len(loaded.warnings)
        beats += len(loaded.story)
        reviewed.append(folder / loaded.script_file)
    n = len(folders)
    stories = f"{n} stor{'y' if n == 1 else 'ies'}"
    if errors:
        print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
              f"in {stories}; fix the lines above and run narrator check again", file=sys.stderr)
        return 1
    todo = sum(_print_review(script, summary=False) for script in reviewed)
    print(f"OK: {stories}, {beats} beats" + (f", {warnings} warning{'s' * (warnings != 1)}"
                                              if warnings else "")
          + f", {todo} line{'s' * (todo != 1)} to review")
    return 0
