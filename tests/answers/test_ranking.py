"""Ranking features found with the held-out sets: lines said TO a character, first-person
narrators, being on stage vs talked about, not knowing scenes one was not in, amounts."""

from __future__ import annotations

import pytest

from bot.answers import AnswerEngine
from bot.answers.retrieval import analyse, first_person_narrator, story_facts
from bot.store import Database
from bot.story.model import Character, Story
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [
    Character("ann", "Ann", (), "she/her"),
    Character("bob", "Bob", (), "he/him"),
    Character("cat", "Cat", (), "she/her"),
    Character("kit", "Kit", (), "he/him"),
]

ROOM = """Ann and Bob sat by the stove in the kitchen.

"I shall tell Cat all about it," said Ann.

"Tell her, then," said Bob.

"Ann, I will carry the lamp for you all the way to the barn," said Bob.

"You carried it for three hours last winter," said Ann.

* * *

Far away in the city, Kit counted the gold coins in the vault and hid the key under a loose brick.

Cat came in from the snow and shook out her shawl.

"Where did you put the lamp?" said Cat."""

MEMOIR = """I came home late, and found Bob at the window.

"You are wet through, Ann," said Bob.

"The cab broke down," said I. "I walked the rest."

"Then sit by the fire," said Bob.

"I will," said I.

I sat by the fire until the clock struck ten, and told him about the cab and the rain."""


@pytest.fixture
def db(store_db: Database) -> Database:
    """This module's tests run on SQLite and on PostgreSQL (tests/conftest.py: store_db)."""
    return store_db


def story(text: str, cast: list[Character] | None = None) -> Story:
    return segment(read_document(text, name="t.txt"), cast or CAST, slug="t" + str(abs(hash(text)) % 10_000))


def test_facts_know_who_is_spoken_to_and_who_is_only_talked_about() -> None:
    s = story(ROOM)
    facts = story_facts(s)
    said_to_ann = [b.index for b in s.beats if "ann" in facts.addressed[b.index]]
    assert said_to_ann == [3]  # "Ann, I will carry the lamp…"
    # Cat is named by Ann in beat 1 but only walks in at beat 6.
    assert facts.first_seen["cat"] == 6
    assert facts.first_seen["ann"] == 0


async def test_a_line_said_to_the_character_answers_for_them(db: Database) -> None:
    s = story(ROOM)
    engine = AnswerEngine(db, cooldown_seconds=0)
    a = await engine.answer(s, "Ann", "Will Bob carry the lamp for you?", 4)
    assert a.beats[0] == 3 and a.source == "retrieval"


async def test_how_long_prefers_a_line_with_an_amount(db: Database) -> None:
    s = story(ROOM)
    a = await AnswerEngine(db, cooldown_seconds=0).answer(s, "Ann", "How long did Bob carry it?", 4)
    assert a.beats[0] == 4  # "…for three hours last winter", not "I will carry the lamp"


async def test_a_character_talked_about_but_not_yet_there_deflects(db: Database) -> None:
    s = story(ROOM)
    a = await AnswerEngine(db, cooldown_seconds=0).answer(s, "Cat", "Where is the lamp?", 4)
    assert a.source == "deflection" and a.beats == ()


async def test_nobody_recites_a_scene_they_were_not_near(db: Database) -> None:
    s = story(ROOM)
    engine = AnswerEngine(db, cooldown_seconds=0)
    # Only the narration of Kit's vault mentions the key; Ann was in the kitchen.
    a = await engine.answer(s, "Ann", "Where is the key hidden?", 5)
    assert a.source == "deflection"
    b = await engine.answer(s, "Kit", "Where is the key hidden?", 5)
    assert b.beats[0] == 5


async def test_a_first_person_narrator_answers_from_their_own_account(db: Database) -> None:
    s = story(MEMOIR)
    narrator, told = first_person_narrator(s)
    assert narrator == "ann"
    assert told == {0, 5}
    a = await AnswerEngine(db, cooldown_seconds=0).answer(s, "Ann", "What did you do by the fire?", 5)
    assert a.beats[0] == 5
    assert any(frame in a.text for frame in ("I remember it well", "As I told it", "how it was for me"))
    # No "said I" tags: no narrator, whatever the pronouns.
    assert first_person_narrator(story(ROOM))[0] is None


def test_a_line_that_only_asks_is_told_apart_from_one_that_answers() -> None:
    from bot.answers.retrieval import _only_asks

    assert _only_asks("Then what is it?")
    assert _only_asks("And who… is going to go up in her?")
    assert not _only_asks("I do. Why?")
    assert not _only_asks("Because you came for me first!")


def test_what_happened_is_past_events_but_what_will_happen_is_plans() -> None:
    from bot.answers.retrieval import analyse

    s = story(ROOM)
    ann = s.characters[0]
    assert analyse("What happened to the lamp?", s, ann).event
    assert not analyse("What will happen to the lamp?", s, ann).event


