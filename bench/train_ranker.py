"""Train the speaker ranker (bot/story/ranker.py) on the PDNC development novels and write its
weights to bot/story/ranker_weights.py.

Run: .venv/bin/python bench/train_ranker.py [PATH] [--l2 X] [--dry-run] [--jobs N] [--mark SHARE]

PATH is the folder holding pdnc_dev.jsonl and score.py (default /work/shared/eval/pdnc). Only the
weights (a few dozen numbers) are written; nothing of the corpus goes into the repository.
Needs numpy (a dev dependency: `pip install -e .[dev]`); the shipped weights run without it.

Steps: every novel is segmented with its cast by the rules alone (whatever attribution.py does
now), and the ranker's candidates and features are collected for every run of quotes; the gold
speaker labels each run. A conditional-logit model (softmax over a run's candidates, L2) is
fitted. Leave-one-novel-out cross-validation (train on 13, test on the 14th, for each) gives the
honest figures and the out-of-fold probabilities, on which the calibration (Platt scaling) and
the review threshold are fitted: the threshold marks about `--mark` of the lines (default 0.24).
Printed: in-sample and cross-validated end-to-end accuracy (by score.py), by type, the review
curve, and the weights.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
from pdnc import DEFAULT_PATH, cast_of, line, load_scorer, predictions, score, subset_overall  # noqa: E402

from bot.story.cast import slugify  # noqa: E402
from bot.story.ranker import Group, Ranker  # noqa: E402
from bot.story.readers import read_document  # noqa: E402
from bot.story.segmenter import segment  # noqa: E402

WEIGHTS_FILE = ROOT / "bot" / "story" / "ranker_weights.py"
# how much more probable than the rules' pick a candidate must be to replace it, per kind of the
# rules' evidence (nam: a tag naming the speaker, pro: a pronoun tag, act: an action or the
# paragraph's other line, imp: no cue): the rules' tags are better on texts unlike these novels
MARGINS = {"nam": 2.0, "pro": 0.6, "act": 0.4, "imp": 0.2}


# ----------------------------------------------------------------------------- data
def collect(job: tuple[dict[str, Any], str]) -> dict[str, Any]:
    """Segment one novel by the rules alone; its ranker groups (candidates, features) with the
    gold label of each, and the rules' own predictions."""
    record, path = job
    sc = load_scorer(Path(path))
    text = record["text"]
    doc = read_document(text, fmt="txt", name=record["novel"] + ".txt")
    cast = cast_of(record)
    groups: list[Group] = []
    story = segment(doc, cast, slug=slugify(record["novel"]) or "novel", ranker=Ranker(None, collect=groups))
    name_of = {c.key: c.name for c in cast}
    gcast = sc.Cast(record["characters"])
    canon = {k: gcast.resolve(n)[0] for k, n in name_of.items()}
    gold = [sc.trim(text, q["start"], q["end"]) for q in record["quotes"]]
    flat = [(gi, s) for gi, g in enumerate(groups) for s in g.spans]
    pred = [sc.trim(text, a, b) for _, (a, b) in flat]
    m = sc.match_overlap(gold, pred, 0.5)
    labels: list[Counter[str]] = [Counter() for _ in groups]
    for i, j in m.items():
        labels[flat[j][0]][record["quotes"][i]["speaker"]] += 1
    rows = []
    for g, lab in zip(groups, labels, strict=True):
        gold_spk, n = lab.most_common(1)[0] if lab else (None, 0)
        y = [i for i, k in enumerate(g.cands) if gold_spk is not None and canon.get(k) == gold_spk]
        feats = [{**f, **{f"{g.kind}:{k}": v for k, v in f.items() if not k.startswith("pick")}} for f in g.feats]
        rows.append({"spans": g.spans, "cands": g.cands, "pick": g.pick, "feats": feats,
                     "y": y[0] if y else -1, "n": n, "gold": gold_spk,
                     "conf": g.voices[0].confidence, "para": g.para, "kind": g.kind})
    return {"id": record["id"], "novel": record["novel"], "rows": rows, "names": name_of,
            "preds": predictions(story)}


