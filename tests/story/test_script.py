"""The script format: round trip, speaker labels, every validation error with its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.story.script import (
    ScriptBeat,
    parse_script,
    place_beats,
    quote_spans,
    render_script,
)
from bot.story.storage import StoryFileError, load_story, load_story_files
from tests.story.storyfixtures import CAST, TEXT, make_story, write_story


def test_save_then_load_gives_the_same_story(tmp_path: Path) -> None:
    story = make_story()
    folder = write_story(tmp_path)
    loaded = load_story(folder)
    assert loaded == story
    assert loaded.beats == story.beats  # offsets and quotes recomputed identically
    assert loaded.content_hash() == story.content_hash()


def test_script_shows_speaker_and_scenes_at_a_glance(tmp_path: Path) -> None:
    script = (write_story(tmp_path) / "script.txt").read_text(encoding="utf-8")
    body = [ln for ln in script.splitlines() if ln and not ln.startswith("#")]
    assert body == [
        "=== Scene 1: After the battle ===",
        "NOTE: A/N: thanks for reading!",
        "NARRATION: The sand had stopped moving. Gaara lay in the clearing and listened.",
        "GAARA: “Lee.” Gaara's voice was hoarse.",
        "SHUKAKU (thought): “Let me out,” Shukaku hissed in the back of his mind.",
        "LEE: Lee grinned. “You are awake! I thought—”",
        "=== Scene 2 ===",
        "KIBA + NARUTO: “Yes!” Kiba and Naruto said together.",
        "NARRATION: Nobody answered.",
    ]


def test_long_beats_wrap_and_read_back_exactly(tmp_path: Path) -> None:
    sentence = "The wind moved over the dunes and nobody said a word about it. "
    long_text = (sentence * 25).strip()
    text = f"{long_text}\n\n“Done,” Gaara said.\n"
    from bot.story.model import Beat, Scene, Story
    beats = (Beat(0, 0, "narration", long_text, source=(0, len(long_text))),
             Beat(1, 0, "dialogue", "“Done,” Gaara said.", "gaara", (),
                  (len(long_text) + 2, len(text) - 1), ((len(long_text) + 3, len(long_text) + 8),)))
    story = Story("w", "W", (Scene(0, None, beats),), CAST, text=text)
    script = render_script(story)
    assert max(len(line) for line in script.splitlines()) <= 100
    assert "\n    " in script  # continuation lines are indented
    from bot.story.storage import save_story
    save_story(tmp_path / "w", story)
    assert load_story(tmp_path / "w") == story


def test_speakers_by_key_name_or_alias_in_any_case(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    text = script.read_text(encoding="utf-8")
    text = text.replace("GAARA: “Lee.”", "sabaku no gaara: “Lee.”")
    text = text.replace("LEE: Lee grinned.", "Rock Lee: Lee grinned.")
    text = text.replace("KIBA + NARUTO:", "kiba & Naruto Uzumaki (said):")
    script.write_text(text, encoding="utf-8")
    loaded = load_story(folder)
    assert [(b.speaker, b.speakers) for b in loaded.beats] == [
        (None, ()), (None, ()), ("gaara", ()), ("shukaku", ()), ("lee", ()), ("kiba", ("kiba", "naruto")),
        (None, ())]
    assert loaded.beats == make_story().beats


def test_fixing_a_speaker_in_the_editor_changes_the_beat(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    script.write_text(script.read_text(encoding="utf-8").replace("LEE: Lee grinned.", "NARUTO: Lee grinned."),
                      encoding="utf-8")
    beat = load_story(folder).beat(4)
    assert (beat.kind, beat.speaker, beat.speakers) == ("dialogue", "naruto", ())
    assert beat.quoted_text() == ["You are awake! I thought—"]


def _errors(folder: Path) -> list[str]:
    with pytest.raises(StoryFileError) as info:
        load_story(folder)
    return info.value.errors


def _line_of(path: Path, needle: str) -> int:
    """Line number of the first script line equal to `needle`, else the first starting with it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for test in (str.__eq__, str.startswith):
        for n, line in enumerate(lines, start=1):
            if not line.startswith("#") and test(line, needle):
                return n
    raise AssertionError(needle)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("GAARA: “Lee.”", "GARA: “Lee.”", "unknown speaker 'GARA'; did you mean GAARA? use one of GAARA, LEE, KIBA, NARUTO, SHUKAKU"),
    ("SHUKAKU (thought):", "SHUKAKU (whisper):", "unknown kind '(whisper)'; write '(thought)'"),
    ("NARRATION: Nobody answered.", "NARRATION:", "beat has no text; write the words after the colon"),
    ("NARRATION: Nobody answered.", "Nobody answered.", "line does not start with a speaker label"),
    ("NARRATION: Nobody answered.", "NARRATION (thought): Nobody answered.", "NARRATION cannot be '(thought)'"),
    ("KIBA + NARUTO:", "KIBA + NARRATION:", "NARRATION cannot be part of a group line"),
])
def test_each_script_error_names_its_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    text = script.read_text(encoding="utf-8")
    assert old in text
    script.write_text(text.replace(old, new), encoding="utf-8")
    line = _line_of(script, new)
    errors = _errors(folder)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{script}:{line}: "), errors
    assert expected in errors[0]


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    text = script.read_text(encoding="utf-8")
    text = text.replace("GAARA: “Lee.”", "GARA: “Lee.”").replace("NARRATION: Nobody answered.", "NARRATION:")
    text += "\n    an orphan indented line\n"
    script.write_text(text, encoding="utf-8")
    errors = _errors(folder)
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == [_line_of(script, "GARA:"), _line_of(script, "NARRATION:"),
                     _line_of(script, "    an orphan")]
    assert "has no text" in errors[1] and "indented line does not continue a beat" in errors[2]


