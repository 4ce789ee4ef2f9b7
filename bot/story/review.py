"""How likely each of the ranker's choices is right: the second stage behind a line's
`confidence` and its review mark.

The speaker ranker (ranker.py) says which candidate is most probable, but its probability is a
poor judge of its own mistakes: a line deep in an untagged exchange can be very probable and
still off by one, with the whole run. This stage looks at each chosen speaker from the outside,
with what the ranking model does not weigh: the margin over the runner-up, the kind of evidence
(named tag, pronoun tag, action, none), how many candidates share the chosen one's pronouns,
how far the nearest named tags are and whether turn-taking from them lands on the chosen
speaker, the length of the untagged run, whether the rules and the ranker agree, whether the
line calls someone, text-wide habits (how often its lines are tagged by name), and the stretch
between two named tags the line sits in (its weakest margin, whether the ranker overruled the
rules in it, how many of its lines' own words speak against their chosen speakers: an exchange
off by one is wrong as a whole), and whether the line's words sound like the chosen one's lines
tagged by name or like another candidate's (ranker.py `_style`). A logistic
model over these gives P(right), the line's confidence. Its weights (`CONF_WEIGHTS` in
ranker_weights.py) are fitted by bench/train_ranker.py on the ranker's cross-validated choices,
so that they judge the ranker as it behaves on a novel it has not seen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol


class Group(Protocol):
    """What this stage reads of a ranked run of quotes (ranker.Group; a protocol, so that the
    ranker imports this module and not the other way round)."""
    cands: list[str]
    feats: list[dict[str, float]]
    kind: str
    para: int
    probs: list[float]
    src: str
    ctx: dict[str, float]
    genders: list[str | None]
    style: list[float | None]

_LOGIT_CAP = 8.0
STYLE_SCALE = 5.0  # a log-likelihood ratio of a line's words between two speakers beyond which it is as sure as it gets


def logit(p: float, eps: float = 1e-4) -> float:
    """log(p / (1 - p)), with p kept `eps` away from 0 and 1."""
    p = min(max(p, eps), 1 - eps)
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _blocks(groups: Sequence[Group]) -> list[list[int]]:
    """Groups in runs of adjacent paragraphs (one exchange each), by index."""
    out: list[list[int]] = []
    for i, g in enumerate(groups):
        if out and g.para - groups[out[-1][-1]].para <= 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def features(groups: Sequence[Group], chosen: Sequence[int], *, copies: bool = True) -> list[dict[str, float]]:
    """Features of every group's chosen candidate (`chosen[i]` indexes `groups[i].cands`;
    `groups[i].probs` holds the ranker's probabilities), each also copied per kind of
    evidence ("nam:…"), as the ranker's are — unless `copies` is false (run time scores
    them with per-kind tables instead, see `fold`)."""
    n = len(groups)
    if n == 0:
        return []
    who = [g.cands[c] for g, c in zip(groups, chosen, strict=True)]
    # text-wide habits: how much of it is tagged by name, how often the ranker overrules the rules
    named_share = sum(g.kind == "nam" for g in groups) / n
    changed_share = sum(c != 0 for c in chosen) / n
    out: list[dict[str, float]] = [{} for _ in groups]
    for block in _blocks(groups):
        # per block, once (a block can be thousands of lines long): the nearest named tag each
        # way, the untagged stretch around each line, how many people speak in it
        m = len(block)
        prev_nam = [-1] * m
        next_nam = [-1] * m
        last = -1
        for bi, gi in enumerate(block):
            prev_nam[bi] = last
            if groups[gi].kind == "nam":
                last = bi
        last = -1
        for bi in range(m - 1, -1, -1):
            next_nam[bi] = last
            if groups[block[bi]].kind == "nam":
                last = bi
        run_lo = [0] * m
        run_hi = [0] * m
        for bi in range(m):
            imp_before = bi > 0 and groups[block[bi - 1]].kind == "imp"
            run_lo[bi] = run_lo[bi - 1] if imp_before else bi
        for bi in range(m - 1, -1, -1):
            imp_after = bi + 1 < m and groups[block[bi + 1]].kind == "imp"
            run_hi[bi] = run_hi[bi + 1] if imp_after else bi
        n_speakers = len({who[j] for j in block})
        stretch = _stretches(groups, chosen, block)
        for bi, gi in enumerate(block):
            g = groups[gi]
            c = chosen[gi]
            k = who[gi]
            f = out[gi]
            p = g.probs[c] if g.probs else 1.0
            others = [q for j, q in enumerate(g.probs) if j != c]
            p2 = max(others) if others else 0.0
            f["b"] = 1.0
            f["lp"] = max(-_LOGIT_CAP, min(_LOGIT_CAP, logit(p))) / _LOGIT_CAP
            f["margin"] = p - p2
            f["lmargin"] = max(-_LOGIT_CAP, min(_LOGIT_CAP, logit(p) - logit(p2) if others else _LOGIT_CAP)) / _LOGIT_CAP
            f["margin<.2"] = float(p - p2 < 0.2)
            f["p>.9"] = float(p > 0.9)
            f["agree" if c == 0 else "overruled"] = 1.0
            f["s:" + g.src] = 1.0
            for name, v in g.ctx.items():
                f["x:" + name] = v
            f["x:n_runs>1"] = float(g.ctx.get("n_runs", 1.0) > 1)
            f["x:nq"] = math.log1p(g.ctx.get("nq", 1.0))
            f["x:n_cands"] = math.log1p(g.ctx.get("n_cands", 1.0))
            f["x:n_outside"] = math.log1p(g.ctx.get("n_outside", 0.0))
            gk = g.genders[c] if c < len(g.genders) else None
            same = sum(1 for j, x in enumerate(g.genders) if j != c and x is not None and x == gk)
            f[f"same_g{min(same, 3)}"] = 1.0
            # do the line's words sound like the chosen one's lines tagged by name, or like another candidate's?
            mine = g.style[c] if c < len(g.style) else None
            if mine is None:
                f["style_none"] = 1.0
            else:
                rest = [x for j, x in enumerate(g.style) if j != c and x is not None]
                if rest:
                    gap = mine - max(rest)
                    f["style_gap"] = max(-1.0, min(1.0, gap / STYLE_SCALE))
                    # … and how far beyond: a long line's words can speak much louder than a short one's
                    f["style_far"] = max(-1.0, min(1.0, gap / (4 * STYLE_SCALE)))
                    if gap < -2:
                        f["style_against"] = 1.0
            # (no feature says "the chosen one's pronouns are unknown": in the cast files it was
            # fitted on that marks groups and minor voices, in a discovered cast it is common)
            for name, v in g.feats[c].items():
                if not name.startswith("pick") and name != "pron_unknown":
                    f["c:" + name] = v
            f["named_share"] = named_share
            f["changed_share"] = changed_share
            # the exchange around: named tags before and after in this block, and whether
            # alternation from them lands on the chosen speaker
            for j, tag in ((prev_nam[bi], "pn"), (next_nam[bi], "nn")):
                if j >= 0:
                    d = abs(j - bi)
                    f[tag + "_dist"] = math.log1p(d) / 3
                    same_spk = who[block[j]] == k
                    f[tag + ("_parity_ok" if same_spk == (d % 2 == 0) else "_parity_bad")] = 1.0
                else:
                    f[tag + "_none"] = 1.0
            # the untagged stretch this group sits in
            if g.kind == "imp":
                lo, hi = run_lo[bi], run_hi[bi]
                f["imp_run"] = math.log1p(hi - lo + 1) / 3
                f["imp_pos"] = math.log1p(min(bi - lo, hi - bi)) / 3
            f["block_len"] = math.log1p(m) / 3
            f["block_two" if n_speakers <= 2 else "block_many"] = 1.0
            if bi >= 1 and who[block[bi - 1]] == k:
                f["same_as_prev"] = 1.0
            if bi >= 2 and who[block[bi - 2]] == k and who[block[bi - 1]] != k:
                f["alternates"] = 1.0
            if bi + 1 < len(block) and who[block[bi + 1]] == k:
                f["same_as_next"] = 1.0
            sg = stretch[bi]
            if sg is not None:
                f.update(sg)
    if copies:
        for g, f in zip(groups, out, strict=True):
            for name, v in list(f.items()):
                f[g.kind + ":" + name] = v
    return out


# what a line's own words and the next line say against its chosen speaker (the ranker's features
# of that candidate): it calls them by name or by a word of their sex ("madam"), names them inside
# the quote, the narration's pronoun is of the other sex, the next line calls someone of theirs
_CONTRA = ("voc", "inq", "called_same", "pp_clash", "nx1_called_other")
# … and for them: it calls someone of the other sex, the next line calls them
_SUPPORT = ("called_other", "nx1_voc", "nx1_called_same")


def _stretches(groups: Sequence[Group], chosen: Sequence[int], block: Sequence[int]) -> list[dict[str, float] | None]:
    """Per line of one block, the stretch between two named tags it sits in (None for a named
    line). Untagged alternation off by one is wrong as a whole stretch, so what is seen anywhere
    in it speaks for each of its lines: the weakest and the mean margin of the ranker over the
    runner-up, whether it overruled the rules anywhere, and how many lines' own words speak
    against or for their chosen speaker (see _CONTRA, _SUPPORT)."""
    out: list[dict[str, float] | None] = [None] * len(block)
    start = 0
    while start < len(block):
        if groups[block[start]].kind == "nam":
            start += 1
            continue
        end = start
        while end < len(block) and groups[block[end]].kind != "nam":
            end += 1
        margins: list[float] = []
        contra = support = 0
        overruled = False
        for gi in block[start:end]:
            g = groups[gi]
            c = chosen[gi]
            p = g.probs[c] if g.probs else 1.0
            margins.append(p - max((q for j, q in enumerate(g.probs) if j != c), default=0.0))
            own = g.feats[c]
            contra += sum(1 for k in _CONTRA if own.get(k))
            support += sum(1 for k in _SUPPORT if own.get(k))
            overruled |= c != 0
        f = {"sg_minmargin": min(margins), "sg_meanmargin": sum(margins) / len(margins),
             "sg_contra": math.log1p(contra), "sg_support": math.log1p(support)}
        if overruled:
            f["sg_overruled"] = 1.0
        for bi in range(start, end):
            out[bi] = f
        start = end
    return out


KINDS = ("nam", "pro", "act", "imp")


def fold(weights: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Per kind of evidence, one table: the shared weight of each feature plus its kind's own
    ("pro:lp"), so that features without copies score as the copied ones do."""
    shared = {k: v for k, v in weights.items() if k.split(":", 1)[0] not in KINDS}
    out = {}
    for kind in KINDS:
        t = dict(shared)
        for k, v in weights.items():
            if k.startswith(kind + ":"):
                t[k[len(kind) + 1 :]] = t.get(k[len(kind) + 1 :], 0.0) + v
        out[kind] = t
    return out


def score(weights: Mapping[str, float], f: Mapping[str, float]) -> float:
    """P(right) for one feature dict (with copies, or without and a `fold`ed table)."""
    return sigmoid(sum(weights.get(k, 0.0) * v for k, v in f.items()))
