"""`narrator import|segment|export|check` against a temporary STORY_DIR."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "story_data" / "precious-person"

CAST = """
[[character]]
name = "Mara"
aliases = ["Mara-san"]
pronouns = "she/her"

[[character]]
name = "Tom Reed"
aliases = ["Tom"]
pronouns = "he/him"
"""

STORY = """The Lighthouse

The lamp had gone out an hour before midnight.

"We have to climb," Mara said.

"In this wind?" Tom asked. "You're mad."

* * *

They climbed anyway. "Almost there," Mara whispered.
"""


@pytest.fixture
def story_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "stories"
    root.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORY_DIR", str(root))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "db.sqlite3"))
    (tmp_path / "tale.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "cast.toml").write_text(CAST, encoding="utf-8")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_writes_the_folder_and_it_checks_clean(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml",
                         "--author", "A. Writer", "--title", "The Lighthouse")
    assert code == 0, err
    folder = story_dir / "lighthouse"
    assert sorted(p.name for p in folder.iterdir()) == ["script.txt", "source.txt", "story.toml"]
    assert (folder / "source.txt").read_text(encoding="utf-8") == STORY  # kept verbatim
    meta = tomllib.loads((folder / "story.toml").read_text(encoding="utf-8"))
    assert meta["story"]["title"] == "The Lighthouse" and meta["story"]["author"] == "A. Writer"
    assert [c["key"] for c in meta["character"]] == ["mara", "tom-reed"]
    assert meta["import"]["cast"] == "cast-file" and len(meta["import"]["script_sha256"]) == 64
    assert "review" in out and "narrator check lighthouse" in out
    script = (folder / "script.txt").read_text(encoding="utf-8")
    assert "MARA: \"We have to climb,\" Mara said." in script
    code, out, err = run(capsys, "check")
    # "The Lighthouse" (the first line) is the text's own title, titling the scene; "They climbed
    # anyway." is narration of its own before Mara's line
    assert (code, out.strip()) == (0, "OK: 1 story, 5 beats, 0 lines to review"), err


def test_export_gives_the_issue_json_shape_and_matches_segment(story_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml")[0] == 0
    code, out, _ = run(capsys, "export", "lighthouse")
    assert code == 0
    exported = json.loads(out)
    assert list(exported) == ["story", "title", "characters", "scenes"]
    assert exported["story"] == "lighthouse"
    assert exported["characters"][0] == {"key": "mara", "name": "Mara", "aliases": ["Mara-san"]}
    beats = [b for s in exported["scenes"] for b in s["beats"]]
    assert [b["index"] for b in beats] == list(range(len(beats)))  # story-wide numbering
    assert [s["index"] for s in exported["scenes"]] == [0, 1]
    for b in beats:
        assert list(b) == ["index", "kind", "speaker", "speakers", "text", "source", "quotes", "confidence", "review"]
    said = [(b["kind"], b["speaker"]) for b in beats if b["kind"] != "narration"]
    assert said[0] == ("dialogue", "mara")
    climb = next(b for b in beats if "climb," in b["text"])
    text = (story_dir / "lighthouse" / "source.txt").read_text(encoding="utf-8")
    assert [text[a:b] for a, b in climb["quotes"]] == ["We have to climb,"]

    code, out, _ = run(capsys, "segment", "tale.txt", "--cast", "cast.toml")
    assert code == 0
    segmented = json.loads(out)
    # the same beats, speakers and review marks; the confidence of an unmarked line is not kept
    # in the script (export says null), so it is left out of the comparison
    assert _no_confidence(segmented["scenes"]) == _no_confidence(exported["scenes"])  # a fresh script plays exactly what was segmented


def test_reimport_never_overwrites_manual_edits(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml")
    assert run(capsys, *args)[0] == 0
    folder = story_dir / "lighthouse"
    script = folder / "script.txt"
    # an unchanged script may be regenerated freely
    assert run(capsys, *args)[0] == 0
    assert not (folder / "script.new.txt").exists()
    edited = script.read_text(encoding="utf-8").replace('MARA: "Almost there,"', 'TOM: "Almost there,"')
    assert edited != script.read_text(encoding="utf-8")
    script.write_text(edited, encoding="utf-8")

    code, _, err = run(capsys, *args)
    assert code == 0
    assert script.read_text(encoding="utf-8") == edited
    new = folder / "script.new.txt"
    assert new.is_file() and 'MARA: "Almost there,"' in new.read_text(encoding="utf-8")
    assert "has manual edits" in err and "script.new.txt" in err and "--force" in err
    # still guarded on the next run (the hash recorded is the generated script's, not the edit's)
    assert run(capsys, *args)[0] == 0 and script.read_text(encoding="utf-8") == edited

    code, _, err = run(capsys, *args, "--force")
    assert code == 0
    assert (folder / "script.txt.bak").read_text(encoding="utf-8") == edited
    assert 'MARA: "Almost there,"' in script.read_text(encoding="utf-8")


def test_reimport_keeps_hand_edits_to_story_toml(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml")
    assert run(capsys, *args, "--title", "The Lighthouse")[0] == 0
    toml = story_dir / "lighthouse" / "story.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('title = "The Lighthouse"', 'title = "The Lamp"')
    text = text.replace('name = "Mara"', 'name = "Mara"\navatar_url = "https://example.org/mara.png"')
    text = text.replace("content_warnings = []", 'content_warnings = ["storm"]')
    toml.write_text(text, encoding="utf-8")
    assert run(capsys, *args)[0] == 0
    meta = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert meta["story"]["title"] == "The Lamp" and meta["story"]["content_warnings"] == ["storm"]
    assert meta["character"][0]["avatar_url"] == "https://example.org/mara.png"
    assert (story_dir / "lighthouse" / "story.toml.bak").read_text(encoding="utf-8") == text


def test_import_without_cast_discovers_one_for_review(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "import", "tale.txt", "--slug", "lighthouse")
    assert code == 0, err
    text = (story_dir / "lighthouse" / "story.toml").read_text(encoding="utf-8")
    assert "REVIEW THE CAST" in text
    meta = tomllib.loads(text)
    assert meta["import"]["cast"] == "discovered"
    assert "cast discovered from the text" in out
    assert run(capsys, "check", "lighthouse")[0] == 0


def test_import_html_keeps_the_html(story_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = ("<html><body><h1>The Lighthouse</h1><p>The lamp had gone out.</p><hr>"
            "<p>\u201cWe climb,\u201d Mara said.</p></body></html>")
    (tmp_path / "tale.html").write_text(page, encoding="utf-8")
    code, _, err = run(capsys, "import", "tale.html", "--slug", "lamp", "--cast", "cast.toml")
    assert code == 0, err
    assert (story_dir / "lamp" / "source.html").read_text(encoding="utf-8") == page
    assert run(capsys, "check", "lamp")[0] == 0


def test_long_import_shows_progress(story_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    para = 'The lamp flickered over the water and the gulls cried. "Climb," Mara said.\n\n'
    (tmp_path / "long.txt").write_text(para * 1500, encoding="utf-8")
    code, _, err = run(capsys, "import", "long.txt", "--slug", "long", "--cast", "cast.toml")
    assert code == 0, err
    assert "segmenting: 100%" in err


@pytest.mark.parametrize(("args", "message"), [
    (("import", "tale.txt", "--slug", "Bad Slug"), "--slug 'Bad Slug': use lowercase letters, digits and hyphens"),
    (("import", "missing.txt", "--slug", "x"), "missing.txt: file not found"),
    (("import", "tale.txt", "--slug", "x", "--cast", "nocast.toml"), "nocast.toml:1: file not found"),
    (("export", "nothing"), "no such story"),
    (("segment", "missing.txt"), "missing.txt: file not found"),
])
def test_bad_input_is_one_clear_line(story_dir: Path, capsys: pytest.CaptureFixture[str],
                                     args: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 1
    assert out == ""
    assert err.startswith("narrator: ") and message in err and "Traceback" not in err
    assert err.count("\n") == 1  # one line


def test_binary_input_is_an_import_error(story_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.txt").write_bytes(b"\x00\x01\x02\xff" * 50)
    code, _, err = run(capsys, "import", "junk.txt", "--slug", "junk")
    assert code == 1 and "junk.txt" in err and "Traceback" not in err
    assert not (story_dir / "junk").exists()


def test_check_reports_file_and_line_and_exits_1(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml")[0] == 0
    assert run(capsys, "import", "tale.txt", "--slug", "second", "--cast", "cast.toml")[0] == 0
    script = story_dir / "lighthouse" / "script.txt"
    lines = script.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("TOM-REED:"))
    lines[n] = lines[n].replace("TOM-REED:", "TIM:")
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "check")
    assert code == 1
    assert out.splitlines()[0].startswith(f"{script}:{n + 1}: unknown speaker 'TIM'")
    assert "1 error" in err
    assert run(capsys, "check", "second")[0] == 0  # only the named story
    code, out, _ = run(capsys, "check", "second", "ghost")
    assert code == 1 and "ghost: no such story folder" in out
    # export refuses a broken story with the first error and a pointer to check
    code, _, err = run(capsys, "export", "lighthouse")
    assert code == 1 and "unknown speaker 'TIM'" in err and "narrator check lighthouse" in err
    assert err.count("\n") == 1


def test_check_with_no_stories(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check")
    assert code == 1 and "no story folders" in err


def test_shipped_seed_checks_clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORY_DIR", str(ROOT / "story_data"))
    code, out, err = run(capsys, "check", "precious-person")
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("OK: 1 story, ")  # after any lines to review


def test_cast_cards_are_copied_into_the_story(story_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cards").mkdir()
    card = {"spec": "chara_card_v2", "data": {"name": "Mara", "description": "{{char}} keeps the lamp.",
                                              "personality": "Stubborn."}}
    (tmp_path / "cards" / "mara.json").write_text(json.dumps(card), encoding="utf-8")
    (tmp_path / "cast.toml").write_text(CAST.replace('name = "Mara"', 'name = "Mara"\ncard = "cards/mara.json"'),
                                        encoding="utf-8")
    code, _, err = run(capsys, "import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml")
    assert code == 0, err
    folder = story_dir / "lighthouse"
    assert (folder / "cards" / "mara.json").is_file()
    meta = tomllib.loads((folder / "story.toml").read_text(encoding="utf-8"))
    assert meta["character"][0]["card"] == "cards/mara.json"
    assert "persona" not in meta["character"][0]  # the card stays the persona's source
    assert run(capsys, "check", "lighthouse")[0] == 0
    from bot.story.storage import load_story
    mara = load_story(folder).character("mara")
    assert mara is not None and mara.persona == "Mara keeps the lamp. Stubborn."


def test_reimporting_the_seed_keeps_its_reviewed_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    root = tmp_path / "stories"
    shutil.copytree(SEED, root / "precious-person")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORY_DIR", str(root))
    reviewed = (SEED / "script.txt").read_text(encoding="utf-8")
    code, _, err = run(capsys, "import", str(SEED / "source.txt"), "--slug", "precious-person",
                       "--cast", str(SEED / "cast.toml"))
    assert code == 0, err
    folder = root / "precious-person"
    assert (folder / "script.txt").read_text(encoding="utf-8") == reviewed
    assert (folder / "script.new.txt").is_file() and "has manual edits" in err
    meta = tomllib.loads((folder / "story.toml").read_text(encoding="utf-8"))
    assert meta["story"]["credit"] == "An anonymous fan-fiction author"  # hand-written metadata kept
    assert meta["story"]["content_warnings"] == ["injury", "hospital", "mild violence"]
    assert run(capsys, "check", "precious-person")[0] == 0


def test_check_passes_with_warnings_and_counts_them(story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "import", "tale.txt", "--slug", "lighthouse", "--cast", "cast.toml")[0] == 0
    script = story_dir / "lighthouse" / "script.txt"
    script.write_text(script.read_text(encoding="utf-8").replace("Tom asked.", "Tom asked, shivering."),
                      encoding="utf-8")
    code, out, _ = run(capsys, "check")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith(f"{script}:") and ": warning: this beat's text is not in source.txt" in lines[0]
    assert lines[-1] == "OK: 1 story, 5 beats, 1 warning, 0 lines to review"


def _no_confidence(scenes: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for sc in scenes:
        beats = [{k: v for k, v in b.items() if k != "confidence"} for b in sc["beats"]]  # type: ignore[attr-defined]
        out.append({**sc, "beats": beats})
    return out


# Three women talking, no tags after the first line: the later lines are guesses.
GUESSY = """The Parlour

