"""Rendering cues for Discord: splitting, markup applied per message, names Discord accepts."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_app.render import (
    MESSAGE_LIMIT,
    NAME_MAX,
    ZWSP,
    as_bot_message,
    card_embed,
    default_avatar,
    progress_bar,
    render_cue,
    sanitize_name,
    split_text,
)
from bot.engine.stage import Card, Cue, Voice

NARRATOR = Voice(name="Narrator")
GAARA = Voice(name="Gaara", key="gaara", avatar_url="https://example.invalid/gaara.png", colour="#aa3322")


def test_short_text_is_one_piece() -> None:
    assert split_text("Sand shifted.") == ["Sand shifted."]
    assert split_text("   ") == []


def test_split_prefers_paragraphs_then_sentences_and_never_cuts_words() -> None:
    para = ("The sand moved. " * 60).strip()  # ~960 chars
    text = para + "\n\n" + para + "\n\n" + para
    pieces = split_text(text)
    assert all(len(p) <= MESSAGE_LIMIT for p in pieces)
    assert len(pieces) == 2
    assert pieces[0].endswith("moved.") and pieces[1].startswith("The sand")
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_sentence_boundary_used_inside_a_long_paragraph() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(200))
    pieces = split_text(text, 300)
    assert all(len(p) <= 300 for p in pieces)
    assert all(p.endswith(".") for p in pieces)


def test_a_single_huge_word_is_cut_but_not_after_a_backslash() -> None:
    word = "a" * 299 + "\\*" + "b" * 50
    pieces = split_text(word, 300)
    assert all(len(p) <= 300 for p in pieces)
    assert not pieces[0].endswith("\\")
    assert "".join(pieces) == word


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("abc xyz.!?\n"), min_size=0, max_size=80), max_size=60),
       st.integers(min_value=20, max_value=400))
def test_split_never_loses_or_invents_words(chunks: list[str], limit: int) -> None:
    text = " ".join(chunks)
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
    # A word is cut only when it alone is longer than the limit.
    words = set(text.split())
    for p in pieces:
        for w in p.split():
            assert w in words or len(max(text.split(), key=len)) > limit


def test_dialogue_has_its_aside_as_subtext_under_the_words() -> None:
    cue = Cue(kind="dialogue", voice=GAARA, text="You're... precious?", aside="Gaara said, frowning.")
    r = render_cue(cue)
    assert r.username == "Gaara"
    assert r.avatar_url == "https://example.invalid/gaara.png"
    assert [p.content for p in r.parts] == ["You're... precious?\n-# Gaara said, frowning."]


def test_thought_is_italic_even_when_split_and_markdown_in_story_text_is_escaped() -> None:
    long = ("*Blood* is _everything_. " * 120).strip()
    r = render_cue(Cue(kind="thought", voice=Voice(name="Shukaku", key="shukaku"), text=long))
    assert len(r.parts) >= 2
    for part in r.parts:
        assert len(part.content) <= MESSAGE_LIMIT
        assert part.content.startswith("*") and part.content.endswith("*")
        inner = part.content[1:-1]
        # every story asterisk/underscore is escaped, so our italics are the only markup
        assert re.search(r"(?<!\\)[*_]", inner) is None


def test_multi_line_aside_is_subtext_on_every_line_and_a_title_card_is_one_embed() -> None:
    r = render_cue(Cue(kind="dialogue", voice=GAARA, text="Hm.", aside="He turned.\nThe wind rose."))
    assert r.parts[0].content == "Hm.\n-# He turned.\n-# The wind rose."
    card = Card(title="Precious Person", description="by someone",
                fields=(("Content warnings", "violence"), ("Cast", "Gaara, Lee")), footer="3 scenes")
    r = render_cue(Cue(kind="title", voice=NARRATOR, text="Precious Person", card=card))
    assert len(r.parts) == 1 and r.parts[0].content == ""
    (embed,) = r.parts[0].embeds
    assert embed.title == "Precious Person"
    assert [f.name for f in embed.fields] == ["Content warnings", "Cast"]


def test_card_embed_stays_within_discord_limits() -> None:
    card = Card(title="T" * 400, description="d" * 5000, fields=tuple(("n" * 300, "v" * 2000) for _ in range(30)),
                footer="f" * 3000)
    e = card_embed(card)
    total = len(e.title or "") + len(e.description or "") + len(e.footer.text or "") + sum(
        len(f.name or "") + len(f.value or "") for f in e.fields)
    assert len(e.title or "") <= 256 and len(e.description or "") <= 4096
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in e.fields)
    assert len(e.fields) <= 25 and total <= 6000


def test_mentions_stay_in_the_text_and_answers_are_not_escaped() -> None:
    cue = Cue(kind="narration", voice=NARRATOR, text="@everyone <@&5> <@7> look")
    assert "@everyone" in render_cue(cue).parts[0].content
    ans = render_cue(Cue(kind="answer", voice=GAARA, text="I remember.\n-# recalling scene 1"))
    assert ans.parts[0].content == "I remember.\n-# recalling scene 1"


def test_fallback_puts_the_character_in_the_embed_author() -> None:
    r = render_cue(Cue(kind="dialogue", voice=GAARA, text="Sand.", aside="he said"))
    (part,) = as_bot_message(r)
    (embed,) = part.embeds
    assert part.content == ""
    assert embed.author.name == "Gaara" and embed.author.icon_url == GAARA.avatar_url
    assert embed.description == "Sand.\n-# he said"


def test_names_are_sanitised() -> None:
    assert sanitize_name("Clyde") == "C" + ZWSP + "lyde"
    assert sanitize_name("my DISCORD pal") == "my D" + ZWSP + "ISCORD pal"
    assert "clyde" not in sanitize_name("xXclydeXx").casefold()
    assert sanitize_name("   ") == "Narrator"
    assert sanitize_name("a\nb\tc") == "a b c"
    long = sanitize_name("N" * 200)
    assert len(long) == NAME_MAX and long.endswith("…")
    assert sanitize_name("everyone") != "everyone"
    assert sanitize_name("Gaara") == "Gaara"


def test_default_avatar_is_stable_per_character() -> None:
    assert default_avatar("gaara") == default_avatar("gaara")
    assert re.search(r"/embed/avatars/[0-5]\.png$", default_avatar("lee"))
    no_avatar = render_cue(Cue(kind="dialogue", voice=Voice(name="Lee", key="lee"), text="Yosh!"))
    assert no_avatar.avatar_url == default_avatar("lee")


def test_progress_bar() -> None:
    assert progress_bar(0, 10, width=10) == "▱" * 10 + " 0%"
    assert progress_bar(5, 10, width=10) == "▰" * 5 + "▱" * 5 + " 50%"
    assert progress_bar(12, 10, width=10).endswith("100%")


def test_long_cue_is_split_never_cut_with_heading_and_long_aside() -> None:
    from bot.engine.stage import Cue, Voice

    huge = " ".join(f"Sentence number {i} goes on." for i in range(150))
    aside = " ".join(f"he paced {i} times" for i in range(200))  # ~3,400 characters of action beat
    r = render_cue(Cue(kind="dialogue", voice=Voice("Gaara", "gaara"), text=huge, aside=aside,
                       heading="Scene 2 — The Hospital"))
    assert len(r.parts) >= 4 and all(len(p.content) <= 2000 for p in r.parts)
    assert r.parts[0].content.startswith("### Scene 2 — The Hospital\n")
    words = " ".join(p.content for p in r.parts).replace("-# ", " ").split()
    assert words[6:] == (huge + " " + aside).split()  # every word, in order (after the heading)


def test_rewound_cue_is_struck_through_per_message() -> None:
    from bot.engine.stage import Cue, Voice

    r = render_cue(Cue(kind="narration", voice=Voice("Narrator"), text="The *sand* fell.", aside="⏪ rewound",
                       rewound=True))
    assert r.parts[0].content.startswith("~~The \\*sand\\* fell.~~")
