"""Every story folder under STORY_DIR, loaded once; a broken folder is reported, never fatal.

A story folder must really live in STORY_DIR: a symlink to a folder elsewhere is refused with a
warning (whoever can write STORY_DIR must not be able to make the bot read any folder on the
machine). Each folder contributes at most MAX_WARNINGS_PER_FOLDER problems, then a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.story.files import capped
from bot.story.model import Story
from bot.story.storage import LoadedStory, StoryFileError, load_story_files


@dataclass
class Library:
    stories: dict[str, Story] = field(default_factory=dict)  # slug -> story, slugs sorted
    errors: list[str] = field(default_factory=list)  # "path:line: what is wrong" for bad folders
    warnings: list[str] = field(default_factory=list)
    entries: dict[str, LoadedStory] = field(default_factory=dict)  # the folder details per slug

    def get(self, slug: str) -> Story | None:
        return self.stories.get(slug)

    def include_notes(self, slug: str) -> bool:
        """story.toml's include_notes: whether authors' notes are played."""
        entry = self.entries.get(slug)
        return entry.include_notes if entry else False

    def slugs(self) -> list[str]:
        return list(self.stories)


def story_folders(root: Path) -> list[Path]:
    """Sub-folders of `root` that are meant to be stories (hidden and `_` folders skipped)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and p.name != "__pycache__")


def load_library(root: Path) -> Library:
    """Load every story folder in `root`; bad folders end up in `.errors`, the rest load."""
    lib = Library()
    if not root.is_dir():
        lib.errors.append(f"{root}: story folder not found; set STORY_DIR or create it")
        return lib
    base = root.resolve()
    for folder in story_folders(root):
        real = folder.resolve()
        if real.parent != base:
            lib.errors.append(f"{folder}: a link to {real}, outside {root}; skipped. Move the story folder "
                              f"into {root} (story folders are read as untrusted input, from there only)")
            continue
        try:
            entry = load_story_files(folder)
        except StoryFileError as exc:
            lib.errors.extend(capped(exc.errors, folder))
            lib.warnings.extend(capped(exc.warnings, folder))
            continue
        lib.entries[folder.name] = entry
        lib.stories[folder.name] = entry.story
        lib.warnings.extend(capped(entry.warnings, folder))
    return lib
