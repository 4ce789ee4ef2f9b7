"""A spoken line taken for a thought is posted the wrong way (a thought looks different in the
channel): which tags make a line a thought and which only look like one. Sentences of our own."""

from __future__ import annotations

from bot.story.readers import read_document
from bot.story.segmenter import segment
from tests.story.novel_cast import CAST


def kinds(text: str) -> list[tuple[str | None, str]]:
    """(speaker, kind) of every quoted span, in order."""
    story = segment(read_document(text), CAST)
    return [(b.speaker, b.kind) for b in story.beats if b.kind in ("dialogue", "thought") for _ in b.quotes]


def test_telling_or_asking_oneself_is_a_thought() -> None:
    assert kinds('"The door was never locked," Clara told herself.\n') == [("clara", "thought")]
    assert kinds('"Where could he be?" Hugh asked himself.\n') == [("hugh", "thought")]
    assert kinds('"Courage now," said Agnes to herself.\n') == [("agnes", "thought")]


def test_a_reflexive_object_of_another_verb_is_spoken() -> None:
    text = ('"Hugh, you were late again," said Clara.\n\n'
            '"Not late. Delayed," Hugh corrected himself, and sat down.\n\n'
            'Agnes explained herself at once: "The coach lost a wheel."\n')
    assert kinds(text) == [("clara", "dialogue"), ("hugh", "dialogue"), ("agnes", "dialogue")]


def test_to_myself_is_a_thought_only_when_i_speak() -> None:
    # told in the first person: "she added to myself" = she said it to me, the narrator
    text = ('"We leave at nine," said Agnes.\n\n'
            '"And bring the lamp," she added to myself.\n\n'
            '"Nine, then," I added to myself.\n')
    assert [k for _, k in kinds(text)] == ["dialogue", "dialogue", "thought"]


def test_a_silent_adverb_of_another_clause_is_no_thought() -> None:
    text = ('"Good evening," Tobias said; and silently handed his hat to the maid.\n\n'
            '"Is it raining?" asked Clara, after silently watching the window a while.\n')
    assert kinds(text) == [("tobias", "dialogue"), ("clara", "dialogue")]


def test_a_silent_adverb_on_the_tags_verb_is_a_thought() -> None:
    text = ('"We shall see," Tobias mentally added.\n\n'
            '"Not tonight," Clara answered inwardly.\n')
    assert kinds(text) == [("tobias", "thought"), ("clara", "thought")]


def test_a_mind_phrase_away_from_the_verb_is_no_thought() -> None:
    text = ('"Have you seen the letter?" Agnes asked.\n\n'
            'As the letter was uppermost in their thoughts, Hugh only replied: "It came this morning."\n\n'
            'Tobias, bending low and ducking in his head once more, agreed with: "Yes, the post."\n')
    assert [k for _, k in kinds(text)] == ["dialogue", "dialogue", "dialogue"]


def test_a_voice_in_the_mind_is_a_thought() -> None:
    text = ('"He will never know," Hugh added in his mind.\n\n'
            '"Run while you can," Tobias whispered in the back of his mind.\n')
    assert kinds(text) == [("hugh", "thought"), ("tobias", "thought")]


def test_an_action_beat_with_a_mind_phrase_elsewhere_is_spoken() -> None:
    # the old check: any "in his head" and any speech verb in the sentence made Tobias an inner
    # voice (all his lines thoughts from then on)
    text = ('Whatever was in his head, Tobias answered nothing at first. "Perhaps we should wait."\n\n'
            '"Wait for what?" said Clara.\n\n'
            'Tobias shrugged. "For the rain to stop."\n')
    assert [k for _, k in kinds(text)] == ["dialogue", "dialogue", "dialogue"]


def test_an_action_beat_in_the_mind_is_a_thought() -> None:
    text = 'Tobias whispered in his mind. "Run."\n'
    assert kinds(text) == [("tobias", "thought")]


def test_thinking_aloud_and_the_noun_thought_are_spoken() -> None:
    text = ('"The lamp," said Clara, as if thinking aloud, "is out again."\n\n'
            '"I wonder," said Hugh, following a new thought, "whether the well is dry."\n')
    assert [k for _, k in kinds(text)] == ["dialogue"] * 4


def test_the_passive_thought_is_no_thinking_tag() -> None:
    # "it was thought “daring” to…": what people in general held, nobody's inner words
    text = ('"Go on," said Agnes.\n\n'
            'Hugh had never been contradicted; and in those years, when it had come to be thought '
            '"old-fashioned" to keep horses, he kept four.\n')
    assert kinds(text) == [("agnes", "dialogue"), ("hugh", "dialogue")]


def test_the_thinking_verb_is_still_a_thought() -> None:
    text = ('"He is late again," thought Clara.\n\n'
            '"Well," Hugh thought, "she will forgive me."\n')
    assert [k for _, k in kinds(text)] == ["thought", "thought", "thought"]


def test_a_thinking_participle_after_a_speaking_verb_is_spoken() -> None:
    text = ('"You are late," said Clara.\n\n'
            '"Or perhaps," Hugh added, thinking the jest harmless enough, "the clock is early."\n')
    assert [k for _, k in kinds(text)] == ["dialogue", "dialogue", "dialogue"]
    # another clause, or words to oneself: a thought again
    text = ('"Late!" Clara repeated; and went on thinking to herself, "late again."\n\n'
            '"So," Hugh added, thinking to himself, "she minds."\n')
    got = kinds(text)
    assert got[1] == ("clara", "thought") and got[3] == ("hugh", "thought")


def test_a_silent_adverb_after_the_verbs_object_is_a_thought() -> None:
    text = ('"Hush now," Hugh told the dog silently.\n\n'
            '"Good night," Clara said and silently left the room.\n')
    assert kinds(text) == [("hugh", "thought"), ("clara", "dialogue")]
