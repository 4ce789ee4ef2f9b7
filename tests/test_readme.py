"""The README's set-up facts are checked against the code: the invite permission integer is
exactly the permissions it lists (and those the bot asks for when it lacks one)."""

from __future__ import annotations

import re
from pathlib import Path

import discord

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")

# README wording -> discord.Permissions flag
NAMES = {"View Channels": "view_channel", "Send Messages": "send_messages",
         "Send Messages in Threads": "send_messages_in_threads", "Manage Webhooks": "manage_webhooks",
         "Embed Links": "embed_links", "Add Reactions": "add_reactions",
         "Read Message History": "read_message_history", "Attach Files": "attach_files",
         "Use External Emojis": "external_emojis", "Manage Messages": "manage_messages"}


def _setup_step() -> str:
    m = re.search(r"3\. Invite it with scopes(.*?)\n4\.", README, re.S)
    assert m, "the invite step is missing from the README"
    return m.group(1)


def test_the_permission_integer_is_exactly_the_listed_permissions() -> None:
    step = _setup_step()
    listed = re.findall(r"\*\*([^*]+)\*\*", step)
    assert "Send Messages in Threads" in listed
    perms = discord.Permissions(**{NAMES[n]: True for n in listed})
    integers = set(re.findall(r"permission integer `(\d+)`", step)) | set(re.findall(r"permissions=(\d+)", step))
    assert integers == {str(perms.value)}, (integers, perms.value, listed)


def test_the_invite_url_template_asks_for_both_scopes() -> None:
    step = _setup_step()
    url = re.search(r"https://discord\.com/oauth2/authorize\?\S+", step)
    assert url is not None
    assert "client_id=APPLICATION_ID" in url.group(0) and "scope=bot+applications.commands" in url.group(0)


def test_the_readme_says_how_to_call_narrator_and_the_quick_demo() -> None:
    assert ".venv/bin/narrator" in README and "source .venv/bin/activate" in README
    assert 'make demo ARGS="--instant"' in README
    assert "attachment links expire" in README  # where (not) to host avatars
