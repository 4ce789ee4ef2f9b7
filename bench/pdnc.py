"""Speaker attribution on real novels: the PDNC development set, scored by its own scorer.

Run: .venv/bin/python bench/pdnc.py [PATH] [--quick] [--novels A,B] [--no-british] [--no-nocast] [--nocast-only]
                                    [--jobs N] [--errors N] [--det-errors N] [--check] [--cv]

PATH is the folder holding pdnc_dev.jsonl, pdnc_dev_single_curly.jsonl and score.py (default
../shared/eval/pdnc beside the repository, i.e. /work/shared/eval/pdnc). The corpus is read from
there only: nothing of it is copied into the repository.

Every novel goes through the same automatic pipeline as `narrator segment FILE.txt --cast CAST`
(read_document + segment); the cast handed over is the record's `characters` (name, aliases,
gender -> pronouns) and nothing else. "no cast" runs the cast discovery instead. Predictions go to
a temporary file that score.py scores (detection P/R/F1, attribution end to end and by type).

Printed: per novel (double quotes, with the cast), per quote type, the British single-quote
edition, the no-cast run, speed (MB/s of segment, process start-up excluded), the confidence
curve (share of lines marked for review vs accuracy of the rest), and cast discovery figures
(recall of characters with >= 5 quotes, share of discovered names that are no character).
`--quick` runs a 4-novel subset with the cast only (for iterating); `--errors N` lists N wrong
attributions per novel with their gold type; `--det-errors N` lists N spans taken for quotations
that are none (letters, titles, scare quotes) and N quotations missed, per novel.

The speaker ranker (bot/story/ranker.py) is trained on these same novels, so the figures above are
in-sample. `--cv` adds the honest ones: leave-one-novel-out cross-validation (the ranker trained on
13 novels decides the 14th, for each; bench/train_ranker.py), end to end, per novel and per type,
and the review curve (a few minutes: every novel is segmented again and 15 models are fitted;
needs numpy, a dev dependency).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.story.cast import slugify  # noqa: E402
from bot.story.model import Character, Story  # noqa: E402
from bot.story.readers import read_document  # noqa: E402
from bot.story.segmenter import discover_cast, segment  # noqa: E402

DEFAULT_PATH = ROOT.parent.parent / "shared" / "eval" / "pdnc"
if not DEFAULT_PATH.is_dir():
    DEFAULT_PATH = Path("/work/shared/eval/pdnc")
QUICK = ("Emma", "HardTimes", "AlicesAdventuresInWonderland", "TheGambler")
PRONOUNS = {"M": "he/him", "F": "she/her"}


def cast_of(record: dict[str, Any]) -> list[Character]:
    """The record's characters as a cast file would give them (unique keys)."""
    out: list[Character] = []
    seen: set[str] = set()
    for i, c in enumerate(record["characters"]):
        key = slugify(c["name"]) or f"c{i}"
        while key in seen:
            key += "-x"
        seen.add(key)
        aliases = tuple(a for a in c.get("aliases", []) if a.strip() and a.strip() != c["name"])
        out.append(Character(key=key, name=c["name"], aliases=aliases,
                             pronouns=PRONOUNS.get(c.get("gender", ""), "")))
    return out


def predictions(story: Story) -> list[dict[str, Any]]:
    by_key = {c.key: c.name for c in story.characters}
    out = []
    for b in story.beats:
        if b.kind not in ("dialogue", "thought"):
            continue
        name = by_key.get(b.speaker) if b.speaker else None
        conf = getattr(b, "confidence", None)
        for a, e in b.quotes:
            if out and out[-1]["speaker"] == name and not story.text[out[-1]["end"] : a].strip():
                # one speech cut into several messages (Discord's 2,000 characters) is one quotation
                out[-1]["end"] = e
                continue
            out.append({"start": a, "end": e, "speaker": name, "confidence": conf,
                        "review": bool(getattr(b, "review", False))})
    return out


def run_one(job: tuple[dict[str, Any], bool]) -> dict[str, Any]:
    record, with_cast = job
    text = record["text"]
    t0 = time.perf_counter()
    doc = read_document(text, fmt="txt", name=record["novel"] + ".txt")
    if doc.text != text:
        raise SystemExit(f"{record['id']}: the reader changed the text; offsets would not match")
    cast = cast_of(record) if with_cast else discover_cast(doc)
    story = segment(doc, cast, slug=slugify(record["novel"]) or "novel", title=record.get("title", ""))
    dt = time.perf_counter() - t0
    found = [{"name": c.name, "aliases": list(c.aliases), "pronouns": c.pronouns} for c in story.characters]
    return {"id": record["id"], "quotes": predictions(story), "seconds": dt, "chars": len(text),
            "cast": found if not with_cast else None}


