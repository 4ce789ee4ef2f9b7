"""Servers' own stories (bot/server_library.py + bot/store/library.py) on real SQLite: isolation
between servers, other processes seeing changes, limits, and edits that keep the rest intact."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.server_library import LibraryRefusal, Limits, ServerLibrary, story_key
from bot.store import Database
from bot.store.library import LibraryStore
from bot.story.cast import StoryFileError
from bot.story.library import Library, load_library
from bot.story.packed import needs_review, review_lines
from bot.story.readers import StoryImportError
from tests.story.epubs import LANTERN, build_epub

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[1]
YARD = (b"<html><body><p>Rain fell on the yard where Ada kept her clocks.</p>"
        b"<p>\"Is it ready?\" Ben asked.</p><p>\"Almost,\" Ada said.</p><hr/>"
        b"<p>\"Who goes there?\"</p><p>The gate was dark.</p></body></html>")
A, B = 111, 222


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def dbs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two connections to one database (SQLite file or PostgreSQL): two bot processes."""
    from bot.store import PgDatabase

    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        first, second = await PgDatabase.open(url), await PgDatabase.open(url)  # type: ignore[assignment]
        await first.migrate()
    else:
        first = await Database.open(tmp_path / "narrator.sqlite3")
        await first.migrate()
        second = await Database.open(tmp_path / "narrator.sqlite3")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def bundled() -> Library:
    return load_library(ROOT / "story_data")


def lib_on(db: Database, **limits: int) -> ServerLibrary:
    return ServerLibrary(bundled(), LibraryStore(db), limits=Limits(**limits))


async def test_a_story_is_only_visible_in_its_server(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    summary = await lib.import_file(A, 1, build_epub(LANTERN), file_name="Lantern.epub", title="The Lantern Keeper")
    assert summary.key == story_key(A, "the-lantern-keeper") and summary.scenes == 3
    assert [n for n, _, own in lib.visible(A) if own] == ["the-lantern-keeper"]
    assert all(not own for _, _, own in lib.visible(B))
    assert "precious-person" in [n for n, _, _ in lib.visible(B)], "bundled stories are everywhere"
    assert lib.resolve(A, "the lantern keeper") == summary.key
    assert lib.resolve(B, "the-lantern-keeper") is None and lib.resolve(B, summary.key) is None
    assert lib.get(summary.key) is not None and lib.get(summary.key).title == "The Lantern Keeper"  # type: ignore[union-attr]
    assert lib.own(B, "the-lantern-keeper") is None
    # the same title in another server is another story
    other = await lib.import_file(B, 2, build_epub(LANTERN), file_name="Lantern.epub", title="The Lantern Keeper")
    assert other.key != summary.key and lib.get(other.key) is not None


async def test_another_process_sees_imports_fixes_and_deletions(dbs: tuple[Database, Database]) -> None:
    one, two = lib_on(dbs[0]), lib_on(dbs[1])
    s = await one.import_file(A, 1, YARD, file_name="yard.html", title="Yard")
    await two.refresh()
    assert two.get(s.key) is None, "another process reads only the light row until it needs the story"
    assert [(n, i.title, i.beat_count) for n, i, own in two.visible(A) if own] == [("yard", "Yard", 5)]
    story = await two.load(s.key)
    assert story is not None and review_lines(story) == [3]
    await one.set_speaker(A, "yard", 3, "ben")
    assert two.get(s.key).beat(3).speaker is None  # type: ignore[union-attr]
    await two.refresh(A)
    assert two.get(s.key).beat(3).speaker == "ben"  # type: ignore[union-attr]
    assert review_lines(two.get(s.key)) == []  # type: ignore[arg-type]
    await one.delete(A, "yard")
    await two.refresh(A)
    assert two.get(s.key) is None and two.resolve(A, "yard") is None


async def test_limits_refuse_in_one_sentence_and_store_nothing(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0], max_bytes=len(YARD) + 10, per_server=1)
    store = LibraryStore(dbs[0])
    with pytest.raises(LibraryRefusal, match="stories up to"):
        await lib.import_file(A, 1, YARD + b" " * 20, file_name="yard.html")
    with pytest.raises(StoryImportError):
        await lib.import_file(A, 1, b"\x00\x01binary", file_name="yard.txt")
    with pytest.raises(StoryFileError, match="cast.toml"):
        await lib.import_file(A, 1, YARD, file_name="yard.html", cast_toml=b"[[character]]\nname = 3\n")
    assert await store.count(A) == 0, "nothing half-imported"
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    with pytest.raises(LibraryRefusal, match="already a story called"):
        await lib.import_file(A, 1, YARD, file_name="yard.html")
    with pytest.raises(LibraryRefusal, match="already has 1 stories"):
        await lib.import_file(A, 1, YARD, file_name="other.html")
    with pytest.raises(LibraryRefusal, match="already a story called"):
        await lib.import_file(B, 1, YARD, file_name="precious-person.txt")  # a bundled story's name
    assert await store.count(A) == 1 and await store.count(B) == 0


