"""Helpers for the end-to-end tests: start the real bot against the emulator, read what it
posted, act as readers and moderators."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.discord_app.render import sanitize_name
from bot.engine.cues import cue_for_beat
from bot.story.library import load_library
from bot.story.model import Story
from tests.emulator import Emulator, StoredMessage
from tests.emulator.fixtures import ROOT, BotProcess
from tests.emulator.state import Channel

SEED = "precious-person"
_WORDS = re.compile(r"[\W_]+", re.UNICODE)


def norm(s: str) -> str:
    return _WORDS.sub(" ", s.replace("\u200b", "")).strip().casefold()


def seed_story() -> Story | None:
    lib = load_library(ROOT / "story_data")
    return lib.get(SEED)


def story_root(tmp: Path, *stories: Story, seed: bool = False) -> Path:
    from tests.discord.stories import write_story

    root = tmp / "stories"
    root.mkdir(parents=True, exist_ok=True)
    for st in stories:
        write_story(root, st)
    if seed and (ROOT / "story_data" / SEED / "story.toml").is_file():
        shutil.copytree(ROOT / "story_data" / SEED, root / SEED, dirs_exist_ok=True)
    return root


def make_bot(emu: Emulator, workdir: Path, stories: Path, *, time_scale: float = 0.005,
             rate_scale: float | None = None, **env: str) -> BotProcess:
    extra = {"NARRATOR_TIME_SCALE": str(time_scale), **env}
    if rate_scale is not None:
        extra["NARRATOR_RATE_SCALE"] = str(rate_scale)
    return BotProcess(emu, workdir, story_dir=stories, extra_env=extra)


@asynccontextmanager
async def running(proc: BotProcess) -> AsyncIterator[BotProcess]:
    """Start the bot for a module; stop it cleanly (exit 0) and check its log held no secret."""
    await proc.start()
    try:
        yield proc
    finally:
        if proc.running:
            assert await proc.stop() == 0
    assert not proc.secrets_in_log(), proc.secrets_in_log()


def posted(emu: Emulator, channel: Channel | int) -> list[StoredMessage]:
    """What readers see in a channel: the bot's and its webhook's messages, oldest first."""
    return [m for m in emu.messages(channel) if m.webhook_id is not None or m.author.id == emu.bot_user.id
            if not m.ephemeral and m.interaction_id is None]


def cards(msgs: list[StoredMessage], title: str) -> list[StoredMessage]:
    return [m for m in msgs if any((e.get("title") or "") == title for e in m.embeds)]


def finished(emu: Emulator, channel: Channel | int) -> bool:
    return bool(cards(posted(emu, channel), "The End"))


def message_text(m: StoredMessage) -> str:
    parts = [m.content]
    for e in m.embeds:
        parts += [e.get("description") or "", (e.get("author") or {}).get("name") or ""]
    return "\n".join(parts)


def voiced_lines(story: Story) -> list[tuple[str, str]]:
    """(display name, spoken words) of every character line, in story order."""
    out = []
    for b in story.iter_playable():
        if b.voiced:
            cue = cue_for_beat(story, b)
            out.append((sanitize_name(cue.voice.name), cue.text))
    return out


def assert_played_in_order(emu: Emulator, channel: Channel | int, story: Story, narrator: str = "Narrator") -> None:
    """Every character line arrived once, in order, under its character's name; every narration
    beat's words arrived in order under the narrator; nothing was posted twice."""
    msgs = [m for m in posted(emu, channel) if m.webhook_id is not None and not m.embeds]
    voiced = [m for m in msgs if m.name != narrator]
    expected = voiced_lines(story)
    got = [(m.name, m.content) for m in voiced]
    assert len(got) == len(expected), f"{len(got)} character lines posted, story has {len(expected)}"
    for (name, words), (got_name, content) in zip(expected, got, strict=True):
        assert got_name == name, f"{words!r} came as {got_name!r}, expected {name!r}"
        assert norm(words) in norm(content), f"{words!r} not in {content!r}"
    for b in story.iter_playable():
        if b.voiced and b.speaker:
            c = story.character(b.speaker)
            if c is not None and len(b.speakers) <= 1:
                assert sanitize_name(c.name) in {n for n, _ in expected}
    narration = norm(" ".join(m.content for m in msgs if m.name == narrator))
    at = 0
    for b in story.iter_playable():
        if b.kind == "narration":
            words = norm(b.text)
            i = narration.find(words, at)
            assert i >= 0, f"narration beat {b.index} missing or out of order: {b.text[:60]!r}"
            at = i + len(words)
    ids = [m.id for m in posted(emu, channel)]
    assert len(ids) == len(set(ids))


def controls_message(emu: Emulator, channel: Channel | int, seen: set[int]) -> StoredMessage | None:
    """The newest message carrying Continue that we have not pressed yet, once the bot has put
    its own ▶ on it (the sign that the bot finished posting it)."""
    for m in reversed(posted(emu, channel)):
        if m.deleted:
            continue
        if m.components:
            mine = any(emu.bot_user.id in users for users in m.reactions.values())
            return m if m.id not in seen and mine else None
    return None


def continue_id(m: StoredMessage) -> str:
    for row in m.components:
        for c in row.get("components", []):
            if str(c.get("custom_id", "")).startswith("narrator:next:"):
                return str(c["custom_id"])
    raise AssertionError(f"no Continue button on {m.id}")


async def press(emu: Emulator, channel: Channel, user: Any, seen: set[int], *, timeout: float = 20.0,  # noqa: ASYNC109
                button: bool = False) -> bool:
    """Wait for the next controlled message and press ▶ (or Continue); False at The End."""
    try:
        found = await emu.wait_for(lambda: finished(emu, channel) or controls_message(emu, channel, seen),
                                   timeout, what="the next ▶")
    except AssertionError:
        for m in posted(emu, channel)[-4:]:
            print("LAST:", m.id, m.name, repr(m.content[:80]), m.components, m.reactions)
        raise
    if found is True:
        return False
    assert isinstance(found, StoredMessage)
    seen.add(found.id)
    def moved_on() -> bool:
        newest = posted(emu, channel)
        return bool(newest) and (newest[-1].id > found.id or not found.components or found.deleted)

    for wait in (0.15, 0.3, 0.6, 1.2, 2.4, 5.0):
        if button:
            inter = await emu.press_button(user, found, continue_id(found))
            await inter.wait_response()
        else:
            await emu.react(user, found)
        try:
            await emu.wait_for(moved_on, wait)
            return True
        except AssertionError:
            # pressed during the ▶ cooldown, or while the bot was still recording the beat:
            # a reader would press again
            if not button:
                await emu.unreact(user, found)
    raise AssertionError(f"pressing ▶ on {found.id} never moved the story on")


async def play_by_reactions(emu: Emulator, channel: Channel, user: Any, *, timeout: float = 20.0,  # noqa: ASYNC109
                            limit: int | None = None, button: bool = False) -> int:
    """Press ▶ on each newest controlled message until The End (or `limit` presses)."""
    seen: set[int] = set()
    presses = 0
    while limit is None or presses < limit:
        if not await press(emu, channel, user, seen, timeout=timeout, button=button):
            break
        presses += 1
    return presses
