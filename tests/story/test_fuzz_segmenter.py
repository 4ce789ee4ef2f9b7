"""Fuzzed input never raises anything but StoryImportError, and what is produced keeps every word."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.story.model import Character, Story
from bot.story.readers import StoryImportError, read_document
from bot.story.segmenter import segment

from .test_segmenter import check_fidelity

CAST = [Character("gaara", "Gaara", ("Gaara-kun",), "he/him"),
        Character("lee", "Rock Lee", ("Lee",), "he/him"),
        Character("temari", "Temari", ("the girl",), "she/her")]

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def attempt(data: bytes | str, fmt: str | None = None, cast: list[Character] | None = CAST) -> Story | None:
    try:
        doc = read_document(data, fmt=fmt, name="fuzz.txt")
        story = segment(doc, cast)
    except StoryImportError as e:
        assert str(e).startswith("fuzz.txt")
        return None
    check_fidelity(story)
    return story


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    attempt(data)


@FUZZ
@given(st.text(max_size=3000), st.sampled_from([None, "txt", "md", "html"]))
def test_random_unicode(text: str, fmt: str | None) -> None:
    attempt(text, fmt)


@FUZZ
@given(st.text(max_size=1500))
def test_random_unicode_without_a_cast(text: str) -> None:
    attempt(text, cast=None)


_PIECES = st.sampled_from([
    "Gaara", "Lee", "Temari", "Gaara-kun", "Rock Lee", "the girl", "he", "she", "they", " said", " asked",
    " thought", " nodded.", "“", "”", "‘", "’", '"', "'", "—", "– ", "-- ", ", ", ". ", "! ", "? ", "…",
    "don’t", "boys’", "’em", "'tis", "\n", "\n\n", "\n\n\n", "\r\n", "\r", "* * *", "***", "#", "~~~",
    "Chapter 3", "A/N: ", "*", "_", "<i>", "</i>", "<p>", "<hr>", "  ", "\t", "word", "x" * 300,
])


@FUZZ
@given(st.lists(_PIECES, max_size=200), st.sampled_from([None, "txt", "md", "html"]))
def test_story_like_soup_keeps_every_word(pieces: list[str], fmt: str | None) -> None:
    attempt("".join(pieces), fmt)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["Gaara", "Lee", "Temari", "he", "she"]),
                          st.sampled_from(["said", "asked", "whispered", "thought", "nodded"]),
                          st.text(alphabet="abcdefghij klmnop,.!?’", min_size=1, max_size=60),
                          st.sampled_from(["“{q},” {n} {v}.", "{n} {v}, “{q}”", "“{q}”", "‘{q},’ {v} {n}.",
                                           "— {q} {n} {v}.", "“{q}"])),
                min_size=1, max_size=40))
def test_generated_dialogue_keeps_every_word_and_quotes_sit_inside_beats(
        lines: list[tuple[str, str, str, str]]) -> None:
    paras = [fmt.format(q=q, n=n, v=v) for n, v, q, fmt in lines]
    story = attempt("\n\n".join(paras))
    if story is not None:
        for b in story.beats:
            if b.kind in ("dialogue", "thought"):
                assert b.quotes


def test_huge_paragraph_and_huge_word() -> None:
    story = attempt(("Gaara ran. " * 5000) + ("z" * 7000) + " end.")
    assert story is not None and len(story.beats) >= 30


def test_unbalanced_quotes_everywhere() -> None:
    story = attempt("“Open\n\n” close\n\n‘half\n\n\"\"\"\n\n“a “b “c ” d\n\n’’’ x ‘‘‘")
    assert story is not None


def test_empty_and_blank_inputs() -> None:
    for data in (b"", "", "\n\n\n", "\ufeff", b"\xef\xbb\xbf"):
        assert attempt(data) is None
