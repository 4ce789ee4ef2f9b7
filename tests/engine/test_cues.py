"""Beats become cues: who speaks, the spoken words, the speech tag as an aside, cards."""

from bot.engine.cues import can_merge, closing_cue, cue_for_beat, merge_narration, title_cue
from bot.engine.narrator import cue_matches
from bot.engine.stage import SeenMessage
from bot.story.model import Beat, Character, Scene, Story
from tests.engine.helpers import make_story


def _cue(kind: str, text: str, speaker: str | None = "gaara"):  # type: ignore[no-untyped-def]
    story = make_story([[(kind, text, speaker)]])
    return cue_for_beat(story, story.beat(0), session_id=3)


def test_dialogue_words_and_speech_tag() -> None:
    c = _cue("dialogue", "“You should not have come back,” Gaara said quietly.")
    assert c.kind == "dialogue" and c.voice.name == "Gaara" and c.voice.colour == "#aa3322"
    assert c.text == "You should not have come back."
    assert c.aside == "Gaara said quietly."
    assert c.beats == (0, 0) and c.session_id == 3


def test_split_quote_joins_with_space_or_pause() -> None:
    c = _cue("dialogue", "“I know,” Gaara said, “but I stayed.”")
    assert c.text == "I know, but I stayed." and c.aside == "Gaara said."
    c = _cue("dialogue", "“Go.” Gaara turned away from the window and looked at the door for a long while. “Now.”")
    assert c.text == "Go. … Now."
    assert c.aside == "Gaara turned away from the window and looked at the door for a long while."


def test_asides_read_as_sentences() -> None:
    c = _cue("thought", "“Let me out,” the demon hissed", "gaara")
    assert c.aside == "The demon hissed."
    c = _cue("dialogue", "“Really?” he asked!", "gaara")
    assert c.aside == "He asked!"


def test_action_before_the_quote() -> None:
    c = _cue("dialogue", "Lee limped closer. “Gaara-kun, you are awake!”", "lee")
    assert c.voice.name == "Lee" and c.text == "Gaara-kun, you are awake!" and c.aside == "Lee limped closer."


def test_thought_and_narration_and_note() -> None:
    t = _cue("thought", "*Weakling,* the voice hissed.")
    assert t.kind == "thought" and t.text == "Weakling." and t.aside == "The voice hissed."
    n = _cue("narration", "The forest was quiet.", None)
    assert n.kind == "narration" and n.voice.name == "Narrator" and n.voice.key is None
    assert n.text == "The forest was quiet." and n.aside is None
    note = _cue("note", "A/N: thanks for reading!", None)
    assert note.kind == "note" and note.voice.name == "Narrator"


def test_group_line_and_unknown_speaker() -> None:
    story = make_story([[("dialogue", "“Yes!” they shouted.", "lee")]])
    b = story.beat(0)
    group = Beat(b.index, b.scene, b.kind, b.text, speaker="lee", speakers=("lee", "gaara"), source=b.source,
                 quotes=b.quotes)
    assert cue_for_beat(story, group).voice.name == "Lee & Gaara"
    stranger = Beat(b.index, b.scene, b.kind, b.text, speaker="kankuro", source=b.source, quotes=b.quotes)
    assert cue_for_beat(story, stranger).voice.name == "Kankuro"


def test_long_beats_lose_no_words() -> None:
    long_tag = "he said, " + "and went on and on " * 150
    c = _cue("dialogue", "“Short.” " + long_tag)
    assert c.text == "Short." and c.aside == "He said, " + ("and went on and on " * 150).strip() + "."
    huge = " ".join(f"Sentence number {i} goes on." for i in range(150))  # ~4,200 characters
    n = _cue("narration", huge, None)
    assert n.text == huge  # the stage splits it into several messages; nothing is cut here


def test_merge_only_same_scene_narration_under_the_limit() -> None:
    story = make_story([[("narration", "One.", None), ("narration", "Two.", None),
                         ("dialogue", "“Three,” said Lee.", "lee")], [("narration", "Four.", None)]])
    b = story.beats
    assert can_merge(story, [b[0], b[1]])
    assert not can_merge(story, [b[1], b[2]])  # dialogue keeps its own voice
    assert not can_merge(story, [b[1], b[3]])  # never across a scene break
    merged = merge_narration(story, [b[0], b[1]])
    assert merged.text == "One.\n\nTwo." and merged.beats == (0, 1)
    assert not can_merge(story, [b[0], b[1]], limit=5)


def test_cards() -> None:
    story = Story(slug="s", title="Precious Person", scenes=(Scene(0, None, (Beat(0, 0, "narration", "x " * 400),)),),
                  characters=(Character("gaara", "Gaara"), Character("lee", "Rock Lee")),
                  credit="by someone", content_warnings=("injury", "hospital"))
    t = title_cue(story)
    assert t.kind == "title" and t.card is not None and t.card.title == "Precious Person"
    fields = dict(t.card.fields)
    assert fields["Content warnings"] == "injury, hospital" and fields["Cast"] == "Gaara, Rock Lee"
    assert "1 scene" in t.card.footer and "2 min" in t.card.footer
    assert "4 min" in title_cue(story, wpm=100).card.footer  # type: ignore[union-attr]
    c = closing_cue(story)
    assert c.kind == "closing" and c.card is not None and "Precious Person" in c.card.description


def test_reconcile_matching_ignores_markup_and_escapes() -> None:
    c = _cue("thought", "*Weakling,* the voice hissed.")
    assert cue_matches(c, SeenMessage(1, "Gaara", "*Weakling.*\n-# the voice hissed.", 0.0))
    assert cue_matches(c, SeenMessage(1, "Gaara", "\\*Weakling.\\*", 0.0))
    assert not cue_matches(c, SeenMessage(1, "Lee", "*Weakling.*", 0.0))
    assert not cue_matches(c, SeenMessage(1, "Gaara", "Something else entirely.", 0.0))


def test_a_speech_tag_that_ends_a_sentence_ends_the_first_piece() -> None:
    c = _cue("dialogue", "“You look like hell,” Kankuro said roughly. “Can you stand?”")
    assert c.text == "You look like hell. Can you stand?" and c.aside == "Kankuro said roughly."