def check_one(job: tuple[dict[str, Any], bool]) -> str:
    """Import the novel into a temporary story folder (as `narrator import` does) and load it
    back as `narrator check` does: the generated script must pass."""
    from bot.story.cast import StoryFileError
    from bot.story.script import review_marks
    from bot.story.storage import import_story, load_story_files

    record, with_cast = job
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        slug = (slugify(record["novel"]) or "novel")[:40].strip("-")
        res = import_story(root, slug, record["text"].encode("utf-8"), file_name=record["novel"] + ".txt",
                           cast=cast_of(record) if with_cast else None)
        try:
            loaded = load_story_files(res.folder)
        except StoryFileError as exc:
            return f"FAIL {record['novel']} ({'cast' if with_cast else 'no cast'}): {exc.errors[:3]}"
        n = len(review_marks((res.folder / loaded.script_file).read_text(encoding="utf-8")))
        voiced = sum(1 for b in loaded.story.beats if b.kind in ("dialogue", "thought"))
        return (f"ok   {record['novel']:<28} {'cast' if with_cast else 'no cast':<8} {len(loaded.story):>6} beats, "
                f"{len(loaded.warnings)} warnings, {n}/{voiced} voiced lines to review")


def load_scorer(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pdnc_score", path / "score.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def score(path: Path, gold_file: Path, preds: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the predictions to a temp file and run score.py on it; its JSON report back."""
    with tempfile.TemporaryDirectory() as tmp:
        pred_file = Path(tmp) / "pred.jsonl"
        rep_file = Path(tmp) / "report.json"
        with pred_file.open("w", encoding="utf-8") as fh:
            for p in preds:
                fh.write(json.dumps({"id": p["id"], "quotes": [
                    {"start": q["start"], "end": q["end"], "speaker": q["speaker"]} for q in p["quotes"]]}) + "\n")
        # score.py warns about gold records without predictions: a subset run leaves some out
        subprocess.run([sys.executable, str(path / "score.py"), str(gold_file), str(pred_file), "--quiet",
                        "--json", str(rep_file)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result: dict[str, Any] = json.loads(rep_file.read_text(encoding="utf-8"))
        return result


def subset_overall(rep: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The overall block for some of the novels only (score.py's overall counts every gold
    novel, a missing one as wrong): the per-novel counts added up, in the same shape."""
    per = [rep["per_excerpt"][i] for i in ids]
    tp = sum(p["detection"]["overlap"]["tp"] for p in per)
    n_pred = sum(p["detection"]["overlap"]["n_pred"] for p in per)
    n_gold = sum(p["detection"]["overlap"]["n_gold"] for p in per)
    prec, rec = tp / max(1, n_pred), tp / max(1, n_gold)

    def acc(get: Any) -> dict[str, Any]:
        c = sum(get(p)["correct"] for p in per)
        n = sum(get(p)["n"] for p in per)
        return {"accuracy": c / n if n else None, "correct": c, "n": n}

    types = [t for t in ("explicit", "anaphoric", "implicit", "unknown")
             if any(t in p["attribution"]["by_type"] for p in per)]
    status: Counter[str] = Counter()
    for p in per:
        status.update(p["attribution"]["predicted_speaker_status_on_matched"])
    return {"detection": {"overlap": {"precision": prec, "recall": rec,
                                      "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}},
            "attribution": {
                "end_to_end": acc(lambda p: p["attribution"]["end_to_end"]),
                "given_detected": acc(lambda p: p["attribution"]["given_detected"]),
                "by_quotation": acc(lambda p: p["attribution"]["by_quotation"]),
                "by_type": {t: {"end_to_end": acc(lambda p, t=t: p["attribution"]["by_type"].get(
                    t, {"end_to_end": {"correct": 0, "n": 0}})["end_to_end"])} for t in types},
                "predicted_speaker_status_on_matched": dict(status)}}


def pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{100 * x:5.1f}"


def line(name: str, rep: dict[str, Any]) -> str:
    d, a = rep["detection"]["overlap"], rep["attribution"]
    types = " ".join(f"{t[:4]} {pct(v['end_to_end']['accuracy'])} ({v['end_to_end']['n']:>4})"
                     for t, v in a["by_type"].items() if t != "unknown")
    return (f"{name:<30} F1 {pct(d['f1'])}  e2e {pct(a['end_to_end']['accuracy'])} "
            f"({a['end_to_end']['correct']:>5}/{a['end_to_end']['n']:>5})  |det {pct(a['given_detected']['accuracy'])}  "
            f"{types}")


def calibration(sc: ModuleType, golds: list[dict[str, Any]], preds: dict[str, dict[str, Any]]) -> None:
    """Accuracy of the lines not marked for review, for thresholds on the confidence."""
    rows: list[tuple[float, bool, bool]] = []  # (confidence, correct, marked)
    for g in golds:
        p = preds.get(g["id"])
        if p is None:
            continue
        text = g["text"]
        cast = sc.Cast(g["characters"])
        gold = [sc.trim(text, q["start"], q["end"]) for q in g["quotes"]]
        pq = p["quotes"]
        pred = [sc.trim(text, q["start"], q["end"]) for q in pq]
        m = sc.match_overlap(gold, pred, 0.5)
        inv = {j: i for i, j in m.items()}
        for j, q in enumerate(pq):
            i = inv.get(j)
            conf = q.get("confidence")
            c = 0.5 if conf is None else float(conf)
            if i is None:
                continue  # a span that is no gold quotation (a letter, a title): not scored here
            canon, _ = cast.resolve(q.get("speaker"))
            rows.append((c, canon is not None and canon == g["quotes"][i]["speaker"], q.get("review", False)))
    if not rows:
        return
    n = len(rows)
    marked = [r for r in rows if r[2]]
    rest = [r for r in rows if not r[2]]
    print(f"review marks as shipped: {len(marked) / n:.1%} of {n} matched lines marked; "
          f"unmarked lines {sum(r[1] for r in rest) / max(1, len(rest)):.1%} right; "
          f"marked lines {sum(r[1] for r in marked) / max(1, len(marked)):.1%} right")
    levels: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for c, ok, _m in rows:  # tenths: the confidence is continuous
        levels[min(int(c * 10), 9) / 10][0] += 1
        levels[min(int(c * 10), 9) / 10][1] += int(ok)
    print("by confidence (from .. +0.1): right / lines: "
          + "  ".join(f"{c:.1f}: {r / t:.0%} of {t}" for c, (t, r) in sorted(levels.items())))
    print("curve (lines marked = lowest confidence first -> accuracy of the unmarked rest):")
    rows.sort(key=lambda r: r[0])
    out = []
    for share in (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50):
        k = int(share * n)
        rest2 = rows[k:]
        acc = sum(r[1] for r in rest2) / max(1, len(rest2))
        thr = rows[k][0] if k < n else 1.0
        out.append(f"{share:>4.0%}->{acc:.1%} (conf<{thr:.2f})")
    for i in range(0, len(out), 3):
        print("   " + "   ".join(out[i:i + 3]))


def _norm(name: str) -> str:
    n = " ".join(name.replace(".", "").split()).casefold()
    return n[4:] if n.startswith("the ") else n


def cast_figures(golds: list[dict[str, Any]], found: dict[str, list[dict[str, Any]]]) -> None:
    """Cast discovery against the gold casts: recall of characters with >= 5 quotes, share of
    discovered names that are no character."""
    tot_major = hit_major = tot_found = junk = 0
    for g in golds:
        fc = found.get(g["id"])
        if fc is None:
            continue
        forms: dict[str, set[str]] = defaultdict(set)
        words: dict[str, set[str]] = defaultdict(set)
        for c in g["characters"]:
            for n in [c["name"], *c.get("aliases", [])]:
                forms[_norm(n)].add(c["name"])
                for w in _norm(n).split():
                    words[w].add(c["name"])
        counts = Counter(q["speaker"] for q in g["quotes"])
        matched: set[str] = set()
        bad: list[str] = []
        for c in fc:
            hits: set[str] = set()
            for n in [c["name"], *c["aliases"]]:
                k = _norm(n)
                if k in forms:
                    hits |= forms[k]
                elif k and " " not in k and len(words.get(k, ())) == 1:
                    hits |= words[k]  # "Queen" for "The Queen of Hearts": one character only
            if hits:
                matched |= hits
            else:
                bad.append(c["name"])
        major = [c["name"] for c in g["characters"] if counts[c["name"]] >= 5]
        h = sum(1 for n in major if n in matched)
        tot_major += len(major)
        hit_major += h
        tot_found += len(fc)
        junk += len(bad)
        missed = [n for n in major if n not in matched]
        print(f"  {g['novel']:<28} found {len(fc):>3}, speakers(>=5 quotes) {h}/{len(major)}; "
              f"not characters: {', '.join(b.replace(chr(10), '⏎') for b in bad[:8])}{' …' if len(bad) > 8 else ''}"
              + (f"; missed: {', '.join(missed[:6])}" if missed else ""))
    print(f"cast discovery: {hit_major}/{tot_major} = {hit_major / max(1, tot_major):.1%} of speakers with >= 5 quotes "
          f"found; {junk}/{tot_found} = {junk / max(1, tot_found):.1%} of discovered names are no character")


def errors_of(g: dict[str, Any], p: dict[str, Any], sc: ModuleType, limit: int) -> None:
    text = g["text"]
    cast = sc.Cast(g["characters"])
    gold = [sc.trim(text, q["start"], q["end"]) for q in g["quotes"]]
    pq = p["quotes"]
    pred = [sc.trim(text, q["start"], q["end"]) for q in pq]
    m = sc.match_overlap(gold, pred, 0.5)
    shown = 0
    for i, q in enumerate(g["quotes"]):
        j = m.get(i)
        got = pq[j]["speaker"] if j is not None else "<not detected>"
        canon, _ = cast.resolve(got) if j is not None else (None, "")
        if canon == q["speaker"]:
            continue
        ctx = text[max(0, q["start"] - 120): q["end"] + 120].replace("\n", " ")
        print(f"   [{q['type'][:4]}] gold={q['speaker']!r} got={got!r} conf={pq[j]['confidence'] if j is not None else '-'}"
              f" addr={q.get('addressees')} ref={q.get('referring_expression')!r}\n      …{ctx}…")
        shown += 1
        if shown >= limit:
            break


def detection_errors_of(g: dict[str, Any], p: dict[str, Any], sc: ModuleType, limit: int) -> None:
    """Up to `limit` spans found that are no gold quotation (FP) and gold quotations not found
    (FN), with their context: what quote detection gets wrong."""
    text = g["text"]
    gold = [sc.trim(text, q["start"], q["end"]) for q in g["quotes"]]
    pred = [sc.trim(text, q["start"], q["end"]) for q in p["quotes"]]
    m = sc.match_overlap(gold, pred, 0.5)
    used = set(m.values())

    def shown(a: int, b: int) -> str:
        return (text[max(0, a - 60) : a] + "[[" + text[a:b][:160] + "]]" + text[b : b + 40]).replace("\n", "⏎")

    fp = [j for j in range(len(pred)) if j not in used]
    fn = [i for i in range(len(gold)) if i not in m]
    print(f"   detection: {len(fp)} found that are no quotation, {len(fn)} quotations not found")
    for j in fp[:limit]:
        print(f"   FP …{shown(*pred[j])}…")
    for i in fn[:limit]:
        print(f"   FN [{g['quotes'][i]['type'][:4]}] …{shown(*gold[i])}…")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}, with the cast, double quotes")
    ap.add_argument("--novels", help="comma-separated novel names (the records' 'novel')")
    ap.add_argument("--no-british", action="store_true")
    ap.add_argument("--no-nocast", action="store_true")
    ap.add_argument("--nocast-only", action="store_true",
                    help="only the no-cast run (cast discovery) and its cast figures, double quotes")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--errors", type=int, default=0, help="list N wrong attributions per novel")
    ap.add_argument("--cv", action="store_true",
                    help="also the ranker's leave-one-novel-out cross-validated figures (needs numpy)")
    ap.add_argument("--det-errors", type=int, default=0,
                    help="list N spans found that are no quotation and N quotations missed, per novel")
    ap.add_argument("--check", action="store_true",
                    help="only import every novel (with and without the cast) and check the generated script")
    args = ap.parse_args()
    path: Path = args.path
    if path.is_file():
        path = path.parent
    dev = path / "pdnc_dev.jsonl"
    if not dev.is_file():
        print(f"{dev}: not found; pass the folder that holds pdnc_dev.jsonl and score.py (skipped)")
        return 0
    sc = load_scorer(path)
    wanted = set(args.novels.split(",")) if args.novels else set(QUICK) if args.quick else None
    golds = [g for g in sc.load_jsonl(dev) if wanted is None or g["novel"] in wanted]
    runs: list[tuple[str, Path, bool]] = [("double, cast", dev, True)]
    if args.nocast_only:
        runs = [("double, no cast", dev, False)]
    if not args.quick and not args.no_british and not args.nocast_only:
        runs.append(("british, cast", path / "pdnc_dev_single_curly.jsonl", True))
    if not args.quick and not args.no_nocast and not args.nocast_only:
        runs.append(("double, no cast", dev, False))
    pool = None
    if args.jobs > 1:
        import multiprocessing
        pool = multiprocessing.Pool(args.jobs)
    if args.check:
        jobs2 = [(g, wc) for g in golds for wc in (True, False)]
        lines = pool.map(check_one, jobs2) if pool else [check_one(j) for j in jobs2]
        for ln in lines:
            print(ln)
        bad = sum(1 for ln in lines if ln.startswith("FAIL"))
        print(f"generated scripts passing check: {len(lines) - bad}/{len(lines)}")
        return 1 if bad else 0
    summary: list[str] = []
    for label, gold_file, with_cast in runs:
        recs = golds if gold_file == dev else [g for g in sc.load_jsonl(gold_file)
                                                if wanted is None or g["novel"] in wanted]
        jobs = [(g, with_cast) for g in recs]
        t0 = time.perf_counter()
        results = pool.map(run_one, jobs) if pool else [run_one(j) for j in jobs]
        wall = time.perf_counter() - t0
        by_id = {r["id"]: r for r in results}
        rep = score(path, gold_file, results)
        print(f"=== {label}")
        if label == "double, cast" or args.novels:
            for g in recs:
                print(line("  " + g["novel"], rep["per_excerpt"][g["id"]]))
                if args.errors:
                    errors_of(g, by_id[g["id"]], sc, args.errors)
                if args.det_errors:
                    detection_errors_of(g, by_id[g["id"]], sc, args.det_errors)
        overall = rep["overall"] if wanted is None else subset_overall(rep, [g["id"] for g in recs])
        print(line(f"ALL {label}", overall))
        a = overall["attribution"]
        print(f"  by quotation {pct(a['by_quotation']['accuracy'])}  detection P {pct(overall['detection']['overlap']['precision'])}"
              f" R {pct(overall['detection']['overlap']['recall'])}  speaker status {a['predicted_speaker_status_on_matched']}")
        chars = sum(r["chars"] for r in results)
        secs = sum(r["seconds"] for r in results)
        print(f"  speed: {chars / 1e6:.2f} MB in {secs:.2f} s of segment = {chars / 1e6 / max(secs, 1e-9):.2f} MB/s "
              f"(wall {wall:.1f} s with {args.jobs} process{'es' * (args.jobs > 1)})")
        summary.append(line(f"ALL {label}", overall))
        if label == "double, cast":
            calibration(sc, recs, by_id)
        if not with_cast:
            cast_figures(recs, {r["id"]: r["cast"] for r in results})
    if args.nocast_only:  # no speed runs
        if pool:
            pool.close()
        return 0
    # speed on its own: one process, nothing else of this bench running beside it
    sample = golds[:3]
    t0 = time.perf_counter()
    for g in sample:
        run_one((g, True))
    secs = time.perf_counter() - t0
    mb = sum(len(g["text"]) for g in sample) / 1e6
    summary.append(f"speed: segment (read + segment + attribute, one process) {mb:.2f} MB in {secs:.2f} s = "
                   f"{mb / secs:.2f} MB/s")
    t0 = time.perf_counter()
    for g in sample:
        run_one((g, False))
    secs = time.perf_counter() - t0
    summary.append(f"speed: segment with cast discovery (no cast, one process) {mb:.2f} MB in {secs:.2f} s = "
                   f"{mb / secs:.2f} MB/s")
    if args.cv:
        from train_ranker import run as cross_validate
        print("=== speaker ranker, leave-one-novel-out (double quotes, with the cast)")
        cross_validate(path, golds, jobs=args.jobs)
    if summary:
        print("=== summary")
        for s in summary:
            print(s)
    if pool:
        pool.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
