"""Every story the bot can play: the bundled ones (STORY_DIR, every server) and each server's own
(imported from Discord, kept in the database, visible and playable only in that server).

A server's story is known to the engine by its key `slug@guild_id`, so two servers may both have
a "lantern-keeper" and a session row names exactly one. What every server may see comes from
light rows (`StoryInfo`: title, credit, counts, cast names), never from the stories themselves, so
memory does not grow with the number of imported stories. A story is loaded when it is needed (a
session starts or resumes in this process, a command or /ask acts on it: `load`, `entry`) and
kept in a cache bounded by size (least recently used goes first); a story a session still plays
stays reachable through a weak reference while the session holds it. `refresh(guild)` brings the
rows up to date with the database (each change bumps a revision) and reloads the stories this
process has in use that changed, so a fix saved through another process reaches its sessions.
Slow work (reading, segmenting, validating) runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bot.store.library import LibraryStore, StoredStory, StoryRow
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
class StoryInfo:
    """What a server sees of a story without loading it: /story list, autocomplete, resolving a
    name, the cast menu of /story cast. Built from the story once and stored beside it."""

    slug: str  # the name users type (a server story's slug, without "@guild")
    title: str
    author: str = ""
    credit: str = ""
    scene_count: int = 0
    beat_count: int = 0
    include_notes: bool = False
    cast: str = "[]"  # JSON [[key, name, [aliases]], ...]: kept as text, read only by the cast menu
    revision: int = 0
    stamp: int = 0  # when this story was imported (whole seconds): tells a re-import of the same slug apart

    @classmethod
    def of(cls, story: Story, *, slug: str | None = None, include_notes: bool = False, revision: int = 0,
           stamp: int = 0) -> StoryInfo:
        cast = json.dumps([[c.key, c.name, list(c.aliases)] for c in story.characters], ensure_ascii=False,
                          separators=(",", ":"))
        return cls(slug=slug or story.slug, title=story.title, author=story.author, credit=story.credit,
                   scene_count=len(story.scenes), beat_count=len(story), include_notes=include_notes,
                   cast=cast, revision=revision, stamp=stamp)

    @property
    def characters(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """(key, name, aliases) of each character."""
        return tuple((str(k), str(n), tuple(str(a) for a in al)) for k, n, al in json.loads(self.cast))

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "author": self.author, "credit": self.credit,
                           "scenes": self.scene_count, "beats": self.beat_count, "include_notes": self.include_notes,
                           "characters": json.loads(self.cast)}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_row(cls, row: StoryRow) -> StoryInfo | None:
        """None when the row carries no (readable) metadata yet."""
        try:
            d = json.loads(row.meta) if row.meta else None
            if not isinstance(d, dict):
                return None
            chars = [[str(k), str(n), [str(a) for a in al]] for k, n, al in d.get("characters", [])]
            return cls(slug=row.slug, title=row.title, author=str(d.get("author", "")),
                       credit=str(d.get("credit", "")), scene_count=int(d.get("scenes", 0)),
                       beat_count=int(d.get("beats", 0)), include_notes=bool(d.get("include_notes", False)),
                       cast=json.dumps(chars, ensure_ascii=False, separators=(",", ":")), revision=row.revision,
                       stamp=int(row.created_at))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 4_000_000
    per_server: int = 25
    cache_bytes: int = 64_000_000  # loaded server stories kept beyond those being played


def story_key(guild_id: int, slug: str) -> str:
    return f"{slug}@{guild_id}"


_KEY = re.compile(r"^(?P<slug>[a-z0-9-]+)@(?P<guild>\d+)$")


def split_key(key: str) -> tuple[int, str] | None:
    m = _KEY.match(key)
    return None if m is None else (int(m.group("guild")), m.group("slug"))


def footprint(entry: ServerStory) -> int:
    """Roughly how many bytes a loaded story holds: the original file, the script and story.toml,
    and the parsed story (about six times the script; bench/library_memory.py prints this
    estimate beside the measured figure)."""
    p = entry.packed
    return len(p.source) + 7 * len(p.script) + len(p.story_toml) + 2_000


class StoryCache:
    """Loaded server stories, least recently used first out once their total passes `max_bytes`
    (the newest one always stays, however large)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, ServerStory] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self.total = 0

    def get(self, key: str) -> ServerStory | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def peek(self, key: str) -> ServerStory | None:
        return self._entries.get(key)

    def put(self, key: str, entry: ServerStory) -> None:
        self.pop(key)
        size = footprint(entry)
        self._entries[key] = entry
        self._sizes[key] = size
        self.total += size
        while self.total > self.max_bytes and len(self._entries) > 1:
            old, _ = self._entries.popitem(last=False)
            self.total -= self._sizes.pop(old)

    def pop(self, key: str) -> ServerStory | None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.total -= self._sizes.pop(key)
        return entry

    def keys(self) -> list[str]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class ServerLibrary:
    bundled: Library
    store: LibraryStore
    limits: Limits = field(default_factory=Limits)
    on_change: Callable[[Story], Awaitable[None]] | None = None  # e.g. index it for /ask
    _infos: dict[int, dict[str, StoryInfo]] = field(default_factory=dict)  # server -> slug -> light row
    _cache: StoryCache = field(init=False)
    # stories handed out (to sessions) and still held by someone: found again without a reload
    _held: weakref.WeakValueDictionary[str, Story] = field(default_factory=weakref.WeakValueDictionary)
    _held_rev: dict[str, int] = field(default_factory=dict)
    _loading: dict[str, asyncio.Future[ServerStory | None]] = field(default_factory=dict)
    _refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _broken: dict[tuple[int, str], int] = field(default_factory=dict)  # (server, slug) -> revision that failed
    _pinned: list[Story] = field(default_factory=list)  # loaded for sessions about to resume
    _bundled_infos: dict[str, tuple[Story, StoryInfo]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cache = StoryCache(self.limits.cache_bytes)

    # ------------------------------------------------------------ the engine's StorySource
    def get(self, key: str) -> Story | None:
        """A story already in memory (bundled, cached, or held by a session); `load` first."""
        where = split_key(key)
        if where is None:
            return self.bundled.get(key)
        entry = self._cache.get(key)
        if entry is not None:
            return entry.story
        return self._held.get(key)

    def include_notes(self, key: str) -> bool:
        where = split_key(key)
        if where is None:
            return self.bundled.include_notes(key)
        info = self._infos.get(where[0], {}).get(where[1])
        return info.include_notes if info else False

    @property
    def stories(self) -> dict[str, Story]:
        """The bundled stories (what every server sees)."""
        return self.bundled.stories

    @property
    def errors(self) -> list[str]:
        return self.bundled.errors

    def cached(self) -> list[str]:
        """The keys of the server stories loaded in memory (for tests and benches)."""
        return self._cache.keys()

    # ------------------------------------------------------------ what a server sees
    def visible(self, guild_id: int | None) -> list[tuple[str, StoryInfo, bool]]:
        """(name users type, its light row, is the server's own), the server's own first."""
        own = self._own_infos(guild_id)
        out = [(slug, info, True) for slug, info in sorted(own.items())]
        out += [(slug, self._bundled_info(slug, st), False)
                for slug, st in sorted(self.bundled.stories.items()) if slug not in own]
        return out

    def _bundled_info(self, slug: str, story: Story) -> StoryInfo:
        known = self._bundled_infos.get(slug)
        if known is None or known[0] is not story:
            known = (story, StoryInfo.of(story, slug=slug, include_notes=self.bundled.include_notes(slug)))
            self._bundled_infos[slug] = known
        return known[1]

    def _own_infos(self, guild_id: int | None) -> dict[str, StoryInfo]:
        if guild_id is None:
            return {}
        return {slug: info for slug, info in self._infos.get(guild_id, {}).items()
                if self._broken.get((guild_id, slug)) != info.revision}

    def resolve(self, guild_id: int | None, name: str) -> str | None:
        """The library key for what a user typed in this server (slug or title, any case)."""
        want = name.strip().casefold()
        for slug, info, own in self.visible(guild_id):
            key = story_key(guild_id, slug) if own and guild_id is not None else slug
            if want in (slug.casefold(), info.title.casefold(), key.casefold()):
                return key
        return None

    def own(self, guild_id: int | None, name: str) -> StoryInfo | None:
        """One of this server's own stories (its light row), by slug or title."""
        if guild_id is None:
            return None
        want = name.strip().casefold()
        m = _KEY.match(want)
        if m and int(m.group("guild")) == guild_id:
            want = m.group("slug")
        for slug, info in self._own_infos(guild_id).items():
            if want in (slug, info.title.casefold()):
                return info
        return None

    async def entry(self, guild_id: int | None, name: str) -> ServerStory | None:
        """One of this server's own stories, loaded (files and all), by slug or title."""
        info = self.own(guild_id, name)
        if info is None or guild_id is None:
            return None
        return await self._load_entry(guild_id, info.slug)

    async def load(self, key: str) -> Story | None:
        """The story, loaded from the database if it is not in memory (None: no such story, or
        it does not load any more; that is logged once)."""
        where = split_key(key)
        if where is None:
            return self.bundled.get(key)
        held = self.get(key)
        if held is not None:
            return held
        entry = await self._load_entry(*where)
        return entry.story if entry else None

    async def load_channel(self, channel_id: int) -> Story | None:
        """The story of the newest session in this channel, so the engine finds it in memory."""
        key = await self.store.story_of_channel(channel_id)
        return None if key is None or split_key(key) is None else await self.load(key)

    async def load_live(self, owns: Callable[[int | None], bool] | None = None) -> int:
        """At start-up, before sessions resume: load the stories of the sessions still going
        (only those of the servers `owns` says this process runs). They stay in memory, whatever
        the cache's bound, until `unpin()` (once the sessions have resumed and hold them). Returns
        how many."""
        for guild_id, key in await self.store.live_stories():
            if split_key(key) is not None and (owns is None or owns(guild_id)):
                story = await self.load(key)
                if story is not None:
                    self._pinned.append(story)
        return len(self._pinned)

    def unpin(self) -> None:
        """The sessions resumed: the stories `load_live` kept are held by them (or may go)."""
        self._pinned.clear()

    async def _load_entry(self, guild_id: int, slug: str) -> ServerStory | None:
        key = story_key(guild_id, slug)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        pending = self._loading.get(key)
        if pending is not None:  # someone is loading it already: wait for that one
            return await asyncio.shield(pending)
        future: asyncio.Future[ServerStory | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            entry = await self._read(guild_id, slug)
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else is warned
            raise
        finally:
            del self._loading[key]

    async def _read(self, guild_id: int, slug: str) -> ServerStory | None:
        row = await self.store.get(guild_id, slug)
        if row is None or self._broken.get((guild_id, slug)) == row.revision:
            return None
        try:
            entry = await self._unpack(row)
        except StoryFileError as exc:  # e.g. stored by a newer version of the bot: say so once
            self._broken[(guild_id, slug)] = row.revision
            log.warning("server %s story %s cannot be loaded: %s", guild_id, slug, "; ".join(exc.errors[:3]))
            return None
        info = self._remember(entry, stamp=int(row.created_at))
        if not row.meta:  # stored before rows carried metadata: fill it in for every process
            await self.store.set_meta(guild_id, slug, row.revision, info.to_json())
        return entry

    async def _unpack(self, row: StoredStory) -> ServerStory:
        packed = PackedStory(slug=row.slug, source_name=row.source_name, source=row.source,
                             story_toml=row.story_toml, script=row.script)
        loaded = await asyncio.to_thread(unpack, packed, key=story_key(row.guild_id, row.slug))
        return ServerStory(row.guild_id, packed, loaded, row.revision)

    def _remember(self, entry: ServerStory, *, stamp: int | None = None) -> StoryInfo:
        """Put a validated story in memory (what the engine plays from its next beat)."""
        key = entry.story.slug
        old = self._infos.get(entry.guild_id, {}).get(entry.slug)
        info = StoryInfo.of(entry.story, slug=entry.slug, include_notes=entry.loaded.include_notes,
                            revision=entry.revision, stamp=stamp if stamp is not None else (old.stamp if old else 0))
        self._infos.setdefault(entry.guild_id, {})[entry.slug] = info
        self._cache.put(key, entry)
        self._held[key] = entry.story
        self._held_rev[key] = entry.revision
        return info

    async def _changed(self, entry: ServerStory) -> ServerStory:
        self._remember(entry)
        if self.on_change is not None:
            try:
                await self.on_change(entry.story)
            except Exception:
                log.exception("indexing %s for /ask failed; /ask will index it on first use", entry.story.slug)
        return entry

    def _forget(self, guild_id: int, slug: str) -> None:
        key = story_key(guild_id, slug)
        self._infos.get(guild_id, {}).pop(slug, None)
        self._cache.pop(key)
        self._held.pop(key, None)  # a session still holding it keeps its own reference
        self._held_rev.pop(key, None)

    # ------------------------------------------------------------ keeping memory current
    def busy(self) -> bool:
        """A refresh is running (it may be loading a changed story in a worker thread)."""
        return self._refresh_lock.locked()

    async def refresh(self, guild_id: int | None = None) -> None:
        """Bring the light rows up to date with the database (one server, or all), and reload
        the stories in use here that another process changed."""
        async with self._refresh_lock:
            revs = await self.store.revisions(guild_id)  # cheap: only rows that changed are read
            stale = [w for w, rev in revs.items() if self._revision(*w) != rev]
            if len(stale) > 20:
                wanted = set(stale)
                rows = [r for r in await self.store.rows(guild_id) if (r.guild_id, r.slug) in wanted]
            else:
                rows = [r for w in stale if (r := await self.store.row(*w)) is not None]
            guilds = {guild_id} if guild_id is not None else set(self._infos) | {g for g, _ in revs}
            seen = set(revs)
            for g in guilds:
                for slug in [s for s in self._infos.get(g, {}) if (g, s) not in seen]:
                    self._forget(g, slug)
            for key in [k for k in self._held_rev if (w := split_key(k)) is not None and w[0] in guilds
                        and w not in seen]:
                self._held_rev.pop(key, None)
            for row in rows:
                key = story_key(row.guild_id, row.slug)
                info = StoryInfo.from_row(row)
                in_use = self._cache.peek(key) is not None or self._held.get(key) is not None
                known = self._held_rev.get(key)
                if not in_use:
                    self._held_rev.pop(key, None)  # forgotten here: the light row is all that is kept
                if in_use and known is not None and known != row.revision:
                    if self._broken.get((row.guild_id, row.slug)) == row.revision:
                        continue
                    full = await self.store.get(row.guild_id, row.slug)
                    if full is None:
                        continue
                    try:
                        self._remember(await self._unpack(full), stamp=int(full.created_at))
                    except StoryFileError as exc:  # keep the last good version in memory
                        self._broken[(row.guild_id, row.slug)] = full.revision
                        log.warning("server %s story %s cannot be loaded: %s", row.guild_id, row.slug,
                                    "; ".join(exc.errors[:3]))
                    continue
                if info is None:  # no metadata yet (stored by an older version): load it once
                    if self._broken.get((row.guild_id, row.slug)) != row.revision:
                        await self._load_entry(row.guild_id, row.slug)
                    continue
                self._infos.setdefault(row.guild_id, {})[row.slug] = info

    def _revision(self, guild_id: int, slug: str) -> int | None:
        """The revision this process knows of a story (its light row, or the story it holds)."""
        info = self._infos.get(guild_id, {}).get(slug)
        known = self._held_rev.get(story_key(guild_id, slug))
        if info is not None and (known is None or known == info.revision):
            return info.revision
        return known if info is None else None  # the row and the story held disagree: look again

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
        taken = set(self._infos.get(guild_id, {})) if guild_id is not None else set()
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
        if slug in self._infos.get(guild_id, {}) or slug in self.bundled.stories:
            raise taken
        if len(self._infos.get(guild_id, {})) >= self.limits.per_server:
            raise LibraryRefusal(f"This server already has {self.limits.per_server} stories, the most it may "
                                 "keep; `/story delete` one first.")
        packed, loaded, messages = await asyncio.to_thread(
            import_packed, data, file_name=file_name, slug=slug, title=title, author=author,
            cast_toml=cast_toml, progress=progress)
        key = story_key(guild_id, slug)
        loaded = replace(loaded, story=replace(loaded.story, slug=key))
        meta = StoryInfo.of(loaded.story, slug=slug, include_notes=loaded.include_notes).to_json()
        row = StoredStory(guild_id=guild_id, slug=slug, title=loaded.story.title, source_name=packed.source_name,
                          source=packed.source, story_toml=packed.story_toml, script=packed.script,
                          import_record=_json(packed.import_record), imported_by=actor_id, revision=1, meta=meta)
        outcome = await self.store.save(row, max_per_guild=self.limits.per_server, new=True)
        if outcome == "exists":  # imported by someone else meanwhile
            raise taken
        if outcome == "full":
            raise LibraryRefusal(f"This server already has {self.limits.per_server} stories, the most it may "
                                 "keep; `/story delete` one first.")
        stored = await self.store.rows(guild_id)
        stamp = next((int(r.created_at) for r in stored if r.slug == slug), 0)
        entry = ServerStory(guild_id, packed, loaded, 1)
        self._remember(entry, stamp=stamp)
        await self._changed(entry)
        story = entry.story
        return ImportSummary(slug=slug, key=story.slug, title=story.title, scenes=len(story.scenes),
                             beats=len(story), cast=tuple(c.name for c in story.characters),
                             cast_from=str(packed.import_record.get("cast", "")),
                             to_review=len(review_lines(story)), messages=tuple(messages))

    async def replace_script(self, guild_id: int, name: str, script: str) -> ServerStory:
        """Keep `script` only if it validates; else StoryFileError with every problem."""
        entry = await self._need(guild_id, name)
        packed, loaded = await asyncio.to_thread(check_script, entry.packed, script)
        if len(loaded.story) != len(entry.story) and await self.live_places(entry.story.slug):
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
        entry = await self._need(guild_id, name)
        self._same_line(entry, beat_index, expect)
        packed = await asyncio.to_thread(set_speaker, entry.packed, entry.story, beat_index, speaker)
        return await self._commit(entry, packed, script=packed.script)

    async def keep_line(self, guild_id: int, name: str, beat_index: int, *, expect: str | None = None) -> ServerStory:
        """A moderator checked this line and it is right as it is: review will not ask again."""
        await self.refresh(guild_id)
        entry = await self._need(guild_id, name)
        self._same_line(entry, beat_index, expect)
        packed = await asyncio.to_thread(mark_reviewed, entry.packed, entry.story, beat_index)
        return await self._commit(entry, packed, script=packed.script, story_toml=packed.story_toml)

    async def edit_character(self, guild_id: int, name: str, key: str, changes: dict[str, str]) -> ServerStory:
        entry = await self._need(guild_id, name)
        packed = edit_character(entry.packed, key, changes)
        return await self._commit(entry, packed, story_toml=packed.story_toml)

    async def delete(self, guild_id: int, name: str) -> StoryInfo:
        """Delete one of this server's stories with everything kept for it (its /ask index
        too), in one transaction. Refused while a session still plays it: stop those first."""
        info = self.own(guild_id, name)
        if info is None:
            raise LibraryRefusal(f"This server has no story of its own called “{name}”; `/story list` shows them "
                                 "(bundled stories cannot be changed from Discord).")
        outcome = await self.store.delete(guild_id, info.slug, story_key(guild_id, info.slug))
        if outcome == "playing":
            raise LibraryRefusal(f"“{info.title}” is being played in a channel; `/story stop` it there first.")
        self._forget(guild_id, info.slug)
        return info

    async def live_places(self, key: str) -> list[tuple[int | None, int, int | None]]:
        return await self.store.live_places(key)

    @staticmethod
    def _same_line(entry: ServerStory, beat_index: int, expect: str | None) -> None:
        if not 0 <= beat_index < len(entry.story) or (
                expect is not None and entry.story.beat(beat_index).text != expect):
            raise LibraryRefusal("The story changed since this review started (a new script?); "
                                 "run `/story review` again.")

    async def _need(self, guild_id: int, name: str) -> ServerStory:
        entry = await self.entry(guild_id, name)
        if entry is None:
            raise LibraryRefusal(f"This server has no story of its own called “{name}”; `/story list` shows them "
                                 "(bundled stories cannot be changed from Discord).")
        return entry

    async def _commit(self, entry: ServerStory, packed: PackedStory, *, script: str | None = None,
                      story_toml: str | None = None) -> ServerStory:
        """Validate (in a worker thread), then save only if nobody changed the story meanwhile."""
        loaded = await asyncio.to_thread(unpack, packed, key=entry.story.slug)
        meta = StoryInfo.of(loaded.story, slug=entry.slug, include_notes=loaded.include_notes).to_json()
        ok = await self.store.update_files(entry.guild_id, entry.slug, script=script, story_toml=story_toml,
                                           title=loaded.story.title, meta=meta, expect_revision=entry.revision)
        if not ok:
            self._cache.pop(entry.story.slug)  # stale: read it again next time
            await self.refresh(entry.guild_id)
            raise LibraryRefusal("Someone changed or deleted this story at the same moment; try again.")
        return await self._changed(ServerStory(entry.guild_id, packed, loaded, entry.revision + 1))


def _json(record: dict[str, object]) -> str:
    return json.dumps(record, sort_keys=True, default=str)