FERRY = """Mara sat by the window of the ferry office with her bag on her knees.

"How long are you here for?" Tom asked.

"Three days, if the weather holds," Mara said.

Tom nodded. "The river is high, Mara. They might close the crossing tonight."

"Then I shall walk over the hills," said Mara.

"Will you write to me?" Tom asked.

"Every week," said Mara."""
FERRY_CAST = [Character("mara", "Mara", (), "she/her"), Character("tom", "Tom", (), "he/him")]


async def test_a_question_asked_in_the_story_is_answered_by_the_reply(db: Database) -> None:
    """No content word to search for: the reply to the same question asked in the story, not the
    character's latest line."""
    s = story(FERRY, FERRY_CAST)
    engine = AnswerEngine(db, cooldown_seconds=0)
    reply = next(b.index for b in s.beats if "Three days" in b.text)
    a = await engine.answer(s, "Mara", "How long are you here for?", len(s) - 1)
    assert a.beats[0] == reply and "Three days" in a.text
    a = await engine.answer(s, "Mara", "how long are you here for", reply - 1)  # not shown yet
    assert all(b < reply for b in a.beats) and "Three days" not in a.text


def test_same_question_matches_rewordings_not_other_questions() -> None:
    from bot.answers.retrieval import name_patterns, question_shape, same_question
    s = story(FERRY, FERRY_CAST)
    pats = name_patterns(s)

    def sim(asked_in_story: str, reader: str, asker: str = "tom") -> float:
        return same_question(question_shape(asked_in_story, pats, "mara", asker),
                             question_shape(reader, pats, "mara"))

    assert sim("What are you still doing here?", "what are you still doing here") == 1.0
    assert sim("How long have you been waiting, Mara?", "How long have you been waiting?") == 1.0
    assert sim("Who did this?", "Who did this to Tom?") > 0  # the reader adds who it was done to
    assert sim("You…think of me?", "Do you think about Tom?") > 0  # the asker's "me" is Tom
    assert sim("What are you doing?", "What are you reading?") == 0
    assert sim("What you are?", "What is in the box?") == 0  # two generic words are not a question


def test_the_story_questions_are_shaped_once_at_index_time() -> None:
    """Each reply to a line that asks something is kept with the question's shape (the asker's
    "me" as the asker) and found by its words; a reply to a line without a question is not."""
    s = story(FERRY, FERRY_CAST)
    facts = story_facts(s)
    by_text = {s.beat(line.beat).text.split(",")[0]: line for line in facts.asked_lines["mara"]}
    assert set(by_text) == {'"Three days', '"Every week'}  # not "Then I shall walk…" (no question)
    write = by_text['"Every week']
    assert write.shapes == (frozenset({"will", "you", "write", "xktom"}),)
    n = facts.asked_lines["mara"].index(write)
    assert n in facts.asked_words["mara"]["write"] and n in facts.asked_words["mara"]["xktom"]
    assert "you" not in facts.asked_words["mara"]  # generic words lead nowhere
    assert "tom" not in facts.asked_lines  # Tom answers no question


async def test_a_reply_answers_for_the_topic_of_the_line_it_answers(db: Database) -> None:
    """"What will you do about the river?": Mara's reply to Tom's line about the river (which names
    her), not Tom's line."""
    s = story(FERRY, FERRY_CAST)
    a = await AnswerEngine(db, cooldown_seconds=0).answer(s, "Mara", "What will you do about the river?", len(s) - 1)
    assert s.beat(a.beats[0]).speaker == "mara" and "walk over the hills" in a.text


STEP = """Ann and Bob sat on the step.

"My mother always told me, never trust a river in spring," said Ann.

"The river looks calm," said Bob.

"Mother is never wrong about rivers," said Ann."""


async def test_what_someone_told_you_is_the_line_that_reports_it(db: Database) -> None:
    s = story(STEP)
    a = await AnswerEngine(db, cooldown_seconds=0).answer(s, "Ann", "What did your mother tell you?", len(s) - 1)
    assert "never trust a river in spring" in a.text



def test_a_japanese_kinship_word_is_the_readers_own_word() -> None:
    s = story(ROOM)
    bob = next(c for c in s.characters if c.key == "bob")
    q = analyse("What did you call your sister?", s, bob)
    # Fan fiction writes "Nee-san" / "Onee-chan" where the reader says "sister": the line that
    # says it holds the reader's own word (full weight), not a looser synonym.
    assert q.exact is not None and q.exact.search("Nee-san, stop fussing,")
    assert q.exact.search("Onee-chan,")
    assert not q.exact.search("Nii-san, stop fussing,")  # a brother is not a sister
