"""Each quote style: which words are inside the marks."""

from __future__ import annotations

import pytest

from bot.story.quotes import detect_style, find_quotes


def inside(text: str, style: str | None = None) -> list[str]:
    st = style or detect_style(text)
    return [text[q.start : q.end] for q in find_quotes(text, 0, len(text), st)]  # type: ignore[arg-type]


def test_curly_double_quotes_with_apostrophes_inside() -> None:
    assert inside("“I don’t know,” said Lee. “Maybe.”") == ["I don’t know,", "Maybe."]


def test_straight_double_quotes() -> None:
    assert inside('"Hi," she said, "come in."') == ["Hi,", "come in."]


def test_nested_single_quotes_stay_inside_the_double_span() -> None:
    assert inside("“He said ‘go away’ to me,” Lee said.") == ["He said ‘go away’ to me,"]


def test_british_single_quotes_with_apostrophes_and_possessives() -> None:
    text = "‘I don’t know,’ he said. ‘The boys’ room is upstairs, isn’t it?’ ‘Give ’em hell, boys’ she said"
    assert detect_style(text) == "single"
    assert inside(text) == ["I don’t know,", "The boys’ room is upstairs, isn’t it?", "Give ’em hell, boys"]


def test_british_straight_single_quotes_and_elisions() -> None:
    text = "'I can't,' he said. 'Give 'em a go, lads.' 'Right, James'"
    assert inside(text, "single") == ["I can't,", "Give 'em a go, lads.", "Right, James"]


def test_british_nested_double_quotes() -> None:
    assert inside("‘He said “go away” to me,’ said Lee.", "single") == ["He said “go away” to me,"]


def test_speech_running_past_the_paragraph_end() -> None:
    (q,) = find_quotes("“It began long ago. I was small.", 0, 32, "double")
    assert q.close == -1 and q.end == 32


def test_missing_closing_mark_ends_at_the_next_opening_one() -> None:
    assert inside("“Hello there. “Next one.”") == ["Hello there.", "Next one."]


def test_stray_closing_mark_is_ignored() -> None:
    assert inside("He sighed” and left.") == []


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("—Where are you going? —asked Lee—. Home, I hope.", ["Where are you going?", "Home, I hope."]),
        ("— You are not cold, my child? he asked.", ["You are not cold, my child?"]),
        ("— Mademoiselle, he said, forgive me. I was passing.", ["Mademoiselle,", "forgive me. I was passing."]),
        ("— That is the little one, said Cosette, laughing. He comes every day.",
         ["That is the little one,", "He comes every day."]),
    ],
)
def test_em_dash_dialogue(text: str, want: list[str]) -> None:
    assert inside(text) == want


def test_single_quoted_inner_voice_in_a_double_quote_text() -> None:
    text = "“Go,” said Lee. ‘Why does he care?’ Gaara wondered. Scare ‘quotes’ are not speech."
    assert inside(text, "double") == ["Go,", "Why does he care?"]


def test_style_detection_counts_openers_not_apostrophes() -> None:
    assert detect_style("“Don’t,” he said. “It’s Lee’s.” ‘Quoted’ once.") == "double"
    assert detect_style("‘Don’t,’ he said. ‘It’s Lee’s.’") == "single"


def test_titles_and_scare_quotes_are_not_speech() -> None:
    text = "She had taken up what she called her “studies”, and Naruto named it “the Bushy Brows Relay” at once."
    assert inside(text) == []


def test_named_words_with_their_own_comma_or_stop_are_not_speech() -> None:
    # American punctuation puts the comma inside the marks; the sentence goes on around them
    text = ("She belonged to the “smart crowd,” where such things were done, and he was an expert on "
            "“form.” He greeted her with a “Que voulez-vous?” and his usual “Ah!” and answers of "
            "“Yes, yes,” all day.")
    assert inside(text) == ["Que voulez-vous?", "Ah!", "Yes, yes,"]


