"""The library: every story folder loads; a broken one is reported, never fatal."""

from __future__ import annotations

from pathlib import Path

from bot.story.library import load_library
from tests.story.storyfixtures import write_story


def test_good_folders_load_and_bad_ones_are_reported(tmp_path: Path) -> None:
    write_story(tmp_path, "zeta")
    write_story(tmp_path, "alpha", include_notes=True)
    broken = write_story(tmp_path, "broken")
    script = broken / "script.txt"
    script.write_text(script.read_text(encoding="utf-8").replace("GAARA:", "GAAAARA:"), encoding="utf-8")
    (tmp_path / "Bad Name").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("not a story", encoding="utf-8")

    lib = load_library(tmp_path)
    assert lib.slugs() == ["alpha", "zeta"]
    assert lib.get("alpha") is not None and lib.get("broken") is None
    assert lib.include_notes("alpha") is True and lib.include_notes("zeta") is False
    assert any(e.startswith(f"{script}:") and "unknown speaker 'GAAAARA'" in e for e in lib.errors)
    assert any(e.startswith(str(tmp_path / "Bad Name")) for e in lib.errors)
    assert not any(".hidden" in e for e in lib.errors)


def test_missing_root_is_an_error_not_a_crash(tmp_path: Path) -> None:
    lib = load_library(tmp_path / "nowhere")
    assert lib.stories == {} and len(lib.errors) == 1 and "not found" in lib.errors[0]
