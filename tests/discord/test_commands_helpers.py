"""The pure parts of the slash commands: recap trimming, replies, the status embed, story lookup."""

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from bot.discord_app.commands import (
    advance_reply,
    cast_embeds,
    cast_message,
    cast_pages,
    recap_text,
    resolve_story,
    status_embed,
    story_choices,
)
from bot.discord_app.permissions import Refused
from bot.engine.api import AdvanceResult, SessionView
from bot.engine.stage import Place
from bot.story.model import Character
from tests.discord.stories import short_story

STORY = short_story("tale", beats=30, scenes=1)


def view(**kw: Any) -> SessionView:
    base: dict[str, Any] = dict(session_id=1, place=Place(1, 2), story_slug="tale", story_title="Tale",
                                state="paused", mode="vote", wpm=180, position=15, beat_count=30,
                                scene_index=0, scene_count=1, started_by=42, votes=1, votes_needed=2,
                                pause_reason="Paused by a moderator", next_due_at=None)
    base.update(kw)
    return SessionView(**base)


def test_recap_keeps_the_latest_beats_and_fits() -> None:
    beats = list(range(30))
    full = recap_text(STORY, beats)
    assert full.index("dune number 0") < full.index("line 29")
    short = recap_text(STORY, beats, limit=300)
    assert len(short) <= 300
    assert "29" in short and "dune number 0" not in short and short.startswith("…")
    assert "**Gaara:**" in recap_text(STORY, [1])


def test_advance_replies() -> None:
    assert advance_reply("manual", AdvanceResult(True, 1, 1)) == "On we go."
    assert "1/2" in advance_reply("vote", AdvanceResult(False, 1, 2))
    assert "on its way" in advance_reply("manual", AdvanceResult(False, 0, 1))


def test_status_embed_shows_everything_a_reader_asks_about() -> None:
    e = status_embed(view())
    fields = {f.name: f.value for f in e.fields}
    assert e.title == "Tale"
    assert fields["Scene"] == "1 of 1"
    assert "paused" in (fields["State"] or "") and "Paused by a moderator" in (fields["State"] or "")
    assert fields["Mode"] == "vote (1/2 votes)"
    assert fields["Started by"] == "<@42>"
    assert fields["Rewinds"] == "delete later messages"
    assert "50%" in (fields["Progress"] or "") and "beat 15 of 30" in (fields["Progress"] or "")


def test_cast_embeds_carry_avatar_and_one_line_persona() -> None:
    embeds = cast_embeds(STORY)
    assert [e.author.name for e in embeds] == ["Gaara", "Rock Lee", "Clyde Discord"]
    assert embeds[0].description == "A quiet boy of the sand."
    assert all(e.author.icon_url for e in embeds)


def test_a_long_cast_is_paged_within_discord_s_limits() -> None:
    long = "A very long persona, said over and over without a full stop " * 40
    cast = tuple(Character(key=f"c{n}", name=f"@everyone {'N' * 300}{n}", persona=long, pronouns="she/her " * 30)
                 for n in range(23))
    story = replace(STORY, characters=cast)
    assert cast_pages(story) == 3
    pages = [cast_embeds(story, p) for p in range(3)]
    assert [len(p) for p in pages] == [10, 10, 3]
    for embeds in pages:
        total = sum(len(e.author.name or "") + len(e.description or "") + len(e.footer.text or "") for e in embeds)
        assert total <= 6000, "Discord refuses a message whose embeds hold more than 6,000 characters"
        assert all("@everyone" not in (e.author.name or "") for e in embeds), "a name never pings"
    content, extra = cast_message(story, "tale", page=5)
    assert "21–23 of 23 (page 3 of 3)" in content, "a page past the end shows the last"
    ids = [c.custom_id for c in extra["view"].children]
    assert ids == ["cast:p:1:tale", "cast:n:3:tale"]
    assert [c.item.disabled for c in extra["view"].children] == [False, True]
    content, extra = cast_message(STORY, "tale")
    assert "page" not in content and "view" not in extra, "one page needs no buttons"


def test_story_lookup_by_slug_or_title() -> None:
    lib = SimpleNamespace(stories={"tale": STORY}, errors=[], get=lambda s: {"tale": STORY}.get(s))
    bot: Any = SimpleNamespace(library=lib)
    assert resolve_story(bot, "tale") == "tale"
    assert resolve_story(bot, STORY.title.upper()) == "tale"
    with pytest.raises(Refused, match="no story called"):
        resolve_story(bot, "nope")
    assert [c.value for c in story_choices(bot, "TA")] == ["tale"]
    assert story_choices(bot, "zzz") == []