def test_quote_right_after_a_speech_verb_is_speech() -> None:
    assert inside("And Bob said “Tim!” in a reproving voice.") == ["Tim!"]


def test_double_quoted_speech_in_a_text_full_of_single_quoted_thoughts() -> None:
    text = "'Why me?' 'Not again.' 'Go away.' \"Hello,\" said Lee. 'Idiot.'"
    assert detect_style(text) == "single"
    assert inside(text) == ["Why me?", "Not again.", "Go away.", "Hello,", "Idiot."]


def test_stage_directions_in_parentheses_cut_the_speech() -> None:
    text = ("“I shall ask you, then. Will you? (turning to Ruth.) Will you come with me? You know the way, "
            "(with a nod at the door) and I do not.”")
    assert inside(text) == ["I shall ask you, then. Will you?", "Will you come with me? You know the way,",
                            "and I do not."]


def test_the_speakers_own_asides_in_parentheses_stay_in_the_speech() -> None:
    text = "“The vicar (with all my respect to him) is late, and the bells (ringing already) are loud.”"
    assert inside(text) == ["The vicar (with all my respect to him) is late, and the bells",
                            "are loud."]


def test_borrowed_lower_case_words_in_a_running_sentence_are_not_speech() -> None:
    text = ("It was known in town that the widow had “lost her looks.” He hoped for the elusive “tip” "
            "and wanted to “keep up,” as he put it.")
    assert inside(text) == []


def test_lower_case_continuation_after_a_tag_is_speech() -> None:
    text = "“Well,” said Tom slowly “perhaps not.” “I can only say” here she raised her hands “that I tried.”"
    assert inside(text) == ["Well,", "perhaps not.", "I can only say", "that I tried."]


@pytest.mark.parametrize("lead", ["shook his head, as much as to say,", "gave her a look which meant,",
                                  "Her eyes said:", "It was on the tip of her tongue to retort:",
                                  "He felt like answering:", "smiled as if to say,"])
def test_words_only_looked_or_nearly_said_are_not_speech(lead: str) -> None:
    assert inside(f"Tom {lead} “You will not leave.” Then he went on reading.") == []


def test_habitual_speech_is_speech() -> None:
    assert inside("Every morning he would say, “You will not leave.”") == ["You will not leave."]


def test_titles_after_an_article_preposition_or_possessive_are_not_speech() -> None:
    text = ("The band played the overture to “The Silver Lake.” He read Ann Hale's “Winter Roads,” "
            "then went on to the “Crown and Anchor.” She said “Come in.” and he came with a “Yes, ma'am.” "
            "A thump, then “Got him!” followed by “I don't got him.”")
    assert inside(text) == ["Come in.", "Yes, ma'am.", "Got him!", "I don't got him."]


def test_words_written_read_out_or_sung_are_not_speech() -> None:
    text = ("“Come at once,” she wrote, “and bring the key.” On the card was written: “The Last Door.” "
            "“Pass the salt,” said Tom.")
    assert inside(text) == ["Pass the salt,"]


def test_a_letter_introduced_at_the_end_of_the_paragraph_before() -> None:
    text = "He opened the envelope and read:\n\n“Do not wait for me. I shall not come back."
    para = text.index("“")
    assert [text[q.start : q.end] for q in find_quotes(text, para, len(text), "double")] == []
    spoken = "He opened the door and said:\n\n“Do not wait for me.”"
    para = spoken.index("“")
    assert [spoken[q.start : q.end] for q in find_quotes(spoken, para, len(spoken), "double")] == [
        "Do not wait for me."]


def test_british_dialect_elisions_at_a_line_end_do_not_close_the_speech() -> None:
    text = "‘I were a coming to ’t.  I ha’\nread i’ th’ papers that great folk are fond o’ it,’ said Stephen."
    assert inside(text, "single") == ["I were a coming to ’t.  I ha’\nread i’ th’ papers that great folk are fond o’ it,"]
