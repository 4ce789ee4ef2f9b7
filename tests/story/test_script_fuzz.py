"""Generated stories survive the script format: save -> load gives back the same beats."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.story.model import Beat, Scene, Story
from bot.story.quotes import detect_style
from bot.story.script import quote_spans, unquoted_thought_spans
from bot.story.storage import load_story, save_story
from tests.story.storyfixtures import CAST

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÉéカ’'\"“”‘—:#=+()?!.,-0123456789", min_size=1,
                 max_size=12)
_PARA = st.lists(st.tuples(_WORDS, st.sampled_from([" ", " ", " ", "\n", "  ", "\t"])), min_size=1,
                 max_size=40)
_KEYS = [c.key for c in CAST]


@st.composite
def stories(draw: st.DrawFn) -> Story:
    n = draw(st.integers(1, 12))
    paragraphs = []
    for _ in range(n):
        parts = draw(_PARA)
        para = "".join(w + sep for w, sep in parts).strip()
        if any(ch.isalpha() for ch in para):
            paragraphs.append(para)
    if not paragraphs:
        paragraphs = ["Nothing happened."]
    text = "\n\n".join(paragraphs) + "\n"
    breaks = set(draw(st.lists(st.integers(1, max(1, len(paragraphs) - 1)), max_size=2)))
    scenes: list[list[Beat]] = [[]]
    pos = 0
    for i, para in enumerate(paragraphs):
        if i in breaks and scenes[-1]:
            scenes.append([])
        start = text.index(para, pos)
        pos = start + len(para)
        kind = draw(st.sampled_from(["narration", "dialogue", "thought", "note"]))
        speakers: tuple[str, ...] = ()
        quotes: tuple[tuple[int, int], ...] = ()
        if kind in ("dialogue", "thought"):
            speakers = tuple(dict.fromkeys(draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=3))))
            found = quote_spans(para, detect_style(text))
            if not found and kind == "thought":  # a thought without marks: its words, by the tag rules
                found = unquoted_thought_spans(para)
            quotes = tuple((start + a, start + b) for a, b in found)
        group = speakers if len(speakers) > 1 else ()
        scenes[-1].append(Beat(i, len(scenes) - 1, kind, para, speakers[0] if speakers else None,  # type: ignore[arg-type]
                               group, (start, pos), quotes))
    return Story("fuzz", "Fuzz", tuple(Scene(i, None, tuple(bs)) for i, bs in enumerate(scenes)), CAST,
                 text=text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories())
def test_generated_stories_round_trip(story: Story) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        save_story(Path(tmp) / "fuzz", story)
        loaded = load_story(Path(tmp) / "fuzz")
    assert loaded.beats == story.beats
    assert [s.index for s in loaded.scenes] == [s.index for s in story.scenes]


_LINES = st.lists(st.one_of(
    st.sampled_from(["", "# c", "=== Scene 1: x ===", "===", "GAARA: hi", "  continued", "\tmore",
                     "KIBA + NARUTO (thought): “x”", "NARRATION:", "? : y", "a:b:c", ":", "(thought): z",
                     "LEE (): w", "+ : v", "UNKNOWN + LEE: u", "\ufeffNOTE: n", "x" * 3000]),
    st.text(max_size=60),
), max_size=30)


@settings(max_examples=200, deadline=None)
@given(_LINES)
def test_any_script_text_gives_errors_with_lines_never_a_crash(lines: list[str]) -> None:
    from bot.story.script import parse_script
    text = "\n".join(lines)
    scenes, errors = parse_script(text, CAST, path="s.txt")
    count = text.count("\n") + 2
    for e in errors:
        assert e.startswith("s.txt:")
        assert 1 <= int(e.split(":")[1]) <= count
    for scene in scenes:
        for beat in scene.beats:
            assert beat.text.strip() and beat.kind in ("narration", "dialogue", "thought", "note")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_story_toml_is_a_story_file_error_or_loads(body: str) -> None:
    from bot.story.storage import StoryFileError, load_story_files
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "x"
        save_story(folder, Story("x", "X", (Scene(0, None, (Beat(0, 0, "narration", "Hello there."),)),),
                                 CAST, text="Hello there.\n"))
        (folder / "story.toml").write_text(body, encoding="utf-8")
        try:
            load_story_files(folder)
        except StoryFileError as exc:
            assert exc.errors and all(e.startswith(str(folder)) for e in exc.errors)
