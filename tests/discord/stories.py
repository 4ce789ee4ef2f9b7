"""Small story folders for end-to-end tests, written with the real story-file writer."""

from __future__ import annotations

from pathlib import Path

from bot.story.model import Beat, Character, Scene, Story
from bot.story.storage import save_story

CAST = (
    Character(key="gaara", name="Gaara", persona="A quiet boy of the sand. He speaks little."),
    Character(key="lee", name="Rock Lee", persona="Loud, loyal, and always training."),
    Character(key="clyde", name="Clyde Discord", persona="A name Discord would refuse."),
)


def make_story(slug: str, lines: list[list[tuple[str | None, str, str]]], *, title: str = "",
               cast: tuple[Character, ...] = CAST) -> Story:
    """`lines[scene]` = [(speaker or None, kind, paragraph)], where a dialogue paragraph holds
    its words in “curly quotes”."""
    text_parts: list[str] = []
    pos = 0
    scenes = []
    index = 0
    for s, scene_lines in enumerate(lines):
        beats = []
        for speaker, kind, para in scene_lines:
            start = pos
            quotes: list[tuple[int, int]] = []
            if kind in ("dialogue", "thought"):
                a = para.index("“") + 1
                b = para.index("”", a)
                quotes.append((start + a, start + b))
            beats.append(Beat(index=index, scene=s, kind=kind, text=para,  # type: ignore[arg-type]
                              speaker=speaker, speakers=(speaker,) if speaker else (),
                              source=(start, start + len(para)), quotes=tuple(quotes)))
            index += 1
            text_parts.append(para)
            pos += len(para) + 2
        scenes.append(Scene(index=s, title=f"Part {s + 1}", beats=tuple(beats)))
        text_parts[-1] += "\n\n* * *"
        pos += len("\n\n* * *")
    text = "\n\n".join(text_parts)
    return Story(slug=slug, title=title or slug.replace("-", " ").title(), scenes=tuple(scenes),
                 characters=cast, author="Test Author", content_warnings=("mild peril",), text=text)


def write_story(root: Path, story: Story) -> Path:
    return save_story(root / story.slug, story)


def short_story(slug: str = "short-tale", beats: int = 12, scenes: int = 2) -> Story:
    per = max(1, beats // scenes)
    lines = []
    n = 0
    for _s in range(scenes):
        scene = []
        for _ in range(per):
            if n % 3 == 0:
                scene.append((None, "narration", f"The wind moved over dune number {n}."))
            elif n % 3 == 1:
                scene.append(("gaara", "dialogue", f"“Line {n}, Lee,” Gaara said quietly."))
            else:
                scene.append(("lee", "dialogue", f"“Yosh, line {n}!” Lee shouted."))
            n += 1
        lines.append(scene)
    return make_story(slug, lines)
