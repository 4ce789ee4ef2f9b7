"""The bundled story, imported automatically: how much of the reviewed annotation the importer
gets right on its own (issue 9's figure).

Run: .venv/bin/python bench/seed.py [ANNOTATED.txt] [-v]   (-v lists every miss)
Default: tests/data/precious-person.annotated.txt with the cast beside it (the raw text is the
annotation without its markers, i.e. story_data/precious-person/source.txt). Same pipeline as
`narrator segment FILE --cast CAST.toml`. Target: >= 97% of the quoted passages under the right
speaker; every unquoted thought found as a thought of the right character; the note found.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotations import ROOT, load, score


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [Path(a) for a in argv if a != "-v"]
    path = paths[0] if paths else ROOT / "tests" / "data" / "precious-person.annotated.txt"
    if not path.is_file():
        print(f"{path}: no such annotation")
        return 1
    doc = load(path)
    t0 = time.perf_counter()
    s, story = score(doc)
    took = time.perf_counter() - t0
    print(f"{doc.name}: {len(doc.text):,} characters, {len(story.scenes)} scenes, {len(story.beats)} beats "
          f"(segmented and scored in {took * 1000:.0f} ms)")
    print(f"quoted passages under the right speaker: {s.correct}/{s.gold} = {s.correct / max(1, s.gold):.1%} "
          f"(attributed {s.attributed}; named tags {s.named_correct}/{s.named})")
    print(f"quote detection: precision {s.precision:.1%} recall {s.recall:.1%} F1 {s.f1:.1%}; "
          f"thought/dialogue kind {s.kind_ok}/{s.kind_total}")
    unquoted = getattr(s, "unquoted", None)
    if unquoted is not None:
        print(f"unquoted inner speech as a thought of the right character: {s.unquoted_correct}/{unquoted}; "
              f"authors' notes as notes: {s.notes_found}/{s.notes}")
    paras: dict[int, list[str]] = {}  # paragraph start -> the speakers of its voiced beats, in order
    for beat in story.beats:
        para = story.text.rfind("\n\n", 0, beat.source[0])
        if beat.kind in ("dialogue", "thought") and beat.speaker:
            paras.setdefault(para, []).append("+".join(beat.speakers) or beat.speaker)
    multi = [v for v in paras.values() if len(set(v)) > 1]
    print(f"paragraphs with several speakers' lines: {len(multi)}, posted as {sum(len(v) for v in multi)} "
          "beats of one voice each")
    if verbose:
        for m in s.mistakes:
            print("   ", m)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