class Data:
    """All candidates of a set of groups as one sparse matrix (COO; groups contiguous)."""

    def __init__(self, rows: list[dict[str, Any]], vocab: dict[str, int]) -> None:
        self.rows = rows
        self.n = sum(len(r["cands"]) for r in rows)
        self.nf = len(vocab)
        ri: list[int] = []
        ci: list[int] = []
        vals: list[float] = []
        self.starts = np.zeros(len(rows), dtype=np.int64)
        self.y = np.full(len(rows), -1, dtype=np.int64)
        self.w = np.zeros(len(rows))
        pos = 0
        for gi, r in enumerate(rows):
            self.starts[gi] = pos
            for f in r["feats"]:
                for k, v in f.items():
                    j = vocab.get(k)
                    if j is not None:
                        ri.append(pos)
                        ci.append(j)
                        vals.append(v)
                pos += 1
            if r["y"] >= 0:
                self.y[gi] = self.starts[gi] + r["y"]
                self.w[gi] = r["n"]
        self.ri = np.array(ri, dtype=np.int64)
        self.ci = np.array(ci, dtype=np.int64)
        self.vals = np.array(vals)
        self.gid = np.repeat(np.arange(len(rows)), [len(r["cands"]) for r in rows])

    def dot(self, w: np.ndarray) -> np.ndarray:  # X @ w
        return np.bincount(self.ri, weights=self.vals * w[self.ci], minlength=self.n)

    def tdot(self, g: np.ndarray) -> np.ndarray:  # X.T @ g
        return np.bincount(self.ci, weights=self.vals * g[self.ri], minlength=self.nf)

    def probs(self, w: np.ndarray) -> np.ndarray:
        s = self.dot(w)
        mx = np.maximum.reduceat(s, self.starts)
        e = np.exp(s - mx[self.gid])
        tot = np.add.reduceat(e, self.starts)
        return np.asarray(e / tot[self.gid])


def fit(data: Data, l2: float, iters: int = 300, use: np.ndarray | None = None) -> np.ndarray:
    """Conditional logit by full-batch gradient descent (Adam), weighted by quotes per group;
    only the groups where `use` is true (default: all)."""
    w = np.zeros(data.nf)
    lab = data.y >= 0
    if use is not None:
        lab &= use
    gw = np.zeros(len(data.rows))
    gw[lab] = data.w[lab] / max(1.0, data.w[lab].sum())
    target = np.zeros(data.n)
    np.add.at(target, data.y[lab], gw[lab])
    xy = data.tdot(target)
    rw = gw[data.gid]
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    lr, b1, b2 = 0.1, 0.9, 0.999
    for t in range(1, iters + 1):
        p = data.probs(w)
        grad = data.tdot(p * rw) - xy + 2 * l2 * w
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        w -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
    return w


def decide(data: Data, w: np.ndarray, margins: dict[str, float]) -> list[tuple[str, float]]:
    """Each group's speaker (the rules' pick unless a candidate beats it by the kind's margin, as
    Ranker.choose does) and its probability."""
    p = data.probs(w)
    out = []
    for gi, r in enumerate(data.rows):
        a = int(data.starts[gi])
        ps = p[a : a + len(r["cands"])]
        best = max(range(len(ps)), key=lambda i: (ps[i], r["cands"][i] == r["pick"]))
        if ps[best] - ps[0] < margins.get(r["kind"], 0.0):
            best = 0  # the pick is the first candidate
        out.append((r["cands"][best], float(ps[best])))
    return out