def test_beat_over_discord_limit_is_an_error_with_its_line(tmp_path: Path) -> None:
    from bot.story.model import Beat, Scene, Story
    from bot.story.storage import save_story
    big = ("word " * 450).strip()  # 2,249 characters
    story = Story("b", "B", (Scene(0, None, (Beat(0, 0, "narration", big, source=(0, len(big))),)),),
                  text=big)
    save_story(tmp_path / "b", story)
    script = tmp_path / "b" / "script.txt"
    errors = _errors(tmp_path / "b")
    assert len(errors) == 1
    assert errors[0].startswith(f"{script}:{_line_of(script, 'NARRATION:')}: beat is 2,249 characters")
    assert "split it into two beats" in errors[0]


def test_empty_scene_and_empty_script(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    script.write_text(script.read_text(encoding="utf-8") + "\n=== Scene 3: Nothing ===\n", encoding="utf-8")
    errors = _errors(folder)
    assert errors == [f"{script}:{_line_of(script, '=== Scene 3')}: scene has no beats; add beats below "
                      "the header or delete it"]
    script.write_text("# only comments\n", encoding="utf-8")
    assert _errors(folder)[0].startswith(f"{script}:1: the script has no beats")


def test_ambiguous_alias_asks_for_the_key() -> None:
    from dataclasses import replace
    cast = (*CAST[:2], replace(CAST[2], aliases=("Lee",)))
    _, errors = parse_script("LEE: hi\n\nBushy Brows: ok\n\nlee: x\n", cast, path="s.txt")
    assert errors == []  # 'LEE' is a key, which always wins
    _, errors = parse_script("rock lee: a\n\nKiba: b\n", (CAST[0], replace(CAST[1], aliases=("Kiba",)), CAST[2]),
                             path="s.txt")
    assert errors == []  # a display name wins over an alias
    cast = (CAST[0], replace(CAST[1], aliases=("Sand",)), replace(CAST[2], aliases=("Sand",)))
    _, errors = parse_script("SAND: hi\n", cast, path="s.txt")
    assert errors == ["s.txt:1: speaker 'SAND' could mean kiba or lee; write the key instead"]


def test_comments_unknown_speaker_lines_and_crlf() -> None:
    text = "# heading\r\n=== Scene 1 ===\r\nUNKNOWN: “Who?”\r\n  # not a comment: continuation\r\n\r\nUNKNOWN (thought): “Hm.”\r\n"
    scenes, errors = parse_script(text, CAST, path="s.txt")
    assert errors == []
    assert [(b.line, b.kind, b.speakers, b.text) for b in scenes[0].beats] == [
        (3, "dialogue", (), "“Who?” # not a comment: continuation"),
        (6, "thought", (), "“Hm.”"),
    ]


def test_edited_text_is_a_warning_and_keeps_nearest_offsets(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    script.write_text(script.read_text(encoding="utf-8").replace("“Lee.” Gaara's voice was hoarse.",
                                                                 "“Lee!” Gaara croaked."),
                      encoding="utf-8")
    loaded = load_story_files(folder)
    assert loaded.warnings == (f"{script}:{_line_of(script, 'GAARA: “Lee!”')}: warning: this beat's text is not in "
                               "source.txt (edited?); it will be played as written — check the spelling "
                               "if it should match",)
    original = make_story().beats
    beats = loaded.story.beats
    assert beats[2].text == "“Lee!” Gaara croaked."
    assert beats[2].source == original[2].source  # the gap between its neighbours
    assert beats[2].quoted_text() == ["Lee!"]  # quotes come from the marks in the edited text
    assert beats[3] == original[3] and beats[1] == original[1]


def test_deleted_beat_is_a_warning(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    script = folder / "script.txt"
    script.write_text(script.read_text(encoding="utf-8").replace("GAARA: “Lee.” Gaara's voice was hoarse.\n", ""),
                      encoding="utf-8")
    loaded = load_story_files(folder)
    assert len(loaded.warnings) == 1
    assert "the source text before this beat is in no beat" in loaded.warnings[0]
    assert f"{script}:{_line_of(script, 'SHUKAKU')}:" in loaded.warnings[0]


def test_place_beats_survives_repeated_words_and_edits() -> None:
    src = "“Yes.”\n\nHe ran.\n\n“No.”\n\nShe waited.\n\n“Yes.”\n\nThe end."
    def sb(t: str) -> ScriptBeat:
        return ScriptBeat(1, "narration", (), t)
    # the first "“Yes.”" was edited to "“No.”": it must not jump to the later "“No.”"
    places = place_beats([sb("“No.”"), sb("He ran."), sb("“No.”"), sb("She waited."), sb("“Yes.”"),
                          sb("The end.")], src)
    assert [p.matched for p in places] == [False, True, True, True, True, True]
    assert [src[p.start:p.end] for p in places] == ["“Yes.”", "He ran.", "“No.”", "She waited.", "“Yes.”",
                                                     "The end."]


@pytest.mark.parametrize(("text", "quoted"), [
    ("“Lee.” Gaara's voice was hoarse.", ["Lee."]),
    ('"Go," he said, "now."', ["Go,", "now."]),
    ("“He said ‘run’ to me,” she said.", ["He said ‘run’ to me,"]),
    ("“And then the speech goes on", ["And then the speech goes on"]),
    ("‘I don’t know,’ said Lucy. ‘It’s the boys’ turn.’", ["I don’t know,", "It’s the boys’ turn."]),
    ("'Shan't,' said Alice.", ["Shan't,"]),
    ("— Where are you going? asked Marie.", ["Where are you going?"]),
    ("He didn't speak at all.", []),
])
def test_quote_spans(text: str, quoted: list[str]) -> None:
    style = "single" if text.startswith(("‘", "'")) else "double"
    assert [text[a:b] for a, b in quote_spans(text, style)] == quoted


def test_fixture_text_is_what_the_story_holds() -> None:
    assert make_story().text == TEXT


def test_unquoted_thought_gets_its_words_as_the_quote(tmp_path: Path) -> None:
    from bot.story.model import Beat, Scene, Story
    from bot.story.storage import save_story
    text = "Why would he do that? he thought to himself.\n"
    story = Story("u", "U", (Scene(0, None, (Beat(0, 0, "thought", text.strip(), "gaara", (),
                                                     (0, len(text) - 1), ((0, 21),)),)),), CAST, text=text)
    save_story(tmp_path / "u", story)
    loaded = load_story(tmp_path / "u")
    assert loaded == story and loaded.beat(0).quoted_text() == ["Why would he do that?"]


def test_a_replaced_source_gives_one_warning_not_hundreds(tmp_path: Path) -> None:
    from bot.story.model import Beat, Scene, Story
    from bot.story.storage import save_story
    paras = [f"Paragraph number {i} of the old text." for i in range(30)]
    text = "\n\n".join(paras) + "\n"
    beats = tuple(Beat(i, 0, "narration", p, source=(text.index(p), text.index(p) + len(p)))
                  for i, p in enumerate(paras))
    save_story(tmp_path / "r", Story("r", "R", (Scene(0, None, beats),), CAST, text=text))
    (tmp_path / "r" / "source.txt").write_text("A completely different story.\n", encoding="utf-8")
    loaded = load_story_files(tmp_path / "r")
    assert len(loaded.warnings) == 1
    assert "30 of 30 beats are not in source.txt; was the source replaced?" in loaded.warnings[0]
    assert [b.text for b in loaded.story.beats] == paras  # still playable as written


@pytest.mark.parametrize(("text", "thought"), [
    # the words before a tag after them, with or without the thinker's name
    ("Must've thought I came to kill him, he thought to himself.", ["Must've thought I came to kill him,"]),
    ("Stop it, you. Mara answered silently, and closed her mind.", ["Stop it, you."]),
    ("Pretty flower, so breakable. The wolf purred in the back of her mind.",
     ["Pretty flower, so breakable."]),
    ("Keep your head down. She told herself, or was it fear? Either way she obeyed.",
     ["Keep your head down."]),
    # a tag clause ending in a semicolon: the thought goes on after it
    ("An odd sailor, thought Mara as she climbed; he never looks at the sea. Strange.",
     ["An odd sailor,", "he never looks at the sea. Strange."]),
    # the tag first
    ("Mara thought: this is a trap.", ["this is a trap."]),
    # no tag: the whole beat is the thought
    ("Get a grip, Mara, nobody is coming.", ["Get a grip, Mara, nobody is coming."]),
])
def test_unquoted_thought_spans(text: str, thought: list[str]) -> None:
    from bot.story.script import unquoted_thought_spans
    assert [text[a:b] for a, b in unquoted_thought_spans(text)] == thought


def test_a_paragraph_split_into_beats_gives_each_beat_its_own_quotes_and_thought() -> None:
    """Beats that share a paragraph (two speakers' lines, then an unquoted thought) are placed
    one after the other, each with its own quoted words, even when the same words repeat."""
    from bot.story.model import Character
    from bot.story.script import build_scenes
    cast = (Character("mara", "Mara", pronouns="she/her"), Character("tom", "Tom", pronouns="he/him"))
    source = ('"Hm?" Mara said, looking up. "Hm?" Tom echoed. She watched him go. He is lying, '
              'she thought to herself.\n\nNothing else.\n')
    script = ('MARA: "Hm?" Mara said, looking up.\n\nTOM: "Hm?" Tom echoed. She watched him go.\n\n'
              'MARA (thought): He is lying, she thought to herself.\n\nNARRATION: Nothing else.\n')
    scenes, errors = parse_script(script, cast)
    assert errors == []
    built, errors, warnings = build_scenes(scenes, source)
    assert errors == [] and warnings == []
    beats = built[0].beats
    assert [(b.kind, b.speaker, b.quoted_text()) for b in beats] == [
        ("dialogue", "mara", ["Hm?"]), ("dialogue", "tom", ["Hm?"]),
        ("thought", "mara", ["He is lying,"]), ("narration", None, [])]
    assert beats[1].quotes[0][0] > beats[0].source[1]  # the second "Hm?", not the first
    assert [source[a:b] for a, b in (bt.source for bt in beats)] == [bt.text for bt in beats]


def test_unquoted_thought_spans_leave_out_emphasis_marks() -> None:
    from bot.story.script import unquoted_thought_spans
    text = "*Not yet,* Gaara thought."
    assert [text[a:b] for a, b in unquoted_thought_spans(text)] == ["Not yet,"]