async def test_a_speaker_fix_changes_one_label_and_nothing_else(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    before = await lib.entry(A, "yard")
    assert before is not None
    after = await lib.set_speaker(A, "yard", 3, "ada")
    diff = [d for d in difflib.ndiff(before.packed.script.splitlines(), after.packed.script.splitlines())
            if d[:1] in "+-"]
    assert [d for d in diff if not d.startswith("- #? CHECK:")] == ['- UNKNOWN: "Who goes there?"',
                                                                  '+ ADA: "Who goes there?"']
    assert "#? CHECK" not in after.packed.script.split('ADA: "Who goes there?"')[0].splitlines()[-1], \
        "a checked line loses its review mark"
    assert after.revision == before.revision + 1
    narrated = await lib.set_speaker(A, "yard", 3, None)
    assert narrated.story.beat(3).kind == "narration" and not needs_review(narrated.story.beat(3))


async def test_a_bad_script_lists_every_problem_and_keeps_the_old_one(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    entry = await lib.entry(A, "yard")
    assert entry is not None
    broken = entry.packed.script.replace("ADA:", "ADDA:").replace("BEN:", "BENJAMIN:")
    with pytest.raises(StoryFileError) as caught:
        await lib.replace_script(A, "yard", broken)
    assert len(caught.value.errors) == 2
    assert all(e.startswith("script.txt:") and "unknown speaker" in e for e in caught.value.errors)
    assert (await lib.entry(A, "yard")).packed.script == entry.packed.script  # type: ignore[union-attr]
    row = await LibraryStore(dbs[0]).get(A, "yard")
    assert row is not None and row.script == entry.packed.script


async def test_cast_edits_are_validated_like_story_toml(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    with pytest.raises(StoryFileError, match="#aa3322"):
        await lib.edit_character(A, "yard", "ada", {"colour": "blue"})
    with pytest.raises(StoryFileError, match="direct link"):
        await lib.edit_character(A, "yard", "ada", {"avatar_url": "https://example.com/page"})
    entry = await lib.edit_character(A, "yard", "ada", {"colour": "#112233", "pronouns": "she/her",
                                                          "avatar_url": "https://example.com/ada.png"})
    ada = entry.story.character("ada")
    assert ada is not None and (ada.colour, ada.pronouns, ada.avatar_url) == (
        "#112233", "she/her", "https://example.com/ada.png")
    cleared = await lib.edit_character(A, "yard", "ada", {"avatar_url": ""})
    assert cleared.story.character("ada").avatar_url is None  # type: ignore[union-attr]


async def test_a_kept_line_is_not_asked_again_but_a_skipped_one_is(dbs: tuple[Database, Database]) -> None:
    two_unknown = YARD.replace(b"<p>The gate was dark.</p>", b"<p>The gate was dark.</p><hr/><p>\"Open up!\"</p>"
                               b"<p>Nobody moved.</p>")
    lib = lib_on(dbs[0])
    summary = await lib.import_file(A, 1, two_unknown, file_name="yard.html")
    entry = await lib.entry(A, "yard")
    assert entry is not None and summary.to_review == 2
    first, second = entry.to_review()
    kept = await lib.keep_line(A, "yard", first)
    assert kept.to_review() == [second], "kept: not asked again; the skipped one still is"
    assert kept.story.beat(first).speaker is None, "keeping changes no speaker"
    removed = [d for d in difflib.ndiff(entry.packed.script.splitlines(), kept.packed.script.splitlines())
               if d[:1] in "+-"]
    assert all(d.startswith("- #? CHECK:") for d in removed), "only the line's review mark goes"
    other = lib_on(dbs[1])
    await other.refresh(A)
    assert (await other.entry(A, "yard")).to_review() == [second]  # type: ignore[union-attr]


async def test_a_story_that_no_longer_loads_is_left_out_and_reported_once(
        dbs: tuple[Database, Database], caplog: pytest.LogCaptureFixture) -> None:
    lib = lib_on(dbs[0])
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    store = LibraryStore(dbs[0])
    row = await store.get(A, "yard")
    assert row is not None
    assert await store.update_files(A, "yard", script=row.script.replace("ADA:", "NOBODY:"))
    other = lib_on(dbs[1])
    for _ in range(3):
        await other.refresh(A)
        assert await other.load(story_key(A, "yard")) is None
    assert other.own(A, "yard") is None and other.resolve(A, "yard") is None
    assert sum("cannot be loaded" in r.getMessage() for r in caplog.records) == 1
    await lib.refresh(A)
    assert lib.get(story_key(A, "yard")) is not None, "the process that had it keeps the last good version"


async def test_a_review_answer_for_a_changed_story_is_refused(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    entry = await lib.entry(A, "yard")
    assert entry is not None
    seen = entry.story.beat(3).text
    shorter = entry.packed.script.replace('NARRATION: The gate was dark.', '')
    await lib.replace_script(A, "yard", shorter)
    with pytest.raises(LibraryRefusal, match="changed since this review started"):
        await lib.set_speaker(A, "yard", 4, "ben", expect=seen)
    with pytest.raises(LibraryRefusal, match="changed since this review started"):
        await lib.keep_line(A, "yard", 9, expect=seen)


async def test_the_store_refuses_a_taken_slug_and_a_full_server_in_the_same_transaction(
        dbs: tuple[Database, Database]) -> None:
    from bot.store.library import StoredStory

    store_one, store_two = LibraryStore(dbs[0]), LibraryStore(dbs[1])

    def row(slug: str, by: int) -> StoredStory:
        return StoredStory(A, slug, slug.title(), "source.txt", b"text", "[story]\n", "", "{}", by, 1)

    assert await store_one.save(row("yard", 1), new=True, max_per_guild=2) == "saved"
    assert await store_two.save(row("yard", 2), new=True, max_per_guild=2) == "exists"
    assert (await store_one.get(A, "yard")).imported_by == 1  # type: ignore[union-attr]
    assert await store_two.save(row("gate", 2), new=True, max_per_guild=2) == "saved"
    assert await store_one.save(row("third", 1), new=True, max_per_guild=2) == "full"
    assert await store_one.count(A) == 2
    assert await store_one.save(row("yard", 3), max_per_guild=2) == "saved", "replacing is not adding"
    assert (await store_two.get(A, "yard")).revision == 2  # type: ignore[union-attr]


async def test_watch_brings_another_process_s_fix_to_this_one(dbs: tuple[Database, Database]) -> None:
    import asyncio

    one, two = lib_on(dbs[0]), lib_on(dbs[1])
    await one.import_file(A, 1, YARD, file_name="yard.html")
    await two.refresh()
    playing = await two.load(story_key(A, "yard"))  # a session in this process plays it
    assert playing is not None
    ticks: list[float] = []
    refreshed = asyncio.Event()

    async def fake_sleep(seconds: float) -> None:  # no real waiting
        ticks.append(seconds)
        if len(ticks) == 2:  # the loop came back to sleep: its first refresh is done
            refreshed.set()
            await asyncio.Event().wait()

    await one.set_speaker(A, "yard", 3, "ada")
    assert two.get(story_key(A, "yard")).beat(3).speaker is None  # type: ignore[union-attr]
    task = asyncio.create_task(two.watch(12.5, sleep=fake_sleep))
    await refreshed.wait()
    task.cancel()
    assert two.get(story_key(A, "yard")).beat(3).speaker == "ada"  # type: ignore[union-attr]
    assert ticks == [12.5, 12.5]


async def test_an_uploaded_cast_file_cannot_point_at_files_on_the_bot_s_machine(
        dbs: tuple[Database, Database], tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"spec": "chara_card_v2", "data": {"name": "Ada", "description": "TOP SECRET"}}')
    cast = f'[[character]]\nname = "Ada"\n\n[[character]]\nname = "Ben"\ncard = "{secret}"\n'.encode()
    lib = lib_on(dbs[0])
    with pytest.raises(StoryFileError, match=r"cast.toml:6: `card` cannot be used"):
        await lib.import_file(A, 1, YARD, file_name="yard.html", cast_toml=cast)
    assert await LibraryStore(dbs[0]).count(A) == 0


async def test_problems_name_the_file_inside_the_story_never_a_temporary_path(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    with pytest.raises(StoryImportError) as caught:
        await lib.import_file(A, 1, b"<html><body><p>12 34</p></body></html>", file_name="numbers.html")
    assert "/tmp" not in str(caught.value) and "narrator-" not in str(caught.value)
    with pytest.raises(StoryFileError) as bad_cast:
        await lib.import_file(A, 1, YARD, file_name="yard.html", cast_toml=b"[[character]]\nname = 3\n")
    assert all(e.startswith("cast.toml:") for e in bad_cast.value.errors), bad_cast.value.errors


async def test_ids_come_from_the_title_or_the_file_and_never_fail(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    assert lib.slug_for("The Clockmaker's Yard", "x.html") == "the-clockmakers-yard"
    assert lib.slug_for("Café Noir", "x.html") == "cafe-noir"
    assert lib.slug_for("月光の下で", "Moonlight_Walk.epub") == "moonlight-walk"
    first = await lib.import_file(A, 1, YARD, file_name="月光.html", title="月光")
    second = await lib.import_file(A, 1, YARD, file_name="月光.html", title="月光")
    assert (first.slug, second.slug) == ("story", "story-2")
    assert first.title == "月光", "the title itself is kept as given"


async def test_a_script_with_other_beats_waits_until_nobody_plays_the_story(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    summary = await lib.import_file(A, 1, YARD, file_name="yard.html")
    entry = await lib.entry(A, "yard")
    assert entry is not None
    shorter = entry.packed.script.replace("NARRATION: The gate was dark.", "")
    await dbs[0].execute(
        "INSERT INTO sessions (guild_id, channel_id, story_slug, story_hash, state, mode, started_by, created_at, "
        "updated_at) VALUES (?, 5, ?, 'h', 'playing', 'auto', 1, 0, 0)", (A, summary.key))
    with pytest.raises(LibraryRefusal, match="being played"):
        await lib.replace_script(A, "yard", shorter)
    same_beats = entry.packed.script.replace('UNKNOWN: "Who goes there?"', 'ADA: "Who goes there?"')
    assert (await lib.replace_script(A, "yard", same_beats)).story.beat(3).speaker == "ada"
    await dbs[0].execute("UPDATE sessions SET state = 'stopped'")
    assert len((await lib.replace_script(A, "yard", shorter)).story) == len(entry.story) - 1


async def test_a_line_the_importer_marked_unsure_is_reviewed_and_its_mark_goes(dbs: tuple[Database, Database]) -> None:
    lib = lib_on(dbs[0])
    await lib.import_file(A, 1, YARD, file_name="yard.html")
    entry = await lib.entry(A, "yard")
    assert entry is not None
    marked = entry.packed.script.replace('ADA: "Almost," Ada said.',
                                         '#? CHECK: ADA (40%), or BEN? Fix the name if needed, then delete this line.\n'
                                         'ADA: "Almost," Ada said.')
    assert marked != entry.packed.script
    entry = await lib.replace_script(A, "yard", marked)
    almost = next(b.index for b in entry.story.beats if "Almost" in b.text)
    assert entry.story.beat(almost).review and almost in entry.to_review(), "an attributed but unsure line"
    kept = await lib.keep_line(A, "yard", almost, expect=entry.story.beat(almost).text)
    assert almost not in kept.to_review() and "(40%)" not in kept.packed.script
    assert kept.story.beat(almost).speaker == "ada" and kept.kept == entry.kept, "nothing else recorded"


async def _rows_of(db: Database, key: str) -> dict[str, int]:
    counts = {}
    for table, column in (("answer_fts", "story_slug"), ("answer_index", "story_slug"), ("stories", "slug"),
                          ("characters", "story_slug"), ("scenes", "story_slug"), ("beats", "story_slug")):
        row = await db.fetchone(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (key,))
        counts[table] = int(row[0]) if row else 0
    return counts


async def _session(db: Database, key: str, state: str, channel: int = 5) -> None:
    await db.execute(
        "INSERT INTO sessions (guild_id, channel_id, story_slug, story_hash, state, mode, started_by, created_at, "
        "updated_at) VALUES (?, ?, ?, 'h', ?, 'auto', 1, 0, 0)", (A, channel, key, state))


async def test_delete_removes_the_story_and_its_ask_index_in_one_go(dbs: tuple[Database, Database]) -> None:
    from bot.answers.engine import AnswerEngine

    answers = AnswerEngine(dbs[0])
    lib = ServerLibrary(bundled(), LibraryStore(dbs[0]), on_change=answers.index_story)
    s = await lib.import_file(A, 1, YARD, file_name="yard.html")
    await answers.index_story(bundled().stories["precious-person"])
    kept = await _rows_of(dbs[0], s.key)
    assert kept["answer_fts"] > 0 and kept["answer_index"] == 1 and kept["beats"] == s.beats, kept
    # a session still playing it: refused, and nothing at all is deleted
    await _session(dbs[0], s.key, "paused")
    with pytest.raises(LibraryRefusal, match="being played"):
        await lib.delete(A, "yard")
    assert await _rows_of(dbs[0], s.key) == kept and await LibraryStore(dbs[0]).count(A) == 1
    await dbs[0].execute("UPDATE sessions SET state = 'stopped'")
    await _session(dbs[0], s.key, "finished", channel=6)
    await lib.delete(A, "yard")
    assert set((await _rows_of(dbs[0], s.key)).values()) == {0}, "nothing of the story is left"
    assert await LibraryStore(dbs[0]).count(A) == 0 and lib.get(s.key) is None and lib.own(A, "yard") is None
    assert (await _rows_of(dbs[0], "precious-person"))["answer_fts"] > 0, "other stories' index untouched"
    ended = await dbs[0].fetchone("SELECT COUNT(*) FROM sessions WHERE story_slug = ?", (s.key,))
    assert ended is not None and int(ended[0]) == 2, "ended sessions stay, as the audit log's history"
    # another process: the story is gone from its rows too
    other = lib_on(dbs[1])
    await other.refresh(A)
    assert other.resolve(A, "yard") is None and await other.load(s.key) is None


async def test_stories_are_loaded_on_demand_and_the_cache_is_bounded(dbs: tuple[Database, Database]) -> None:
    import gc

    from bot.server_library import footprint

    maker = lib_on(dbs[0])
    keys = [(await maker.import_file(A, 1, YARD, file_name=f"yard{n}.html")).key for n in range(4)]
    one = await maker.entry(A, "yard0")
    assert one is not None
    lib = lib_on(dbs[1], cache_bytes=2 * footprint(one) + 10)
    await lib.refresh()
    assert lib.cached() == [] and len([1 for *_, own in lib.visible(A) if own]) == 4, "light rows only"
    assert lib.resolve(A, "yard2") == keys[2] and lib.get(keys[2]) is None
    playing = await lib.load(keys[0])  # a session holds this one
    for key in keys[1:]:
        assert await lib.load(key) is not None
    assert lib.cached() == keys[2:], "least recently used out first, never more than the bound"
    assert lib.get(keys[0]) is playing, "a story a session still plays is found without a reload"
    assert lib.get(keys[1]) is None
    del playing
    gc.collect()
    assert lib.get(keys[0]) is None, "once nobody holds it, it is gone from memory"
    again = await lib.load(keys[0])
    assert again is not None
    assert lib.cached() == [keys[3], keys[0]]


async def test_rows_stored_before_metadata_existed_get_it_on_first_refresh(dbs: tuple[Database, Database]) -> None:
    maker = lib_on(dbs[0])
    s = await maker.import_file(A, 1, YARD, file_name="yard.html", title="Yard")
    await dbs[0].execute("UPDATE server_stories SET meta = ''")
    lib = lib_on(dbs[1])
    await lib.refresh()
    assert [(n, i.title, i.scene_count, i.beat_count) for n, i, own in lib.visible(A) if own] == [
        ("yard", "Yard", s.scenes, s.beats)]
    row = await dbs[0].fetchone("SELECT meta FROM server_stories WHERE slug = 'yard'")
    assert row is not None and '"beats":5' in str(row[0]), "written back for every other process"


async def test_start_up_loads_only_the_stories_of_sessions_still_going(dbs: tuple[Database, Database]) -> None:
    maker = lib_on(dbs[0])
    keys = [(await maker.import_file(A, 1, YARD, file_name=f"yard{n}.html")).key for n in range(3)]
    await _session(dbs[0], keys[0], "paused", channel=5)
    await _session(dbs[0], keys[1], "finished", channel=6)
    await _session(dbs[0], "precious-person", "playing", channel=7)
    lib = lib_on(dbs[1])
    await lib.refresh()
    assert await lib.load_live(lambda guild: guild != A) == 0, "another process runs this server"
    assert await lib.load_live() == 1 and lib.cached() == [keys[0]]
    assert await lib.load_channel(6) is not None and lib.cached() == [keys[0], keys[1]]


async def test_stories_loaded_for_resuming_sessions_stay_until_they_are_held(dbs: tuple[Database, Database]) -> None:
    import gc

    maker = lib_on(dbs[0])
    keys = [(await maker.import_file(A, 1, YARD, file_name=f"yard{n}.html")).key for n in range(3)]
    for n, key in enumerate(keys):
        await _session(dbs[0], key, "playing", channel=10 + n)
    lib = lib_on(dbs[1], cache_bytes=1)  # room for one story only
    await lib.refresh()
    assert await lib.load_live() == 3 and len(lib.cached()) == 1
    gc.collect()
    assert all(lib.get(k) is not None for k in keys), "every session about to resume finds its story"
    held = lib.get(keys[0])  # a resumed session holds it
    lib.unpin()
    gc.collect()
    assert lib.get(keys[0]) is held and lib.get(keys[1]) is None and lib.get(keys[2]) is not None


async def test_a_process_importing_many_stories_does_not_keep_them_all(dbs: tuple[Database, Database]) -> None:
    import gc

    from bot.answers.engine import FACTS_KEPT, AnswerEngine

    answers = AnswerEngine(dbs[0])
    lib = ServerLibrary(bundled(), LibraryStore(dbs[0]), on_change=answers.index_story,
                        limits=Limits(per_server=100, cache_bytes=1))
    keys = [(await lib.import_file(A, 1, YARD, file_name=f"yard{n}.html")).key for n in range(FACTS_KEPT + 6)]
    gc.collect()
    alive = [k for k in keys if lib.get(k) is not None]  # found only while something still holds it
    assert len(alive) <= FACTS_KEPT + 1, f"{len(alive)} of {len(keys)} imported stories still in memory"
    assert await answers.answer(await lib.load(keys[0]), "ada", "Is it ready?", 4) is not None  # type: ignore[arg-type]
