"""Fan-fiction conventions the importer reads on its own (issue 9), on short texts of our own:
two speakers in one paragraph, vocatives without commas, who holds the floor, unmarked inner
speech, and an author's aside in parentheses."""

from __future__ import annotations

from pathlib import Path

from bot.story.model import Beat, Character, Story
from bot.story.readers import read_document
from bot.story.segmenter import segment
from bot.story.storage import load_story, save_story

CAST = [
    Character("mara", "Mara Voss", ("Mara", "Mara-chan"), "she/her"),
    Character("tomas", "Tomas", ("Tomas-kun", "Tom"), "he/him"),
    Character("ilse", "Ilse", ("Ilse-sensei",), "she/her"),
    Character("grell", "Grell", ("the beast",), "he/him"),
    Character("oren", "Oren", (), "he/him"),
]


def run(text: str) -> Story:
    return segment(read_document(text), CAST)


def voiced(story: Story) -> list[Beat]:
    return [b for b in story.beats if b.kind in ("dialogue", "thought")]


def lines(text: str) -> list[tuple[str | None, str, str]]:
    """(speaker, kind, words) of every quoted or thought span, in order."""
    return [(b.speaker, b.kind, w) for b in voiced(run(text)) for w in b.quoted_text()]


def test_two_speakers_in_one_paragraph_are_two_beats_in_order_cut_from_the_source() -> None:
    text = ("Mara leaned on the rail.\n\n"
            "\"You're late again, aren't you?\" Mara asked, turning. \"Sorry.\" Tomas said, out of breath.\n")
    story = run(text)
    a, b = voiced(story)
    assert (a.speaker, b.speaker) == ("mara", "tomas")
    assert a.text == "\"You're late again, aren't you?\" Mara asked, turning."
    assert b.text == "\"Sorry.\" Tomas said, out of breath."
    for beat in story.beats:  # every beat is an exact slice of the source
        assert story.text[beat.source[0]:beat.source[1]] == beat.text


def test_a_name_after_thank_you_or_you_is_called_not_speaking() -> None:
    text = ("Tomas sat by the fire with Mara.\n\n"
            "\"I will wait for you Mara, if I can.\" Tomas looked at the flames.\n\n"
            "Tomas stiffened as Mara hugged him. He slowly relaxed. \"Thank you Tomas. You are a good friend.\"\n")
    assert [s for s, _, _ in lines(text)] == ["tomas", "mara"]


def test_a_bare_title_only_one_character_has_is_a_vocative() -> None:
    text = ("\"Run the drill again,\" Ilse ordered. \"Yes sensei.\" The pair nodded and ran.\n")
    got = [s for s, _, _ in lines(text)]
    assert got[0] == "ilse" and got[1] != "ilse"


def test_a_name_with_an_honorific_is_not_the_speaker() -> None:
    text = ("\"I walked all night to find you,\" Tomas said.\n\n"
            "\"Why?\" Mara asked.\n\n"
            "\"Because you were alone.\" Tomas looked down.\n\n"
            "He felt ashamed to have said so much. \"Should we go on, what do you think Tomas-kun?\"\n")
    assert [s for s, _, _ in lines(text)] == ["tomas", "mara", "tomas", "mara"]


def test_a_nod_answers_the_question_before_it() -> None:
    text = ("\"You saved me,\" Tomas said.\n\n"
            "\"I did?\" Mara said.\n\n"
            "\"Really?\" Tomas nodded. \"I was going to tell you.\"\n")
    assert [s for s, _, _ in lines(text)] == ["tomas", "mara", "mara", "tomas"]


def test_a_speaker_who_ends_their_paragraph_keeps_the_floor() -> None:
    text = ("\"Where now?\" Mara asked.\n\n"
            "Tomas stood and picked up his pack. \"We cannot stay here. But…\" Tomas looked at the road.\n\n"
            "\"I cannot carry you if you fall.\"\n\n"
            "\"Then I won't fall,\" Mara said.\n")
    assert [s for s, _, _ in lines(text)] == ["mara", "tomas", "tomas", "mara"]


def test_a_listener_who_stays_silent_hands_the_floor_back() -> None:
    text = ("\"Where now?\" Mara asked.\n\n"
            "\"North,\" Tomas said. \"Always north.\"\n\n"
            "\"Because of the river?\"\n\n"
            "\"Because of the river. And the mountain, and the old road…\"\n\n"
            "Mara did not interrupt him. She had never heard him say so much.\n\n"
            "\"But mostly because of you.\"\n")
    assert [s for s, _, _ in lines(text)][-1] == "tomas"


def test_stammered_names_are_mentions() -> None:
    text = ("\"Find him,\" Oren ordered.\n\n"
            "\"T-Tomas?\" Grell stammered. Tomas turned from the window.\n\n"
            "\"I wanted to be alone.\" He said.\n")
    assert [s for s, _, _ in lines(text)] == ["oren", "grell", "tomas"]


