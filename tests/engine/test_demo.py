"""`narrator demo` end to end as a child process, and the terminal stage's rendering."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine.cues import cue_for_beat, title_cue
from bot.engine.terminal import TerminalStage
from bot.story.storage import save_story
from tests.conftest import PYTHON, ROOT
from tests.engine.helpers import make_story

SPEC = [
    [("narration", "The sand settled over the village.", None),
     ("dialogue", "“Are you awake?” Lee asked, leaning closer.", "lee"),
     ("thought", "*Not yet,* Gaara thought.", "gaara")],
    [("narration", "Morning came.", None),
     ("dialogue", "“Good,” said Gaara.", "gaara")],
]


@pytest.fixture
def demo_env(tmp_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    save_story(tmp_path / "stories" / "tale", make_story(SPEC, slug="tale"))
    return {**cli_env, "STORY_DIR": str(tmp_path / "stories")}


def _demo(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "bot", "demo", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_demo_instant_plays_the_whole_story(demo_env: dict[str, str]) -> None:
    out = _demo(demo_env, "tale", "--instant")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    order = ["A TALE", "The sand settled over the village.", "Lee: “Are you awake?”", "Lee asked, leaning closer.",
             "Gaara (thinks): Not yet.", "Morning came.", "Gaara: “Good.”", "The End", "(The end."]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    assert "\x1b[" not in text  # NO_COLOR is set
    again = _demo(demo_env, "tale", "--instant")  # finished: plays again from the start
    assert again.returncode == 0 and again.stdout.count("A TALE") == 1 and "The End" in again.stdout


def test_demo_manual_pauses_on_end_of_input_and_resumes(demo_env: dict[str, str]) -> None:
    first = _demo(demo_env, "tale", "--manual", "--instant", stdin="\n")
    assert first.returncode == 0, first.stderr
    assert "The sand settled" in first.stdout and "Are you awake" in first.stdout
    assert "Not yet" not in first.stdout
    assert "Paused at scene 1, beat 3" in first.stdout
    second = _demo(demo_env, "tale", "--instant")
    assert second.returncode == 0, second.stderr
    assert "Resuming at scene 1, beat 3" in second.stdout
    assert "Are you awake" not in second.stdout  # nothing is posted twice
    assert "Not yet" in second.stdout and "The End" in second.stdout


def test_demo_unknown_story_says_what_to_do(demo_env: dict[str, str]) -> None:
    out = _demo(demo_env, "nope", "--instant")
    assert out.returncode == 1
    assert "no playable story 'nope'" in out.stderr and "tale" in out.stderr


def test_terminal_colours_unless_disabled() -> None:
    story = make_story(SPEC, slug="tale")
    cue = cue_for_beat(story, story.beat(1))
    coloured = TerminalStage(io.StringIO(), colour=True).render(cue)
    plain = TerminalStage(io.StringIO(), colour=False).render(cue)
    assert "\x1b[" in coloured and "\x1b[2m" in coloured  # a colour, and the dim aside
    assert "\x1b[" not in plain and plain.startswith("Lee: “Are you awake?”")
    gaara = TerminalStage(io.StringIO(), colour=True).render(cue_for_beat(story, story.beat(2)))
    assert "\x1b[38;2;170;51;34m" in gaara and "\x1b[3m" in gaara  # his colour, italic thought
    card = TerminalStage(io.StringIO(), colour=False).render(title_cue(story))
    assert card.splitlines()[0].startswith("┌") and "Cast: Gaara, Lee" in card
    narration = TerminalStage(io.StringIO(), colour=True).render(cue_for_beat(story, story.beat(0)))
    assert narration == "The sand settled over the village."  # the narrator is plain


def test_demo_ctrl_c_pauses_and_saves(demo_env: dict[str, str]) -> None:
    import signal

    proc = subprocess.Popen([PYTHON, "-m", "bot", "demo", "tale"], cwd=ROOT, env=demo_env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "A TALE" in line:  # the title card is up; the first beat is seconds away
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Paused at scene 1, beat 1" in out and "The sand settled" not in "".join(seen) + out
    again = _demo(demo_env, "tale", "--instant")
    assert "Resuming at scene 1, beat 1" in again.stdout
    assert "A TALE" not in again.stdout and "The sand settled" in again.stdout and "The End" in again.stdout


def test_terminal_reflows_a_hard_wrapped_source_like_the_script() -> None:
    story = make_story(SPEC, slug="tale")
    hard = ("It was the best of times, it was the worst of times, it was the age of\n"
            "wisdom, it was the age of foolishness, it was the epoch of belief.\n"
            "\n"
            "There were a king with a large jaw and a queen with a plain face, on the\n"
            "throne of England.")
    cue = replace(cue_for_beat(story, story.beat(0)), text=hard)
    out = TerminalStage(io.StringIO(), colour=False, width=100).render(cue)
    paragraphs = out.split("\n\n")
    assert len(paragraphs) == 2, out
    assert "age of wisdom" in paragraphs[0] and "on the throne" in paragraphs[1]
    assert all(len(line) <= 100 for line in out.splitlines())
    # the line breaks now come from the terminal's width, not from the source's 70 columns
    first_line = paragraphs[0].splitlines()[0]
    assert len(first_line) > 72 and "age of wisdom" in first_line, out


def test_ctrl_c_hint_resumes_that_story_not_the_default_one(demo_env: dict[str, str], tmp_path: Path) -> None:
    save_story(Path(demo_env["STORY_DIR"]) / "other", make_story(SPEC, slug="other"))
    first = _demo(demo_env, "other", "--manual", "--instant", stdin="\n")
    assert first.returncode == 0, first.stderr
    hint = re.search(r"Run `narrator demo([^`]*)`", first.stdout)
    assert hint is not None, first.stdout
    args = hint.group(1).split()
    assert "other" in args
    again = _demo(demo_env, *args, "--instant", stdin="\n" * 10)
    assert again.returncode == 0, again.stderr
    assert "Resuming at scene 1, beat 3" in again.stdout and "(Stopping" not in again.stdout
    assert "Are you awake" not in again.stdout and "The End" in again.stdout


def test_plain_demo_resumes_the_paused_story_whatever_it_is(demo_env: dict[str, str]) -> None:
    save_story(Path(demo_env["STORY_DIR"]) / "other", make_story(SPEC, slug="other"))
    _demo(demo_env, "other", "--manual", "--instant", stdin="\n")
    again = _demo(demo_env, "--instant")
    assert again.returncode == 0, again.stderr
    assert "Resuming at scene 1, beat 3" in again.stdout and "(Stopping" not in again.stdout


def test_demo_plays_every_passage_of_the_seed_under_its_speaker_in_order(cli_env: dict[str, str]) -> None:
    """`narrator demo precious-person --instant`: all 117 quoted passages of the real story and
    the unquoted thoughts, each under its gold speaker's name (thoughts as thoughts), in order."""
    import importlib.util
    import re
    import sys
    spec = importlib.util.spec_from_file_location("bench_annotations", ROOT / "bench" / "annotations.py")
    assert spec is not None and spec.loader is not None
    ann = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = ann
    spec.loader.exec_module(ann)
    doc = ann.load(ROOT / "tests" / "data" / "precious-person.annotated.txt")
    names = {c.key: c.name for c in doc.cast}
    out = _demo({**cli_env, "STORY_DIR": str(ROOT / "story_data")}, "precious-person", "--instant")
    assert out.returncode == 0, out.stderr
    voiced: list[tuple[str, str, str]] = []  # (name, "says"/"thinks", the words shown)
    for block in out.stdout.split("\n\n"):
        lines = block.strip("\n").split("\n")
        m = re.match(r"^([^:“]{1,60}?)(?: \((thinks)\))?: (.*)$", lines[0])
        if not m or lines[0].startswith("│"):
            continue
        words = [m.group(3)] + [ln for ln in lines[1:] if not ln.startswith("    ")]
        voiced.append((m.group(1), m.group(2) or "says", " ".join(" ".join(words).split())))
    assert not any("Now this is the last we see" in w for _, _, w in voiced)  # the note is not played
    assert "Now this is the last we see" not in out.stdout
    at = 0
    for g in doc.golds:
        if g.note:
            continue
        head = " ".join(doc.text[g.start:g.end].split())[:24].rstrip(",")
        want = (" & ".join(names[k] for k in g.keys), "thinks" if g.thought else "says")
        while at < len(voiced) and head not in voiced[at][2]:
            at += 1
        assert at < len(voiced), f"{head!r} ({want}) not shown, or out of order"
        assert voiced[at][:2] == want, (head, voiced[at])
    gaara_lines = [w for n, k, w in voiced if n == "Gaara" and k == "says"]
    assert any(w.startswith("“It was sheer luck, I should have been killed.”") for w in gaara_lines)
