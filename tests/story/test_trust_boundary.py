"""Story folders are untrusted input: every path they name stays inside the folder (symlinks
resolved), every read is size-capped, and one noisy folder cannot flood the log."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from bot.story.files import MAX_TEXT_BYTES, MAX_WARNINGS_PER_FOLDER
from bot.story.library import load_library
from tests.story.storyfixtures import write_story

SECRET = "the launch codes are 0000"


def _set_card(folder: Path, card: str) -> None:
    toml = folder / "story.toml"
    text = toml.read_text(encoding="utf-8")
    # the first character gets the card
    text = re.sub(r"(\[\[character\]\]\n)", lambda m: m.group(1) + f"card = {json.dumps(card)}\n", text, count=1)
    toml.write_text(text, encoding="utf-8")


def _secret_card(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    path = where / "secret.json"
    path.write_text(json.dumps({"spec": "chara_card_v2", "data": {"name": "Spy", "description": SECRET}}),
                    encoding="utf-8")
    return path


def _all_text(lib: object) -> str:
    return repr(lib)


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_a_card_outside_the_story_folder_is_refused(tmp_path: Path, how: str) -> None:
    root = tmp_path / "stories"
    folder = write_story(root, "tale")
    secret = _secret_card(tmp_path / "outside")
    if how == "relative":
        _set_card(folder, "../../outside/secret.json")
    elif how == "absolute":
        _set_card(folder, str(secret))
    else:
        (folder / "cards").mkdir()
        (folder / "cards" / "innocent.json").symlink_to(secret)
        _set_card(folder, "cards/innocent.json")
    lib = load_library(root)
    assert lib.get("tale") is None
    assert any("outside the story folder" in e for e in lib.errors), lib.errors
    assert SECRET not in _all_text(lib)


def test_a_card_inside_the_folder_still_works(tmp_path: Path) -> None:
    root = tmp_path / "stories"
    folder = write_story(root, "tale")
    _secret_card(folder / "cards")
    _set_card(folder, "cards/secret.json")
    lib = load_library(root)
    assert lib.get("tale") is not None and lib.errors == [], lib.errors


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "fifo"])
def test_a_device_or_fifo_card_is_an_error_not_a_crash_or_a_hang(tmp_path: Path, device: str) -> None:
    root = tmp_path / "stories"
    folder = write_story(root, "tale")
    if device == "fifo":
        os.mkfifo(folder / "card.json")
        _set_card(folder, "card.json")
    else:
        (folder / "card.json").symlink_to(device)  # inside by name, a device in fact
        _set_card(folder, device)
    started = time.monotonic()
    lib = load_library(root)
    assert time.monotonic() - started < 5
    assert lib.get("tale") is None
    assert any("card" in e for e in lib.errors), lib.errors


def test_source_and_script_links_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "stories"
    for name in ("script.txt", "source.txt"):
        folder = write_story(root, f"tale-{name[:6]}")
        real = tmp_path / f"elsewhere-{name}"
        real.write_bytes((folder / name).read_bytes())
        (folder / name).unlink()
        (folder / name).symlink_to(real)
    lib = load_library(root)
    assert lib.stories == {}
    assert sum("outside the story folder" in e for e in lib.errors) == 2, lib.errors


def test_a_symlinked_story_folder_outside_story_dir_is_refused_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "stories"
    write_story(root, "inside")
    elsewhere = write_story(tmp_path / "elsewhere", "outside")
    (root / "outside").symlink_to(elsewhere, target_is_directory=True)
    lib = load_library(root)
    assert lib.slugs() == ["inside"]
    assert any("outside" in e and str(elsewhere) in e and "skipped" in e for e in lib.errors), lib.errors


def test_a_huge_script_is_one_clear_error_and_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "stories"
    folder = write_story(root, "tale")
    with (folder / "script.txt").open("ab") as fh:
        fh.truncate(MAX_TEXT_BYTES + 1)  # sparse: big on paper, cheap to make
    started = time.monotonic()
    lib = load_library(root)
    assert time.monotonic() - started < 5
    assert lib.get("tale") is None
    mine = [e for e in lib.errors if str(folder) in e]
    assert len(mine) == 1 and "MB" in mine[0] and "script" in mine[0], mine


def test_warnings_per_folder_are_capped_with_a_count(tmp_path: Path) -> None:
    root = tmp_path / "stories"
    folder = write_story(root, "tale")
    toml = folder / "story.toml"
    junk = "".join(f"junk_{i} = 1\n" for i in range(500))
    toml.write_text(toml.read_text(encoding="utf-8").replace("[story]\n", "[story]\n" + junk, 1), encoding="utf-8")
    lib = load_library(root)
    assert lib.get("tale") is not None
    assert len(lib.warnings) == MAX_WARNINGS_PER_FOLDER + 1
    assert f"{500 - MAX_WARNINGS_PER_FOLDER} more" in lib.warnings[-1]
