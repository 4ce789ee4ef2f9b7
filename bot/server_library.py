"""Every story the bot can play: the bundled ones (STORY_DIR, every server) and each server's own
(imported from Discord, kept in the database, visible and playable only in that server).

A server's story is known to the engine by its key `slug@guild_id`, so two servers may both have
a "lantern-keeper" and a session row names exactly one. Lookups (`get`) are synchronous and come
from memory; `refresh(guild)` brings that memory up to date with the database (each change bumps
a revision), so a story imported through another bot process is seen at the next command.
Slow work (reading, segmenting, validating) runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bot.store.library import LibraryStore, StoredStory
from bot.story.cast import slugify
from bot.story.library import Library
from bot.story.model import Story
from bot.story.packed import (
    PackedStory,
    StoryFileError,
    check_script,
    edit_character,
    import_packed,
    kept_lines,
    mark_reviewed,
    review_lines,
    set_speaker,
    unpack,
)
from bot.story.storage import LoadedStory

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class LibraryRefusal(Exception):
    """A library request that cannot be done; `str(e)` is one sentence saying what to do."""


@dataclass
class ServerStory:
    guild_id: int
    packed: PackedStory
    loaded: LoadedStory
    revision: int

    @property
    def slug(self) -> str:
        return self.packed.slug

    @property
    def story(self) -> Story:
        return self.loaded.story

    @property
    def kept(self) -> frozenset[str]:
        return kept_lines(self.loaded)

    def to_review(self) -> list[int]:
        return review_lines(self.story, self.kept)


@dataclass(frozen=True)
class ImportSummary:
    slug: str
    key: str
    title: str
    scenes: int
    beats: int
    cast: tuple[str, ...]
    cast_from: str
    to_review: int
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 4_000_000
    per_server: int = 25


def story_key(guild_id: int, slug: str) -> str:
    return f"{slug}@{guild_id}"


_KEY = re.compile(r"^(?P<slug>[a-z0-9-]+)@(?P<guild>\d+)$")


@dataclass
class ServerLibrary:
    bundled: Library
    store: LibraryStore
    limits: Limits = field(default_factory=Limits)
    on_change: Callable[[Story], Awaitable[None]] | None = None  # e.g. index it for /ask
    _own: dict[int, dict[str, ServerStory]] = field(default_factory=dict)
    _refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _broken: dict[tuple[int, str], int] = field(default_factory=dict)  # (server, slug) -> revision that failed

    # ------------------------------------------------------------ the engine's StorySource
    def get(self, key: str) -> Story | None:
        m = _KEY.match(key)
        if m is None:
            return self.bundled.get(key)
        entry = self._own.get(int(m.group("guild")), {}).get(m.group("slug"))
        return entry.story if entry else None

    def include_notes(self, key: str) -> bool:
        m = _KEY.match(key)
        if m is None:
            return self.bundled.include_notes(key)
        entry = self._own.get(int(m.group("guild")), {}).get(m.group("slug"))
        return entry.loaded.include_notes if entry else False

    @property
    def stories(self) -> dict[str, Story]:
        """The bundled stories (what every server sees)."""
        return self.bundled.stories

    @property
    def errors(self) -> list[str]:
        return self.bundled.errors

    # ------------------------------------------------------------ what a server sees
    def visible(self, guild_id: int | None) -> list[tuple[str, Story, bool]]:
        """(name users type, story, is the server's own), the server's own first."""
        own = self._own.get(guild_id, {}) if guild_id is not None else {}
        out = [(slug, e.story, True) for slug, e in sorted(own.items())]
        out += [(slug, st, False) for slug, st in sorted(self.bundled.stories.items()) if slug not in own]
        return out

    def resolve(self, guild_id: int | None, name: str) -> str | None:
        """The library key for what a user typed in this server (slug or title, any case)."""
        want = name.strip().casefold()
        for slug, story, own in self.visible(guild_id):
            key = story_key(guild_id, slug) if own and guild_id is not None else slug
            if want in (slug.casefold(), story.title.casefold(), key.casefold()):
                return key
        return None

    def own(self, guild_id: int | None, name: str) -> ServerStory | None:
        """One of this server's own stories, by slug or title."""
        if guild_id is None:
            return None
        want = name.strip().casefold()
        m = _KEY.match(want)
        if m and int(m.group("guild")) == guild_id:
            want = m.group("slug")
        for slug, entry in self._own.get(guild_id, {}).items():
            if want in (slug, entry.story.title.casefold()):
                return entry
        return None

    # ------------------------------------------------------------ keeping memory current
    def busy(self) -> bool:
        """A refresh is running (it may be loading a long story in a worker thread)."""
        return self._refresh_lock.locked()

    async def refresh(self, guild_id: int | None = None) -> None:
        """Reload what changed in the database (one server, or all at start-up)."""
        async with self._refresh_lock:
            revs = await self.store.revisions(guild_id)
            guilds = {guild_id} if guild_id is not None else set(self._own) | {g for g, _ in revs}
            for g in guilds:
                mine = self._own.setdefault(g, {})
                for slug in [s for s in mine if (g, s) not in revs]:
                    del mine[slug]
            for (g, slug), rev in revs.items():
                entry = self._own.get(g, {}).get(slug)
                if (entry is not None and entry.revision == rev) or self._broken.get((g, slug)) == rev:
                    continue
                row = await self.store.get(g, slug)
                if row is None:
                    continue
                try:
                    await self._remember(row)
                except StoryFileError as exc:  # e.g. stored by a newer version of the bot: say so once
                    self._broken[(g, slug)] = row.revision
                    log.warning("server %s story %s cannot be loaded: %s", g, slug, "; ".join(exc.errors[:3]))

    async def watch(self, every: float = 30.0,
                    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Refresh every `every` seconds until cancelled, so a fix saved through another bot
        process reaches the sessions this process is playing."""
        while True:
            await sleep(every)
            try:
                await self.refresh()
            except Exception:
                log.exception("refreshing the server libraries failed; trying again in %.0f s", every)

    async def _remember(self, row: StoredStory) -> ServerStory:
        packed = PackedStory(slug=row.slug, source_name=row.source_name, source=row.source,
                             story_toml=row.story_toml, script=row.script)
        loaded = await asyncio.to_thread(unpack, packed, key=story_key(row.guild_id, row.slug))
        return await self._keep(ServerStory(row.guild_id, packed, loaded, row.revision))

    async def _keep(self, entry: ServerStory) -> ServerStory:
        """Put a validated story in memory (what the engine plays from its next beat)."""
        self._own.setdefault(entry.guild_id, {})[entry.slug] = entry
        if self.on_change is not None:
            try:
                await self.on_change(entry.story)
            except Exception:
                log.exception("indexing %s for /ask failed; /ask will index it on first use", entry.story.slug)
        return entry

    # ------------------------------------------------------------ changes
    def slug_for(self, title: str | None, file_name: str, guild_id: int | None = None) -> str:
        """The story's id from its title, else its file name ("Clockmaker's Yard" ->
        "clockmakers-yard"); a title with no Latin letters or digits falls back to the file name,
        then to "story", "story-2", ... (the first free one in this server)."""
        stem = re.sub(r"\.[A-Za-z0-9]+$", "", file_name.rsplit("/", 1)[-1])
        for base in (title, stem):
            slug = re.sub(r"[^a-z0-9]+", "-", slugify(re.sub(r"['’]", "", base or ""))).strip("-")[:60].strip("-")
            if slug:
                return slug
        taken = set(self._own.get(guild_id, {})) if guild_id is not None else set()
        n = 1
        while (slug := "story" if n == 1 else f"story-{n}") in taken:
            n += 1
        return slug

    async def import_file(self, guild_id: int, actor_id: int, data: bytes, *, file_name: str,
                          title: str | None = None, author: str | None = None, cast_toml: bytes | None = None,
                          progress: Progress | None = None) -> ImportSummary:
        if len(data) > self.limits.max_bytes:
            raise LibraryRefusal(f"That file is {len(data) / 1_000_000:.1f} MB; stories up to "
                                 f"{self.limits.max_bytes / 1_000_000:g} MB can be imported, so split it into parts.")
        await self.refresh(guild_id)
        slug = self.slug_for(title, file_name, guild_id)
        taken = LibraryRefusal(f"There is already a story called “{slug}” here; give this one another "
                               "`title:`, or `/story delete` the old one first.")
        if slug in self._own.get(guild_id, {}) or slug in self.bundled.stories:
            raise taken
        if len(self._own.get(guild_id, {})) >= self.limits.per_server:
            raise LibraryRefusal(f"This server already has {self.limits.per_server} stories, the most it may "
                                 "keep; `/story delete` one first.")
        packed, loaded, messages = await asyncio.to_thread(
            import_packed, data, file_name=file_name, slug=slug, title=title, author=author,
            cast_toml=cast_toml, progress=progress)
        row = StoredStory(guild_id=guild_id, slug=slug, title=loaded.story.title, source_name=packed.source_name,
                          source=packed.source, story_toml=packed.story_toml, script=packed.script,
                          import_record=_json(packed.import_record), imported_by=actor_id, revision=1)
        outcome = await self.store.save(row, max_per_guild=self.limits.per_server, new=True)
        if outcome == "exists":  # imported by someone else meanwhile
            raise taken
        if outcome == "full":
            raise LibraryRefusal(f"This server already has {self.limits.per_server} stories, the most it may "
                                 "keep; `/story delete` one first.")
        key = story_key(guild_id, slug)
        entry = await self._keep(ServerStory(guild_id, packed, replace(loaded, story=replace(loaded.story, slug=key)), 1))
        story = entry.story
        return ImportSummary(slug=slug, key=story.slug, title=story.title, scenes=len(story.scenes),
                             beats=len(story), cast=tuple(c.name for c in story.characters),
                             cast_from=str(packed.import_record.get("cast", "")),
                             to_review=len(review_lines(story)), messages=tuple(messages))

    async def replace_script(self, guild_id: int, name: str, script: str) -> ServerStory:
        """Keep `script` only if it validates; else StoryFileError with every problem."""
        entry = self._need(guild_id, name)
        packed, loaded = await asyncio.to_thread(check_script, entry.packed, script)
        if len(loaded.story) != len(entry.story) and await self.live_places(entry):
            # a session's position is a beat number: other beats would move it to another line
            raise LibraryRefusal(f"“{entry.story.title}” is being played and the new script has "
                                 f"{len(loaded.story)} beats instead of {len(entry.story)}; `/story stop` it "
                                 "first, or keep the beats and change only the speakers.")
        return await self._commit(entry, packed, script=packed.script)

    async def set_speaker(self, guild_id: int, name: str, beat_index: int, speaker: str | None, *,
                          expect: str | None = None) -> ServerStory:
        """Beat `beat_index` spoken by `speaker` (None: narration). With `expect` (the beat's
        words as the caller saw them), refused if the story changed under the caller."""
        await self.refresh(guild_id)
        entry = self._need(guild_id, name)
        self._same_line(entry, beat_index, expect)
        packed = await asyncio.to_thread(set_speaker, entry.packed, entry.story, beat_index, speaker)
        return await self._commit(entry, packed, script=packed.script)

    async def keep_line(self, guild_id: int, name: str, beat_index: int, *, expect: str | None = None) -> ServerStory:
        """A moderator checked this line and it is right as it is: review will not ask again."""
        await self.refresh(guild_id)
        entry = self._need(guild_id, name)
        self._same_line(entry, beat_index, expect)
        packed = await asyncio.to_thread(mark_reviewed, entry.packed, entry.story, beat_index)
        return await self._commit(entry, packed, script=packed.script, story_toml=packed.story_toml)

    async def edit_character(self, guild_id: int, name: str, key: str, changes: dict[str, str]) -> ServerStory:
        entry = self._need(guild_id, name)
        packed = edit_character(entry.packed, key, changes)
        return await self._commit(entry, packed, story_toml=packed.story_toml)

    async def delete(self, guild_id: int, name: str) -> ServerStory:
        entry = self._need(guild_id, name)
        await self.store.delete(guild_id, entry.slug)
        self._own.get(guild_id, {}).pop(entry.slug, None)
        return entry

    async def live_places(self, entry: ServerStory) -> list[tuple[int | None, int, int | None]]:
        return await self.store.live_places(entry.story.slug)

    @staticmethod
    def _same_line(entry: ServerStory, beat_index: int, expect: str | None) -> None:
        if not 0 <= beat_index < len(entry.story) or (
                expect is not None and entry.story.beat(beat_index).text != expect):
            raise LibraryRefusal("The story changed since this review started (a new script?); "
                                 "run `/story review` again.")

    def _need(self, guild_id: int, name: str) -> ServerStory:
        entry = self.own(guild_id, name)
        if entry is None:
            raise LibraryRefusal(f"This server has no story of its own called “{name}”; `/story list` shows them "
                                 "(bundled stories cannot be changed from Discord).")
        return entry

    async def _commit(self, entry: ServerStory, packed: PackedStory, *, script: str | None = None,
                      story_toml: str | None = None) -> ServerStory:
        """Validate (in a worker thread), then save only if nobody changed the story meanwhile."""
        loaded = await asyncio.to_thread(unpack, packed, key=entry.story.slug)
        ok = await self.store.update_files(entry.guild_id, entry.slug, script=script, story_toml=story_toml,
                                           title=loaded.story.title, expect_revision=entry.revision)
        if not ok:
            await self.refresh(entry.guild_id)
            raise LibraryRefusal("Someone changed or deleted this story at the same moment; try again.")
        return await self._keep(ServerStory(entry.guild_id, packed, loaded, entry.revision + 1))


def _json(record: dict[str, object]) -> str:
    import json

    return json.dumps(record, sort_keys=True, default=str)
