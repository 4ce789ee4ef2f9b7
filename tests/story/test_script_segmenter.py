"""A freshly imported script plays exactly what the segmenter produced: segment -> save -> load
gives the same beats, offsets and quotes, whatever the quote style or layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.story.model import Character
from bot.story.readers import read_document
from bot.story.segmenter import segment
from bot.story.storage import load_story, save_story

CAST = [Character("mara", "Mara", (), "she/her"), Character("tom", "Tom", (), "he/him"),
        Character("shukaku", "Shukaku", (), "he/him")]
_LONG = "“" + " ".join(f"This is sentence number {i} of a very long speech that goes on." for i in range(60)) \
    + "” Mara said."

TEXTS = {
    "long-speech-split": f"The storm came.\n\n{_LONG}\n\n“Stop,” Tom said.\n",
    "long-speech-wrapped": "The storm came.\n\n" + "\n".join(_LONG[i:i + 70] for i in range(0, len(_LONG), 70))
    + "\n\nTom left.\n",
    "british": "‘I don’t know,’ said Mara. ‘It’s the boys’ turn.’\n\n‘Fine,’ Tom said. ‘Go on.’\n\nThey went.\n",
    "hard-wrapped": "The lamp had gone out an hour\nbefore midnight.\n\n“We have to climb,” Mara said,\n"
                    "“before the ship hits.”\n\n“In this wind?” Tom\nasked.\n",
    "multi-paragraph": "“It began long ago,” Mara said. “We were young.\n\n“And then we grew old.”\n\nTom nodded.\n",
    "dash": "— Where are you going? asked Mara.\n\n— Home, said Tom.\n",
    "breaks": "One.\n\n* * *\n\n“Two,” said Tom.\n\n~~~\n\nThree.\n",
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_segment_save_load_is_identity(name: str, tmp_path: Path) -> None:
    doc = read_document(TEXTS[name].encode(), fmt="txt", name=f"{name}.txt")
    story = segment(doc, CAST, slug="x", title="X")
    save_story(tmp_path / "x", story)
    loaded = load_story(tmp_path / "x")
    assert loaded.beats == story.beats
    assert [len(s.beats) for s in loaded.scenes] == [len(s.beats) for s in story.scenes]


def test_html_italic_thoughts_survive(tmp_path: Path) -> None:
    html = ("<html><body><p>The sand stirred.</p><p><i>Kill them all,</i> Shukaku whispered.</p>"
            "<p>\u201cNo,\u201d Mara said. <i>Never.</i></p></body></html>").encode()
    story = segment(read_document(html, fmt="html", name="x.html"), CAST, slug="x", title="X")
    save_story(tmp_path / "x", story, source=html, source_name="source.html")
    assert load_story(tmp_path / "x").beats == story.beats
