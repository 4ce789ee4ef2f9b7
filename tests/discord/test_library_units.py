"""Pure helpers of the library commands: where attachments may come from, the import summary,
refusals in one line, and the order of the review menu."""

from __future__ import annotations

from bot.discord_app.library_commands import (
    allowed_attachment_url,
    likely_speakers,
    one_sentence,
    summary_text,
)
from bot.server_library import ImportSummary
from bot.story.cast import StoryFileError
from bot.story.model import Beat, Character, Scene, Story


def test_attachments_come_only_from_discord_or_the_configured_api_host() -> None:
    cdn = "https://cdn.discordapp.com/ephemeral-attachments/1/2/story.epub?ex=1&is=2&hm=3"
    assert allowed_attachment_url(cdn, None)
    assert allowed_attachment_url("https://media.discordapp.net/attachments/1/2/a.txt", None)
    assert not allowed_attachment_url("http://cdn.discordapp.com/a.txt", None), "plain http to the CDN"
    assert not allowed_attachment_url("https://evil.example/cdn.discordapp.com/a.txt", None)
    assert not allowed_attachment_url("https://cdn.discordapp.com.evil.example/a.txt", None)
    assert not allowed_attachment_url("file:///etc/passwd", None)
    api = "http://127.0.0.1:8123/api/v10"
    assert allowed_attachment_url("http://127.0.0.1:8123/attachments/5/a.txt", api)
    assert not allowed_attachment_url("http://127.0.0.1:9999/attachments/5/a.txt", api), "another port"
    assert not allowed_attachment_url("http://localhost:8123/attachments/5/a.txt", api)


def test_summary_names_everything_a_moderator_needs() -> None:
    s = ImportSummary(slug="yard", key="yard@1", title="The *Yard*", scenes=2, beats=9,
                      cast=("Ada", "Ben"), cast_from="discovered", to_review=3)
    text = summary_text(s)
    assert "The \\*Yard\\*" in text and "2 scene(s), 9 beats" in text and "Ada, Ben" in text
    assert "guessed from the text" in text and "**3** line(s) to review" in text
    assert "/story review story:yard" in text and "/story start story:yard" in text
    sure = summary_text(ImportSummary(slug="y", key="y@1", title="Y", scenes=1, beats=1, cast=(),
                                      cast_from="cast-file", to_review=0))
    assert "No lines to review" in sure and "guessed" not in sure and "nobody found" in sure


def test_problems_become_one_line() -> None:
    exc = StoryFileError(["cast.toml:3: name must be text", "cast.toml:7: colour 'x' must look like \"#aa3322\""])
    assert one_sentence(exc) == "cast.toml:3: name must be text (and 1 more problem)"


def test_the_review_menu_puts_nearby_speakers_first() -> None:
    cast = tuple(Character(key=f"c{i}", name=f"C{i}") for i in range(30))
    beats = [Beat(index=i, scene=0, kind="dialogue", text="“Hi.”", speaker=f"c{29 - i}") for i in range(10)]
    beats.append(Beat(index=10, scene=0, kind="dialogue", text="“Who?”"))
    story = Story(slug="s", title="S", scenes=(Scene(0, None, tuple(beats)),), characters=cast)
    order = [c.key for c in likely_speakers(story, 10)]
    assert order[:3] == ["c20", "c21", "c22"] and len(order) == 30


def test_echoed_text_carries_no_working_link() -> None:
    from bot.discord_app.library_commands import echo

    shown = echo("See https://evil.example/x and [click](http://x.example) **now**")
    assert "https://" not in shown and "http://" not in shown
    assert "evil" in shown and "now" in shown and "**now**" not in shown


class FakeAttachment:
    def __init__(self, url: str, data: bytes = b"story", size: int | None = None, hang: bool = False) -> None:
        self.url, self.data, self.hang = url, data, hang
        self.filename = "story.txt"
        self.size = len(data) if size is None else size
        self.reads = 0

    async def read(self) -> bytes:
        import asyncio

        self.reads += 1
        if self.hang:
            await asyncio.Event().wait()
        return self.data


async def test_fetching_refuses_before_downloading_and_gives_up_on_a_slow_link() -> None:
    import pytest

    from bot.discord_app.library_commands import fetch_attachment
    from bot.discord_app.permissions import Refused

    cdn = "https://cdn.discordapp.com/attachments/1/2/story.txt"
    ok = FakeAttachment(cdn)
    assert await fetch_attachment(ok, 100) == b"story"  # type: ignore[arg-type]
    big = FakeAttachment(cdn, size=101)
    with pytest.raises(Refused, match="split it into parts"):
        await fetch_attachment(big, 100)  # type: ignore[arg-type]
    elsewhere = FakeAttachment("https://files.example/story.txt")
    with pytest.raises(Refused, match="does not come from Discord"):
        await fetch_attachment(elsewhere, 100)  # type: ignore[arg-type]
    assert big.reads == elsewhere.reads == 0, "refused before any download"
    slow = FakeAttachment(cdn, hang=True)
    with pytest.raises(Refused, match="took too long"):
        await fetch_attachment(slow, 100, timeout=0)  # type: ignore[arg-type]
    liar = FakeAttachment(cdn, data=b"x" * 500, size=10)
    with pytest.raises(Refused, match="larger than"):
        await fetch_attachment(liar, 100)  # type: ignore[arg-type]


def test_the_importer_s_second_choice_heads_the_review_menu() -> None:
    cast = (Character(key="ada", name="Ada"), Character(key="ben", name="Ben"), Character(key="cora", name="Cora"))
    beats = (Beat(index=0, scene=0, kind="dialogue", text="“Hi.”", speaker="ben"),
             Beat(index=1, scene=0, kind="dialogue", text="“Who?”", speaker="ben", confidence=0.4, review=True,
                  runner_up="cora"))
    story = Story(slug="s", title="S", scenes=(Scene(0, None, beats),), characters=cast)
    assert [c.key for c in likely_speakers(story, 1)] == ["cora", "ben", "ada"]


def test_review_and_delete_controls_carry_their_state_within_discord_s_100_characters() -> None:
    from bot.discord_app.library_commands import ReviewButton, ReviewMenu, delete_view, review_page
    from bot.server_library import ServerStory, StoryInfo
    from bot.story.packed import import_packed

    slug = "a" * 60
    text = b"Rain fell.\n\n\"Who goes there?\"\n\nThe gate was dark.\n\n\"Who has the key?\"\n"
    packed, loaded, _ = import_packed(text, file_name="yard.txt", slug=slug)
    entry = ServerStory(1, packed, loaded, 1)
    first, second = entry.to_review()
    page, view = review_page(entry, fixed=123456, kept=99999)
    assert view is not None and f"beat {first})" in page
    ids = [str(getattr(item, "custom_id", "")) for item in view.children]
    assert len(ids) == 4 and all(len(i) <= 100 for i in ids), ids
    assert {type(item) for item in view.children} == {ReviewMenu, ReviewButton}
    _, after_first = review_page(entry, after=first)
    assert after_first is not None and all(f"rv:keep:{second}:" in str(getattr(i, "custom_id", ""))
                                           for i in after_first.children if isinstance(i, ReviewButton)
                                           and i.action == "keep")
    done, none_left = review_page(entry, after=second, fixed=1)
    assert none_left is None and "Review finished: 1 line(s) fixed" in done and "2 line(s) skipped" in done
    info = StoryInfo.of(entry.story, slug=slug, stamp=1_900_000_000)
    (button,) = delete_view(info).children
    assert len(str(getattr(button, "custom_id", ""))) <= 100
