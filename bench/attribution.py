"""Attribution and quote-detection accuracy on the annotated corpus, double and British quotes.

Run: .venv/bin/python bench/attribution.py [-v]   (-v lists every wrong attribution)
Targets: >= 80% attribution end to end, >= 97% on explicitly named tags, quote F1 >= 95%,
British single-quote edition within 3 points of the double-quote one.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotations import Annotated, Score, corpus_files, load, parse_annotated, score, to_british


def _row(label: str, s: Score) -> str:
    return (f"{label:<38} {s.gold:>5} {s.precision:>6.1%} {s.recall:>6.1%} {s.f1:>6.1%} "
            f"{s.accuracy:>7.1%} ({s.correct}/{s.attributed}) {s.named_accuracy:>7.1%} ({s.named_correct}/{s.named})"
            f"  kind {s.kind_ok}/{s.kind_total}")


def main() -> int:
    verbose = "-v" in sys.argv
    files = corpus_files()
    if not files:
        print("no *.annotated.txt files found in bench/corpus, tests/data or tests/story/data")
        return 0
    print(f"{'text':<38} {'spans':>5} {'prec':>6} {'recall':>6} {'F1':>6} {'attrib':>7}          {'named':>7}          thought/dialogue")
    totals: dict[str, list[int]] = {"double": [0, 0, 0, 0], "british": [0, 0, 0, 0], "no cast": [0, 0, 0, 0]}
    f1s: dict[str, list[float]] = {"double": [], "british": []}
    for path in files:
        doc: Annotated = load(path)
        s, _ = score(doc)
        print(_row(doc.name, s))
        brit_raw = to_british(doc.raw)
        brit_text, _g = parse_annotated(brit_raw)
        b, _ = score(doc, brit_text)
        print(_row("  british single quotes", b))
        nc, _ = score(doc, discover=True)
        print(_row("  no cast file (discover_cast)", nc))
        totals["no cast"][0] += nc.correct
        totals["no cast"][1] += nc.attributed
        for key, sc in (("double", s), ("british", b)):
            t = totals[key]
            t[0] += sc.correct
            t[1] += sc.attributed
            t[2] += sc.named_correct
            t[3] += sc.named
            f1s[key].append(sc.f1)
        if verbose:
            for m in s.mistakes:
                print("    double:", m)
            for m in b.mistakes:
                print("    british:", m)
    print()
    for key in ("double", "british"):
        c, a, nc, n = totals[key]
        print(f"ALL {key:<8} attribution {c / max(1, a):.1%} ({c}/{a})  named tags {nc / max(1, n):.1%} "
              f"({nc}/{n})  mean F1 {sum(f1s[key]) / max(1, len(f1s[key])):.1%}")
    c, a = totals["no cast"][:2]
    print(f"ALL no cast  attribution {c / max(1, a):.1%} ({c}/{a}) with a discovered cast (keys mapped by name)")
    d = totals["double"][0] / max(1, totals["double"][1])
    br = totals["british"][0] / max(1, totals["british"][1])
    print(f"british - double: {100 * (br - d):+.1f} points (target: within 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