"Tea?" asked Ada.

"Please."

"With milk?"

"No."

Nell came in. "Is there any left?"

"Some."
"""

GUESSY_CAST = """
[[character]]
name = "Ada"
pronouns = "she/her"

[[character]]
name = "Bea"
pronouns = "she/her"

[[character]]
name = "Nell"
pronouns = "she/her"
"""


def test_unsure_lines_are_marked_listed_and_cleared_by_deleting_the_marker(
        story_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (story_dir.parent / "guessy.txt").write_text(GUESSY, encoding="utf-8")
    (story_dir.parent / "guessy.toml").write_text(GUESSY_CAST, encoding="utf-8")
    code, out, _ = run(capsys, "segment", "guessy.txt", "--cast", "guessy.toml")
    beats = [b for s in json.loads(out)["scenes"] for b in s["beats"]]
    voiced = [b for b in beats if b["kind"] == "dialogue"]
    assert all(0 <= b["confidence"] <= 1 for b in voiced)
    assert all(b["confidence"] is None and not b["review"] for b in beats if b["kind"] == "narration")
    tagged = next(b for b in voiced if "asked Ada" in b["text"])
    assert tagged["confidence"] >= 0.9 and not tagged["review"]
    marked = [b for b in voiced if b["review"]]
    assert marked and all(b["confidence"] < tagged["confidence"] for b in marked)

    code, out, _ = run(capsys, "import", "guessy.txt", "--slug", "guessy", "--cast", "guessy.toml")
    assert code == 0
    script = story_dir / "guessy" / "script.txt"
    lines = out.splitlines()
    assert lines[-1].startswith(f"{len(marked)} line{'s' * (len(marked) != 1)} to review")
    listed = [ln for ln in lines if ln.startswith(f"{script}:")]
    assert len(listed) == len(marked)
    text = script.read_text(encoding="utf-8").splitlines()
    for ln in listed:  # file:line points at the beat under its marker; the guess and runner-up shown
        number = int(ln.split(":")[1])
        assert text[number - 2].startswith("#? CHECK: ")
        label = text[number - 1].split(":")[0]
        assert f"guessed {label}" in ln and "runner-up " in ln

    code, out, _ = run(capsys, "check", "guessy")
    assert code == 0 and out.splitlines()[-1].endswith(f", {len(marked)} line{'s' * (len(marked) != 1)} to review")
    assert sum(1 for ln in out.splitlines() if ln.startswith(f"{script}:")) == len(marked)
    code, out, _ = run(capsys, "export", "guessy")
    assert sum(b["review"] for s in json.loads(out)["scenes"] for b in s["beats"]) == len(marked)

    # the moderator checks the lines and deletes the markers: nothing left to review
    script.write_text("\n".join(ln for ln in text if not ln.startswith("#?")) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "guessy")
    assert code == 0 and out.strip().endswith(", 0 lines to review")
    code, out, _ = run(capsys, "export", "guessy")
    assert not any(b["review"] for s in json.loads(out)["scenes"] for b in s["beats"])


def test_export_of_the_seed_has_every_passage_under_its_gold_speaker_in_order(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    import sys
    spec = importlib.util.spec_from_file_location("bench_annotations", ROOT / "bench" / "annotations.py")
    assert spec is not None and spec.loader is not None
    ann = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = ann
    spec.loader.exec_module(ann)
    doc = ann.load(ROOT / "tests" / "data" / "precious-person.annotated.txt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORY_DIR", str(ROOT / "story_data"))
    code, out, err = run(capsys, "export", "precious-person")
    assert code == 0, err
    beats = [b for s in json.loads(out)["scenes"] for b in s["beats"]]
    shown = [(q[0], q[1], b["kind"], tuple(b["speakers"]) or (b["speaker"],)) for b in beats
             for q in b["quotes"]]
    want = [(g.start, g.end, g.kind, g.keys) for g in doc.golds if not g.note]
    assert shown == want  # every passage and thought, in order, nothing else voiced
    assert sum(g.quoted for g in doc.golds) == 117
    assert [b["kind"] for b in beats].count("note") == 1
