from __future__ import annotations

import pytest

from bot.answers.retrieval import analyse, question_kind, words
from bot.answers.voice import (
    ZWSP,
    addressee,
    echo_question,
    escape_markdown,
    excerpt,
    neutralise_mentions,
    spoken_part,
)
from bot.story.model import Beat
from tests.answers.fixture import CAST, make_story

TEMARI = CAST[1]


@pytest.mark.parametrize(("question", "echo"), [
    ("why were you scared?", "Why was I scared?"),
    ("What do you think of naruto", "What do I think of Naruto?"),
    ("Temari, are you angry with me?", "Am I angry with you?"),
    ("did Gaara help you", "Did Gaara help me?"),
    ("what's your opinion of your brother?", "What's my opinion of my brother?"),
    ("who are you", "Who am I?"),
    ("Who gave you the idea for your story?", "Who gave me the idea for my story?"),
    ("did the seal hold you down", "Did the seal hold me down?"),
    ("Why didn’t you escape?", "Why didn't I escape?"),
    ("Weren't you supposed to be in the hospital?", "Wasn't I supposed to be in the hospital?"),
    ("what did Gaara tell you when you woke up?", "What did Gaara tell me when I woke up?"),
])
def test_echo_turns_the_question_round(question: str, echo: str) -> None:
    assert echo_question(question, TEMARI, CAST) == echo


def test_echo_escapes_markdown_and_mentions_and_skips_long_questions() -> None:
    e = echo_question("why **so** _scared_ @everyone <@1>?", TEMARI, CAST)
    assert "\\*\\*so\\*\\*" in e and "\\_scared\\_" in e
    assert "@everyone" not in e and "<@1>" not in e
    assert echo_question("why " * 40, TEMARI, CAST) == ""


def test_neutralise_mentions_breaks_every_ping_form() -> None:
    text = "@everyone @here <@123> <@!123> <@&456> <#789> mail@example.com"
    out = neutralise_mentions(text)
    for raw in ("@everyone", "@here", "<@123>", "<@!123>", "<@&456>", "<#789>"):
        assert raw not in out
    assert f"@{ZWSP}everyone" in out and f"<{ZWSP}@&456>" in out
    assert "mail@example.com" in out
    assert neutralise_mentions(out) == out  # idempotent


def test_escape_markdown() -> None:
    assert escape_markdown("*a* _b_ ~~c~~ `d` > e [f](g) |h|") == \
        "\\*a\\* \\_b\\_ \\~\\~c\\~\\~ \\`d\\` \\> e \\[f\\](g) \\|h\\|"


def test_spoken_part_takes_the_words_inside_the_quotes() -> None:
    b = Beat(0, 0, "dialogue", "“Not of you.” She sighed. “I-I was scared, Gaara,” she whispered. “So scared.”",
             speaker="temari")
    assert spoken_part(b) == "Not of you. I-I was scared, Gaara… So scared."
    thought = Beat(1, 0, "thought", "*Pathetic little host,* the demon sneered.", speaker="shukaku")
    assert spoken_part(thought) == "Pathetic little host"
    narration = Beat(2, 0, "narration", "The sand lay still.")
    assert spoken_part(narration) == "The sand lay still."


def test_excerpt_picks_the_sentences_about_the_question() -> None:
    story = make_story()
    q = analyse("why were you scared?", story, TEMARI)
    long = " ".join(f"Filler sentence number {i} about the weather." for i in range(30))
    text = long + " She was scared of the dark. " + long
    out = excerpt(text, q, limit=120)
    assert "She was scared of the dark." in out and len(out) <= 125
    assert out.startswith("…")


def test_addressee_only_from_a_vocative() -> None:
    story = make_story()
    assert addressee("I-I was scared, Gaara… I thought", story, TEMARI) == "Gaara"
    assert addressee("Gaara is a monster", story, TEMARI) is None
    assert addressee("Thank you, Bushy Brows!", story, TEMARI) == "Bushy Brows"


@pytest.mark.parametrize(("q", "kind"), [
    ("why were you scared", "why"), ("what do you think of him", "opinion"),
    ("how did you feel", "feel"), ("how do you feel about Lee", "opinion"), ("who saved you", "who"),
    ("where is Lee", "where"), ("did you sleep", "yesno"), ("tell me", "other"),
])
def test_question_kinds(q: str, kind: str) -> None:
    assert question_kind(words(q)) == kind


def test_analyse_keeps_names_out_of_the_search_words() -> None:
    story = make_story()
    q = analyse("Temari, what do you think of the One-Tail and Uzumaki?", story, TEMARI)
    assert q.named == ("naruto", "shukaku") or set(q.named) == {"naruto", "shukaku"}
    assert "temari" not in q.forms and "uzumaki" not in q.forms
    assert q.kind == "opinion" and q.match() is None
