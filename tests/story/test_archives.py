"""Real archive formats: AO3 HTML download, FanFiction.net saved page, FicHub-style single file,
Calibre (epub-converted) HTML, Markdown, Windows-1252 and BOM+CRLF text.

The sample files in data/archives/ are invented stories laid out the way each site or tool
writes them. For each: title/author are picked up, prefaces and notes become note beats, site
navigation is dropped, chapters become titled scenes, italic thoughts are attributed, and every
word of the story itself lands in a beat.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.story.model import Character, Story
from bot.story.readers import StoryImportError, read_document
from bot.story.segmenter import segment

from .test_segmenter import check_fidelity

DATA = Path(__file__).parent / "data" / "archives"


def _c(key: str, name: str, pronouns: str) -> Character:
    return Character(key, name, (), pronouns)


CASTS = {
    "ao3-lantern-keeper.html": [_c("mira", "Mira Oakes", "she/her"), _c("tobin", "Tobin Reed", "he/him")],
    "ffnet-orchard-song.html": [_c("ada", "Ada", "she/her"), _c("nell", "Nell", "she/her")],
    "fichub-river-road.html": [_c("jessop", "Jessop", "he/him"), _c("stranger", "the stranger", "he/him")],
    "calibre-winter-letters.html": [_c("clara", "Clara", "she/her"),
                                    _c("postmistress", "the postmistress", "she/her")],
    "markdown-glass-garden.md": [_c("pell", "Pell", "he/him"), _c("rosalind", "Rosalind", "she/her")],
    "cp1252-cafe.txt": [_c("odile", "Odile", "she/her"), _c("bastien", "Bastien", "he/him")],
    "bom-crlf-bell.txt": [_c("wyn", "Wyn", "she/her"), _c("corra", "Corra", "she/her")],
}

# The story's own words, paragraph by paragraph (what a reader must see, in this order).
STORY = {
    "ao3-lantern-keeper.html": [
        "The wind came off the sea like a thrown door. Mira Oakes climbed the last of the tower stairs "
        "with the oil can knocking against her knee.",
        "“You’ll never get it lit in this,” Tobin said from the landing below.",
        "“Watch me,” she said.",
        "If it goes out, the Saltmarsh goes on the rocks, she thought, and struck the match.",
        "Hours later the storm had worn itself thin. Tobin brought up tea in two chipped mugs.",
        "By morning the Saltmarsh was safe in the harbour, her sails hanging like wet laundry.",
        "“Was it worth it?” Tobin asked.",
        "Mira looked at the lamp, black with soot, and smiled. “Every drop.”",
    ],
    "ffnet-orchard-song.html": [
        "Ada found the music box in the hollow of the oldest pear tree, wrapped in oilcloth gone stiff as bark.",
        '"Nell! Nell, come and look!"',
        # narration ahead of a line that is not the speaker's own action is posted as narration
        "Her sister came running through the long grass, skirts soaked to the knee.",
        '"If it\'s another dead bird, I\'m telling Mum."',
        '"It\'s better than a bird." Ada wound the little key. The box played four notes, stopped, and '
        "played them again.",
        "Gran's song, Nell thought. She never got past the fourth note either.",
        "That night they sat on the kitchen step with the box between them.",
        '"Maybe the rest is somewhere in the orchard," Ada said.',
        '"Maybe," said Nell.',
    ],
    "fichub-river-road.html": [
        "The ferry was halfway across when the stranger spoke.",
        '"How much for the crossing?"',
        "Old Jessop did not look up from the pole. \"Depends what you're carrying.\"",
        "The far bank was nearer than it had any right to be.",
        '"A song," said the stranger at last. "I can pay you a song."',
        'Jessop laughed. "Nobody\'s paid that toll in forty years."',
    ],
    "calibre-winter-letters.html": [
        "The letters came on the first day of the thaw, tied with red string.",
        "Nobody in the village knew the hand that had written them.",
        "“They are for you,” said the postmistress, laying them on the counter. “Or for whoever lives at "
        "Fellside now.”",
        "Clara turned the bundle over. Nobody has lived at Fellside for years, she thought.",
        "She read the first letter by the window, and then she read it again.",
    ],
    "markdown-glass-garden.md": [
        "The greenhouse had been locked since the winter their father died.",
        '"Do you still have the key?" Rosalind asked.',
        "Pell held it up, green with age. She'll want to go in first, he thought. She always does.",
        "Inside, the air was thick and warm, and the orchids had gone wild.",
        '"We could sell it," said Pell.',
        '"We could," Rosalind said, "but we won\'t."',
    ],
    "cp1252-cafe.txt": [
        "“You’re late,” said Odile, not looking up from the espresso machine.",
        "“The naïve always are,” Bastien said. “It’s part of our charm – or so I’m told.”",
        "She slid a cup across the zinc counter. … Outside, it had started to rain.",
    ],
    # its first line is the text's own title (issue 14): it titles the scene, it is not a line of it
    "bom-crlf-bell.txt": ['"Ring it," said Wyn.', '"At this hour?" Corra asked.'],
}

META = {  # file: (title, author, scene titles in order, notes that must be kept)
    "ao3-lantern-keeper.html": ("The Lantern Keeper", "Wren_Halloway",
                                [None, "Chapter 1: The Storm", None, "Chapter 2: Morning", "Afterword"],
                                ["A keeper, a storm, and the one light that must not go out.",
                                 "Written for the autumn exchange. Thank you to my beta, Sorrel!",
                                 "This chapter was the hardest to write.", "More soon, I promise.",
                                 "Thank you for reading! Comments and kudos keep me writing."]),
    "ffnet-orchard-song.html": ("The Orchard Song", "Pippin Ashgrove", [None, "Chapter One: Blossom", None],
                                ["Two sisters, one orchard, and the song their grandmother never finished.",
                                 "A/N: Hello again! This one is for my sister. I don't own the orchard (sadly).",
                                 "A/N: Thanks for reading! Please review, it makes my day."]),
    "fichub-river-road.html": ("River Road", "Hollis Vane",  # title page: front matter of chapter 1
                               ["Chapter 1: The Crossing", None, "Chapter 2: The Toll"],
                               ["River Road", "by Hollis Vane",
                                "Summary: A ferryman, a stranger, and a toll nobody has paid in forty years."]),
    "calibre-winter-letters.html": ("Winter Letters", "Agnes Thorne", ["Chapter I. The Thaw", None], []),
    # title + byline at the top are front matter (notes of the first chapter), not a scene
    "markdown-glass-garden.md": ("The Glass Garden", "Juniper Hale",
                                 ["Chapter 1", None, "Chapter 2"], ["The Glass Garden", "by Juniper Hale"]),
    # the blank lines under the title+byline are no scene break: the heading titles the story under it
    "cp1252-cafe.txt": ("Café at Midnight", "Lucien Marr", ["Café at Midnight"], ["by Lucien Marr"]),
    "bom-crlf-bell.txt": ("The Bell Tower", "", ["The Bell Tower"], []),
}

# Site furniture that must not be played as story (nor kept as a note).
NAV = {
    "ao3-lantern-keeper.html": ["Posted originally", "drop by the archive", "Archive of Our Own"],
    "ffnet-orchard-song.html": ["Just In", "Sign Up", "Review\n", "Next", "Terms of Service", "Blossom\n2."],
    "fichub-river-road.html": ["Next Chapter"],
    "calibre-winter-letters.html": [],
    "markdown-glass-garden.md": [],
    "cp1252-cafe.txt": [],
    "bom-crlf-bell.txt": [],
}

THOUGHTS = {  # (file, words of the thought, thinker)
    "ao3-lantern-keeper.html": ("If it goes out, the Saltmarsh goes on the rocks,", "mira"),
    "ffnet-orchard-song.html": ("Gran's song,", "nell"),
    "calibre-winter-letters.html": ("Nobody has lived at Fellside for years,", "clara"),
    "markdown-glass-garden.md": ("She'll want to go in first,", "pell"),
}


def _story(name: str) -> Story:
    path = DATA / name
    doc = read_document(path.read_bytes(), name=name)
    story = segment(doc, CASTS[name])
    check_fidelity(story)
    return story


def _norm(s: str) -> str:
    return " ".join(s.split())


FILES = sorted(CASTS)


def test_every_sample_is_covered() -> None:
    assert sorted(p.name for p in DATA.iterdir()) == FILES


@pytest.mark.parametrize("name", FILES)
def test_no_word_of_the_story_is_lost_or_reordered(name: str) -> None:
    story = _story(name)
    played = [_norm(b.text) for b in story.beats if b.kind != "note"]
    # each story paragraph is played (as one beat, or a line and the narration before it), in order,
    # and nothing else is played
    assert played == [_norm(p) for p in STORY[name]]


@pytest.mark.parametrize("name", FILES)
def test_title_author_scene_titles_and_notes(name: str) -> None:
    title, author, scene_titles, notes = META[name]
    doc = read_document((DATA / name).read_bytes(), name=name)
    assert (doc.title, doc.author) == (title, author)
    story = _story(name)
    assert [s.title for s in story.scenes] == scene_titles
    kept = [_norm(b.text) for b in story.beats if b.kind == "note"]
    for note in notes:
        assert note in kept


@pytest.mark.parametrize("name", FILES)
def test_site_navigation_is_dropped(name: str) -> None:
    text = read_document((DATA / name).read_bytes(), name=name).text
    for junk in NAV[name]:
        assert junk not in text + "\n"
    assert "Kudos" not in text.replace("kudos keep me", "")


@pytest.mark.parametrize("name", sorted(THOUGHTS))
def test_italic_thoughts_are_attributed(name: str) -> None:
    words, thinker = THOUGHTS[name]
    story = _story(name)
    hits = [b for b in story.beats for q0, q1 in b.quotes if story.text[q0:q1].startswith(words.rstrip(","))]
    assert hits, f"no thought beat quotes {words!r}"
    assert all(b.kind == "thought" and b.speaker == thinker for b in hits)


def test_ao3_preface_metadata_is_notes_and_chapter_notes_are_notes() -> None:
    story = _story("ao3-lantern-keeper.html")
    first = story.scenes[0]
    assert all(b.kind == "note" for b in first.beats)
    assert "General Audiences" in [b.text for b in first.beats]
    chapter1 = story.scenes[1]
    assert [b.kind for b in chapter1.beats[:2]] == ["note", "note"]  # "Chapter Notes" block
    assert story.scenes[-1].title == "Afterword" and all(b.kind == "note" for b in story.scenes[-1].beats)


def test_ffnet_author_notes_are_notes_and_scene_break_splits() -> None:
    story = _story("ffnet-orchard-song.html")
    notes = [b.text for b in story.beats if b.kind == "note" and b.text.startswith("A/N")]
    assert len(notes) == 2
    assert story.title == "The Orchard Song" and story.author == "Pippin Ashgrove"
    assert story.scenes[2].beats[0].text.startswith("That night")  # <hr> started a scene


def test_windows_1252_text_is_decoded_with_a_warning() -> None:
    doc = read_document((DATA / "cp1252-cafe.txt").read_bytes(), name="cp1252-cafe.txt")
    assert "“You’re late,”" in doc.text and "naïve" in doc.text and "–" in doc.text and "…" in doc.text
    assert "\r" not in doc.text
    assert len(doc.warnings) == 1 and doc.warnings[0].startswith("cp1252-cafe.txt:1:")
    assert "Windows-1252" in doc.warnings[0]


def test_bom_and_crlf_leave_no_trace() -> None:
    doc = read_document((DATA / "bom-crlf-bell.txt").read_bytes(), name="bom-crlf-bell.txt")
    assert doc.text.startswith("The Bell Tower\n\n") and "\r" not in doc.text and "\ufeff" not in doc.text
    assert doc.warnings == ()
    story = _story("bom-crlf-bell.txt")
    assert [b.speaker for b in story.beats if b.kind == "dialogue"] == ["wyn", "corra"]


@pytest.mark.parametrize("junk", [
    bytes(range(256)) * 8,                             # every byte value, NULs included
    bytes(b for b in range(1, 256) if b not in (9, 10, 13)) * 16,  # no NUL, full of controls
    b"\x89PNG\r\n\x1a\n" + bytes(range(1, 200)) * 10,
])
def test_binary_junk_is_still_a_clear_error(junk: bytes) -> None:
    with pytest.raises(StoryImportError) as e:
        read_document(junk, name="junk.txt")
    assert str(e.value).startswith("junk.txt")
    assert "binary" in str(e.value)


def test_title_and_author_labels_in_plain_text() -> None:
    text = "Title: The Salt Road\nAuthor: quill_and_ink\nRating: T\n\nThe road ran white to the sea.\n"
    doc = read_document(text, name="s.txt")
    assert (doc.title, doc.author) == ("The Salt Road", "quill_and_ink")
    story = segment(doc, [])
    assert [b.kind for b in story.beats] == ["note", "narration"]


def test_a_story_that_opens_with_by_is_not_a_byline() -> None:
    text = "The sea was grey.\nBy the harbour wall, nothing moved.\n\nShe waited."
    doc = read_document(text, name="s.txt")
    assert (doc.title, doc.author) == ("", "")
    assert doc.notes == ()


@pytest.mark.parametrize("para", ["Home.", "Next, she tried the door.", "Review the facts, Watson."])
def test_story_words_that_look_like_navigation_are_kept(para: str) -> None:
    doc = read_document(f"<html><body><p>It was late.</p><p>{para}</p></body></html>", name="s.html")
    assert para in doc.text


def test_navigation_paragraph_inside_html_is_dropped_with_its_markup() -> None:
    html = ("<p>She ran.</p><p><a href='/s/1/1'>&laquo; Prev</a> | <a href='/s/1/3'>Next &raquo;</a></p>"
            "<p><i>Too late,</i> she thought.</p>")
    doc = read_document(html, name="s.html")
    assert doc.text == "She ran.\n\nToo late, she thought."
    assert [doc.text[a:b] for a, b in doc.italics] == ["Too late,"]
    assert re.search("Prev|Next", doc.text) is None


def test_calibre_span_italics_are_thoughts() -> None:
    html = ('<p class="calibre2">Clara set the letters down. <span class="italic">Who writes to an empty '
            'house?</span> she wondered.</p><p class="calibre2">Outside, <span class="calibre7">the</span> '
            'thaw went on. <span style="font-style: italic">It is only water,</span> she told herself.</p>')
    doc = read_document(html, name="book.html")
    assert [doc.text[a:b] for a, b in doc.italics] == ["Who writes to an empty house?", "It is only water,"]
    story = segment(doc, [_c("clara", "Clara", "she/her")])
    check_fidelity(story)
    assert [(b.kind, b.speaker) for b in story.beats if b.quotes] == [("thought", "clara"), ("thought", "clara")]


def test_html_declaring_its_own_encoding_is_read_without_a_warning() -> None:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
            '</head><body><p>\x93D\xe9j\xe0 vu,\x94 said Odile.</p></body></html>').encode("latin-1")
    doc = read_document(page, name="old.html")
    assert doc.text == "“Déjà vu,” said Odile." and doc.warnings == ()
    # a UTF-8 page is read as UTF-8 whatever it declares
    assert read_document('<meta charset="iso-8859-1"><p>“Déjà”</p>'.encode(), name="x.html").text == "“Déjà”"


def test_ao3_web_page_save_summary_and_notes_headings_stay_notes() -> None:
    html = """<html><body>
    <ul class="primary navigation actions"><li><a href="/">Archive of Our Own</a></li><li>Log In</li></ul>
    <div class="preface group"><h2 class="title heading">The Salt Road</h2>
    <h3 class="byline heading"><a rel="author" href="/users/quill">quill</a></h3>
    <div class="summary module"><h3 class="heading">Summary:</h3>
    <blockquote class="userstuff"><p>Two smugglers, one road.</p></blockquote></div></div>
    <div id="chapters" role="article"><h3 class="landmark heading" id="work">Work Text:</h3>
    <div class="userstuff"><p>The road ran white to the sea.</p></div></div>
    <div id="feedback" class="feedback"><h3 class="landmark heading">Actions</h3><ul><li>Kudos</li></ul></div>
    </body></html>"""
    doc = read_document(html, name="work.html")
    assert (doc.author, doc.title) == ("quill", "The Salt Road")  # <h2 class="title heading">
    story = segment(doc, [])
    assert [(b.kind, b.text) for b in story.beats] == [
        ("note", "The Salt Road"), ("note", "quill"), ("note", "Summary:"), ("note", "Two smugglers, one road."),
        ("narration", "The road ran white to the sea.")]
    assert all(s.title is None for s in story.scenes)


def test_old_ffnet_br_br_layout_with_separators_and_nav() -> None:
    html = ("<div id='storytext'>Disclaimer: I don't own it.<br><br>\"Hi,\" said Ada.<br><br>&nbsp;<br><br>"
            "<p>&nbsp;</p><center>xXx</center><br>Nell ran.<br/><br/>\"Wait!\"<br><br><b>Chapter 2</b><br><br>"
            "Morning came.<br><br>~*~*~<br><br>Then night.<br><br>Prev Chapter | Next Chapter<br><br>"
            "&lt;&lt; Back</div>")
    story = segment(read_document(html, name="ffn.html"), CASTS["ffnet-orchard-song.html"])
    check_fidelity(story)
    assert [(s.title, [(b.kind, b.text) for b in s.beats]) for s in story.scenes] == [
        (None, [("note", "Disclaimer: I don't own it."), ("dialogue", '"Hi," said Ada.')]),
        (None, [("narration", "Nell ran."), ("dialogue", '"Wait!"')]),  # xXx: a break, not chapter XX
        ("Chapter 2", [("narration", "Morning came.")]),
        (None, [("narration", "Then night.")]),
    ]
