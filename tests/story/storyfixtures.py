"""Hand-built stories for the story-files tests (no segmenter involved)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from bot.story.model import Beat, Character, Scene, Story
from bot.story.storage import save_story

CAST = (
    Character("gaara", "Gaara", ("Gaara-kun", "Sabaku no Gaara"), "he/him", colour="#b5362c",
              persona="Quiet.", deflection="I do not know yet."),
    Character("lee", "Rock Lee", ("Lee", "Bushy Brows"), "he/him",
              avatar_url="https://example.org/lee.png"),
    Character("kiba", "Kiba Inuzuka", ("Kiba",), "he/him"),
    Character("naruto", "Naruto Uzumaki", ("Naruto",), "he/him"),
    Character("shukaku", "Shukaku", ("the demon",), "he/him"),
)

TEXT = (
    "A/N: thanks for reading!\n\n"
    "The sand had stopped moving. Gaara lay\nin the clearing and listened.\n\n"
    "“Lee.” Gaara's voice was hoarse.\n\n"
    "“Let me out,” Shukaku hissed in the back of his mind.\n\n"
    "Lee grinned. “You are awake! I thought—”\n\n"
    "* * *\n\n"
    "“Yes!” Kiba and Naruto said together.\n\n"
    "Nobody answered.\n"
)


def span(text: str, part: str, start: int = 0) -> tuple[int, int]:
    i = text.index(part, start)
    return (i, i + len(part))


def make_story(slug: str = "tale", text: str = TEXT) -> Story:
    """Seven beats in two scenes: note, narration (hard-wrapped), dialogue, thought, group line."""
    def beat(i: int, scene: int, kind: str, part: str, speakers: tuple[str, ...] = (),
             quotes: tuple[str, ...] = ()) -> Beat:
        s = span(text, part)
        qs = tuple(span(text, q, s[0]) for q in quotes)
        group = speakers if len(speakers) > 1 else ()  # Beat.speakers lists group lines only
        return Beat(i, scene, kind, text[s[0]:s[1]], speakers[0] if speakers else None,  # type: ignore[arg-type]
                    group, s, qs)

    first = (
        beat(0, 0, "note", "A/N: thanks for reading!"),
        beat(1, 0, "narration", "The sand had stopped moving. Gaara lay\nin the clearing and listened."),
        beat(2, 0, "dialogue", "“Lee.” Gaara's voice was hoarse.", ("gaara",), ("Lee.",)),
        beat(3, 0, "thought", "“Let me out,” Shukaku hissed in the back of his mind.", ("shukaku",),
             ("Let me out,",)),
        beat(4, 0, "dialogue", "Lee grinned. “You are awake! I thought—”", ("lee",),
             ("You are awake! I thought—",)),
    )
    second = (
        beat(5, 1, "dialogue", "“Yes!” Kiba and Naruto said together.", ("kiba", "naruto"), ("Yes!",)),
        beat(6, 1, "narration", "Nobody answered."),
    )
    return Story(slug=slug, title="A Tale", scenes=(Scene(0, "After the battle", first),
                                                    Scene(1, None, second)),
                 characters=CAST, author="Someone", credit="An anonymous author",
                 source_note="Written for the tests.", content_warnings=("injury",), text=text)


def write_story(root: Path, slug: str = "tale", **kw: object) -> Path:
    folder = root / slug
    save_story(folder, make_story(slug), **kw)  # type: ignore[arg-type]
    return folder


def bench_annotations() -> ModuleType:
    """bench/annotations.py (the annotated-text format and scorer), loaded once as a module."""
    if "bench_annotations" in sys.modules:
        return sys.modules["bench_annotations"]
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("bench_annotations", root / "bench" / "annotations.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