def platt(ps: list[float], ok: list[bool], wts: list[float]) -> tuple[float, float]:
    """sigmoid(a*logit(p)+b) fitted to correctness (weighted logistic regression, Newton)."""
    x = np.array([math.log(min(max(p, 1e-6), 1 - 1e-6) / (1 - min(max(p, 1e-6), 1 - 1e-6))) for p in ps])
    y = np.array(ok, dtype=float)
    wt = np.array(wts, dtype=float)
    a, b = 1.0, 0.0
    for _ in range(50):
        z = 1 / (1 + np.exp(-(a * x + b)))
        g = np.array([np.sum(wt * (z - y) * x), np.sum(wt * (z - y))])
        h = z * (1 - z) * wt
        H = np.array([[np.sum(h * x * x), np.sum(h * x)], [np.sum(h * x), np.sum(h)]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(H, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(a), float(b)


# ----------------------------------------------------------------------------- evaluation
def apply(novel: dict[str, Any], choice: list[tuple[str, float]], calib: tuple[float, float] | None,
          review_below: float | None = None) -> dict[str, Any]:
    """The novel's predictions with the ranker's choices in place of the rules' picks."""
    rows = novel["rows"]
    starts = sorted((s[0], s[1], gi) for gi, r in enumerate(rows) for s in r["spans"])
    keys = [s[0] for s in starts]
    quotes = []
    rk = Ranker({"x": 1.0}, calib or (1.0, 0.0))
    for q in novel["preds"]:
        q = dict(q)
        i = bisect.bisect_right(keys, q["start"]) - 1
        if i >= 0 and starts[i][0] <= q["start"] and q["end"] <= starts[i][1]:
            key, p = choice[starts[i][2]]
            q["speaker"] = novel["names"][key]
            q["confidence"] = rk.confidence(p)
            if review_below is not None:
                q["review"] = q["confidence"] < review_below
        quotes.append(q)
    return {"id": novel["id"], "quotes": quotes}


def curve_rows(sc: Any, golds: dict[str, dict[str, Any]], preds: list[dict[str, Any]]) -> list[tuple[float, bool, bool]]:
    rows = []
    for p in preds:
        g = golds[p["id"]]
        text = g["text"]
        cast = sc.Cast(g["characters"])
        gold = [sc.trim(text, q["start"], q["end"]) for q in g["quotes"]]
        pq = p["quotes"]
        m = sc.match_overlap(gold, [sc.trim(text, q["start"], q["end"]) for q in pq], 0.5)
        for i, j in m.items():
            q = pq[j]
            canon, _ = cast.resolve(q["speaker"])
            conf = q.get("confidence")
            rows.append((0.5 if conf is None else float(conf), canon is not None and canon == g["quotes"][i]["speaker"],
                         bool(q.get("review"))))
    return rows


def curve_text(rows: list[tuple[float, bool, bool]]) -> str:
    rows = sorted(rows, key=lambda r: r[0])
    n = len(rows)
    out = []
    for share in (0.0, 0.10, 0.20, 0.25, 0.30, 0.40, 0.50):
        k = int(share * n)
        rest = rows[k:]
        out.append(f"{share:.0%}->{sum(r[1] for r in rest) / max(1, len(rest)):.1%}")
    marked = [r for r in rows if r[2]]
    rest = [r for r in rows if not r[2]]
    return ("  ".join(out) + f"   | as marked: {len(marked) / max(1, n):.1%} marked, rest "
            f"{sum(r[1] for r in rest) / max(1, len(rest)):.1%} right")


def threshold_for(rows: list[tuple[float, bool, bool]], share: float) -> float:
    confs = sorted(r[0] for r in rows)
    k = int(share * len(confs))
    return confs[min(k, len(confs) - 1)]


def report(label: str, path: Path, sc: Any, golds: dict[str, dict[str, Any]], preds: list[dict[str, Any]]) -> dict[str, Any]:
    rep = score(path, path / "pdnc_dev.jsonl", preds)
    ids = [p["id"] for p in preds]
    overall = subset_overall(rep, ids)
    print(line(label, overall))
    return rep


def run(path: Path, recs: list[dict[str, Any]], *, l2: float = 0.0001, iters: int = 300, mark: float = 0.24,
        margins: dict[str, float] | None = None,
        jobs: int = 1, cache: Path | None = None, write: bool = False, show_weights: bool = False) -> None:
    """Collect, cross-validate, fit on everything; print the figures; write the weights if asked."""
    margins = dict(MARGINS if margins is None else margins)
    sc = load_scorer(path)
    golds = {r["id"]: r for r in recs}
    t0 = time.perf_counter()
    if cache and cache.is_file():
        novels = json.loads(cache.read_text())
    else:
        todo = [(r, str(path)) for r in recs]
        if jobs > 1:
            import multiprocessing
            with multiprocessing.Pool(jobs) as pool:
                novels = pool.map(collect, todo)
        else:
            novels = [collect(j) for j in todo]
        if cache:
            cache.write_text(json.dumps(novels))
    print(f"ranker: {sum(len(n['rows']) for n in novels)} runs of quotes from {len(novels)} novels "
          f"collected in {time.perf_counter() - t0:.0f} s")
    vocab_c: Counter[str] = Counter(k for n in novels for r in n["rows"] for f in r["feats"] for k in f)
    vocab = {k: i for i, k in enumerate(sorted(k for k, c in vocab_c.items() if c >= 20))}
    names = sorted(vocab, key=vocab.__getitem__)
    reach = sum(r["n"] for n in novels for r in n["rows"] if r["y"] >= 0)
    allq = sum(r["n"] for n in novels for r in n["rows"])
    print(f"{len(vocab)} features; gold speaker among the candidates for {reach}/{allq} = {reach / max(1, allq):.1%} "
          "of the matched quotes in ranked runs")
    report("rules alone", path, sc, golds, [{"id": n["id"], "quotes": n["preds"]} for n in novels])

    # leave one novel out: train on the others, decide the held-out novel
    full = Data([r for n in novels for r in n["rows"]], vocab)
    owner = np.repeat(np.arange(len(novels)), [len(n["rows"]) for n in novels])
    cv_choice: dict[str, list[tuple[str, float]]] = {}
    pos = 0
    for i, n in enumerate(novels):
        w = fit(full, l2, iters, use=owner != i)
        cv_choice[n["id"]] = decide(full, w, margins)[pos : pos + len(n["rows"])]
        pos += len(n["rows"])
    ps, ok, wts = [], [], []
    for n in novels:
        for r, (k, p) in zip(n["rows"], cv_choice[n["id"]], strict=True):
            if r["n"]:
                ps.append(p)
                ok.append(r["y"] >= 0 and r["cands"][r["y"]] == k)
                wts.append(r["n"])
    calib = platt(ps, ok, wts)
    cv_preds = [apply(n, cv_choice[n["id"]], calib) for n in novels]
    thr = threshold_for(curve_rows(sc, golds, cv_preds), mark)
    cv_preds = [apply(n, cv_choice[n["id"]], calib, thr) for n in novels]
    rep = report("ranker, cross-validated (leave-one-novel-out)", path, sc, golds, cv_preds)
    if len(novels) > 1:
        for n in novels:
            print(line("    " + n["novel"], rep["per_excerpt"][n["id"]]))
    print("  CV review curve (share marked -> accuracy of the rest): " + curve_text(curve_rows(sc, golds, cv_preds)))

    # all novels: the shipped weights
    w = fit(full, l2, iters)
    choice = decide(full, w, margins)
    pos = 0
    ins_preds = []
    for n in novels:
        ins_preds.append(apply(n, choice[pos : pos + len(n["rows"])], calib, thr))
        pos += len(n["rows"])
    report("ranker, in-sample (fit on all)", path, sc, golds, ins_preds)
    print("  in-sample review curve: " + curve_text(curve_rows(sc, golds, ins_preds)))
    print(f"calibration a={calib[0]:.3f} b={calib[1]:.3f}; review below {thr:.3f} (marks {mark:.0%} in CV)")
    weights = {k: round(float(w[vocab[k]]), 4) for k in names if abs(w[vocab[k]]) >= 1e-4}
    if show_weights:
        for k, v in sorted(weights.items(), key=lambda kv: -abs(kv[1]))[:40]:
            print(f"   {k:<26} {v:+.3f}")
    if write:
        body = ",\n".join(f"    {k!r}: {v!r}" for k, v in sorted(weights.items()))
        WEIGHTS_FILE.write_text(
            '"""Weights of the speaker ranker (see ranker.py). Written by bench/train_ranker.py; do not edit."""\n\n'
            f"WEIGHTS: dict[str, float] = {{\n{body},\n}}\n"
            f"CALIBRATION: tuple[float, float] = ({calib[0]:.4f}, {calib[1]:.4f})\n"
            f"REVIEW_BELOW: float = {thr:.4f}\n"
            f"MARGINS: dict[str, float] = {margins!r}\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE.relative_to(ROOT)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--l2", type=float, default=0.0001)
    ap.add_argument("--margins", default=",".join(f"{k}={v}" for k, v in MARGINS.items()),
                    help="per kind of evidence (nam/pro/act/imp), how much more probable than the rules' "
                         "pick a candidate must be to replace it")
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--mark", type=float, default=0.24, help="share of lines to mark for review")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--dry-run", action="store_true", help="print the figures, do not write the weights")
    ap.add_argument("--novels", help="comma-separated subset (quick experiments)")
    ap.add_argument("--cache", type=Path, help="reuse/store the collected features in this file (experiments)")
    args = ap.parse_args()
    path: Path = args.path
    if path.is_file():
        path = path.parent
    recs = load_scorer(path).load_jsonl(path / "pdnc_dev.jsonl")
    if args.novels:
        recs = [r for r in recs if r["novel"] in args.novels.split(",")]
    margins = {k: float(v) for k, v in (kv.split("=") for kv in args.margins.split(","))}
    run(path, recs, l2=args.l2, iters=args.iters, mark=args.mark, margins=margins, jobs=args.jobs, cache=args.cache,
        write=not args.dry_run, show_weights=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