def test_unmarked_thoughts_with_their_tags() -> None:
    text = ("She is a strange girl, thought Tomas as he followed her; she never rests, and I "
            "cannot keep up with her.\n\n"
            "\"Coming?\" Mara called. Tomas looked up. Must've thought I was lost, he thought to himself.\n\n"
            "Stay calm now, she is watching. He told himself, and walked on.\n")
    got = lines(text)
    assert got == [
        ("tomas", "thought", "She is a strange girl,"),
        ("tomas", "thought", "she never rests, and I cannot keep up with her."),
        ("mara", "dialogue", "Coming?"),
        ("tomas", "thought", "Must've thought I was lost,"),
        ("tomas", "thought", "Stay calm now, she is watching."),
    ]


def test_an_inner_voice_and_the_answer_to_it() -> None:
    text = ("Mara sat alone by the well.\n\n"
            "Ha, nobody is coming for you. Weak little thing. Grell cackled in the back of her mind.\n\n"
            "Be quiet Grell, you do not get to speak now. Mara replied, and shut him out.\n\n"
            "The well was deep and dark.\n")
    story = run(text)
    got = [(b.speaker, b.kind, b.quoted_text()) for b in story.beats]
    assert got == [
        (None, "narration", []),
        ("grell", "thought", ["Ha, nobody is coming for you. Weak little thing."]),
        ("mara", "thought", ["Be quiet Grell, you do not get to speak now."]),
        (None, "narration", []),
    ]


def test_talking_to_oneself_after_a_cue_is_a_thought_and_the_cue_is_narration() -> None:
    text = ("Tomas mentally shook himself. Get up Tomas, you are not finished. You promised her.\n")
    story = run(text)
    assert [(b.kind, b.speaker, b.text) for b in story.beats] == [
        ("narration", None, "Tomas mentally shook himself."),
        ("thought", "tomas", "Get up Tomas, you are not finished. You promised her."),
    ]


def test_plain_narration_with_thought_words_stays_narration() -> None:
    for text in ("The room was dark. She thought about the road.\n",
                 "Tomas had a thought, and he kept it to himself.\n",
                 "He had never been anyone's friend, and silently wondered if it was hard. How did you do it?\n",
                 "Mara looked back once. Tomas said nothing and walked on.\n",
                 "\"No.\" Mara shook her head. It was late, Tomas said.\n",
                 # the narrator's own sentence around a tag, or a tag that leads into the thought
                 "The train was late again, Tomas thought, by an hour at least.\n",
                 "Rain, however, she thought, would spoil the day.\n",
                 "The rain had stopped at last. She wondered, with little pause, what it meant.\n",
                 "With a scornful look, she asked herself, What did it matter?\n",
                 "They sat down and nobody spoke. Mara thought to herself, \"I will not wait.\"\n",
                 "\"Go back,\" she said to herself. (She had been there once, and you never forget it.) "
                 "However, she soon saw the pool.\n",
                 "\"Hello,\" said Mara. Little Tomas was in her thoughts, and she smiled.\n"):
        story = run(text)
        # quoted words may be thoughts ("…," she said to herself); no unquoted words are
        unmarked = [story.text[a:b] for beat in story.beats for a, b in beat.quotes
                    if story.text[a - 1 : a] not in ("\"", "“")]
        assert unmarked == [], text


def test_an_authors_aside_in_parentheses_is_a_note() -> None:
    text = ("\"Go,\" Mara said.\n\n"
            "(I know this is where the story usually switches to the others, but I'm skipping that.)\n\n"
            "Tomas went.\n")
    assert [b.kind for b in run(text).beats] == ["dialogue", "note", "narration"]


def test_parenthesised_narration_is_not_a_note() -> None:
    text = "\"Go,\" Mara said.\n\n(He did not look back, and I never saw him again.)\n\nTomas went.\n"
    assert [b.kind for b in run(text).beats] == ["dialogue", "narration", "narration"]


def test_unmarked_thoughts_survive_save_and_load(tmp_path: Path) -> None:
    text = ("Mara sat alone.\n\n"
            "Ha, nobody is coming for you. Grell cackled in the back of her mind.\n\n"
            "Be quiet Grell, you do not get to speak now. Mara replied, and shut him out.\n\n"
            "\"Coming?\" Tomas called. Mara looked up. He must think I am lost, she thought to herself.\n")
    story = segment(read_document(text.encode(), fmt="txt", name="x.txt"), CAST, slug="x", title="X")
    save_story(tmp_path / "x", story)
    loaded = load_story(tmp_path / "x")
    assert [(b.kind, b.speaker, b.source) for b in loaded.beats] == \
        [(b.kind, b.speaker, b.source) for b in story.beats]


def test_someone_called_who_answers_with_a_gesture_leaves_the_floor_to_the_caller() -> None:
    text = ("\"Sit down, all of you.\" Ilse said. \"Now, Tomas.\" Tomas stood up straighter at his name.\n\n"
            "\"I expect a report on my desk by morning.\"\n\n"
            "\"Yes, sensei,\" said Mara.\n")
    assert [s for s, _, _ in lines(text)] == ["ilse", "ilse", "ilse", "mara"]


def test_someone_called_who_answers_in_words_still_answers() -> None:
    text = ("\"Now, Tomas.\" Ilse folded her arms.\n\n"
            "\"I know, I know.\"\n")
    assert [s for s, _, _ in lines(text)] == ["ilse", "tomas"]
