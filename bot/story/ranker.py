"""A learned second opinion on who speaks: candidate speakers for each line, scored by a small
linear model over the rules' evidence and the shape of the conversation.

The rule-based `Attributor` reads every paragraph once and names a speaker with the rule that
found them (a tag, an action, turn-taking…). Afterwards this pass walks the same paragraphs again
and, for every run of quotes the rules gave to one person, lists who else could be speaking —
the rules' runner-up, the people named in this paragraph and the ones before, the last speakers
of the conversation, whoever was spoken to — and scores each candidate with a conditional-logit
model (a weighted sum of features, softmax over the candidates). Features are general:
which rule picked the candidate and how sure it was, distance since the candidate was last named
and last spoke, turn-taking parity (spoke two turns back), being addressed by name in the line
or in the one before, where in the paragraph they are named, pronoun agreement with the tag.

How likely the winner is right, judged by a second stage (review.py: margin, kind of evidence,
rivals, the exchange around), becomes the line's `confidence` (without its weights: the model's
probability through a fitted calibration); lines below `REVIEW_BELOW` are marked for a person to check. The weights are a
plain table in `ranker_weights.py`, written by `bench/train_ranker.py` from the PDNC development
novels (no corpus text in it, pure Python at run time).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat

from bot.story import review
from bot.story.attribution import Mention, NameIndex, SpeakerGuess
from bot.story.quotes import Quote

# one entry per paragraph the attributor saw (start, end, quotes, their guesses, the cast's
# mentions in it; no quotes for narration), None where the scene's memory was reset (a scene break, a heading)
TraceEntry = tuple[int, int, Sequence[Quote], Sequence[SpeakerGuess], Sequence[Mention]] | None

_HE_SHE = re.compile(r"(?<![\w'’-])(?:[Hh]e|[Ss]he)(?![\w'’-])")
# words that call someone without their name, and who that someone is: "No, sir." / "Well, mamma,"
_CALLED = {w: "he" for w in ("sir", "papa", "father", "my lord", "young man", "my boy", "brother", "uncle",
                              "monsieur", "sire", "my son", "old man", "old fellow", "my good man", "mister")}
_CALLED.update({w: "she" for w in ("madam", "ma'am", "ma’am", "mamma", "mama", "mother", "my lady", "miss",
                                   "my girl", "sister", "aunt", "madame", "mademoiselle", "my daughter",
                                   "my good woman")})
_CALLED_RE = re.compile(r"(?:^|[,!?.;:—–-]\s*|\b(?:[Oo]h|[Dd]ear|[Yy]es|[Nn]o|[Ww]ell)\s+)("
                        + "|".join(sorted((re.escape(w) for w in _CALLED), key=len, reverse=True))
                        + r")(?=\s*(?:[,!?.;:—–-]|$))", re.I)
_MAX_CANDIDATES = 10
_FAR = math.log1p(60.0)


@dataclass(slots=True)
class Group:
    """A run of quotes of one paragraph that the rules gave to one speaker: the unit ranked."""
    spans: list[tuple[int, int]]
    voices: list[SpeakerGuess]
    pick: str
    cands: list[str]
    feats: list[dict[str, float]]
    kind: str = "imp"  # the rules' kind of evidence: nam(ed tag), pro(noun tag), act(ion), imp(licit)
    para: int = 0  # paragraph number (consecutive paragraphs differ by one; a scene break by more)
    chosen: str = ""
    probs: list[float] = field(default_factory=list)
    src: str = "none"  # the rule (and tag form) behind the pick, e.g. "tag_after:pron", "turn"
    ctx: dict[str, float] = field(default_factory=dict)  # the run's own shape (see `features`), for review.py
    genders: list[str | None] = field(default_factory=list)  # each candidate's pronouns, if known
    style: list[float | None] = field(default_factory=list)  # per candidate: sounds like them? (see `_style`)


class Ranker:
    """Scores candidate speakers with `weights` (feature name -> weight). `calibration` (a, b)
    maps the winner's probability p to a confidence sigmoid(a * logit(p) + b). With no
    weights the rules' picks and confidences stay as they are (features are still computed
    for `collect`, which training uses)."""

    def __init__(self, weights: Mapping[str, float] | None = None, calibration: tuple[float, float] = (1.0, 0.0),
                 collect: list[Group] | None = None, margins: Mapping[str, float] | None = None,
                 conf_weights: Mapping[str, float] | None = None) -> None:
        self.weights = dict(weights or {})
        # the second stage's weights (review.py): P(the chosen speaker is right)
        self.conf_weights = dict(conf_weights or {})
        self.conf_by_kind = review.fold(self.conf_weights)
        self.calibration = calibration
        # the rules' pick is overruled only by a candidate this much more probable than it, per
        # kind of evidence (a named tag is never overruled by default)
        self.margins = dict(margins) if margins is not None else {"nam": 2.0}
        self.collect = collect
        # every feature but the pick's own has a weight of its own per kind of evidence
        # ("kind:feature"), added to the shared one: one table per kind, folded once here
        self.by_kind: dict[str, dict[str, float]] = {}
        for kind in ("nam", "pro", "act", "imp"):
            t = {k: v for k, v in self.weights.items() if ":" not in k or k.startswith("pick:")}
            for k, v in self.weights.items():
                if k.startswith(kind + ":"):
                    t[k[len(kind) + 1 :]] = t.get(k[len(kind) + 1 :], 0.0) + v
            self.by_kind[kind] = t

    def score(self, feats: dict[str, float], kind: str = "imp") -> float:
        w = self.by_kind[kind]
        return sum(w.get(k, 0.0) * v for k, v in feats.items())

    def choose(self, g: Group) -> None:
        scores = [self.score(f, g.kind) for f in g.feats]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        tot = sum(exps)
        g.probs = [e / tot for e in exps]
        best = max(range(len(scores)), key=lambda i: (scores[i], g.cands[i] == g.pick))
        # the pick is always the first candidate
        g.chosen = g.cands[best] if g.probs[best] - g.probs[0] >= self.margins.get(g.kind, 0.0) else g.pick

    def confidence(self, p: float) -> float:
        a, b = self.calibration
        return review.sigmoid(a * review.logit(p, 1e-6) + b)

    def rerank(self, text: str, names: NameIndex, trace: Sequence[TraceEntry], narrator: str | None = None) -> None:
        """Re-decide every single-speaker run of spoken quotes in `trace` in place (speakers,
        runner-up, confidence of its `SpeakerGuess`es). The confidence is the second stage's
        P(right) (review.py) when it has weights, else the calibrated probability."""
        if not self.weights and self.collect is None:
            return
        groups = features(text, names, trace, narrator)
        if self.weights:
            for g in groups:
                self.choose(g)
            chosen = [g.cands.index(g.chosen) for g in groups]
            if self.conf_weights:
                confs = [review.score(self.conf_by_kind[g.kind], f)
                         for g, f in zip(groups, review.features(groups, chosen, copies=False), strict=True)]
            else:
                confs = [self.confidence(g.probs[c]) for g, c in zip(groups, chosen, strict=True)]
            for g, conf in zip(groups, confs, strict=True):
                order = sorted(range(len(g.cands)), key=lambda i: (g.cands[i] != g.chosen, -g.probs[i]))
                runner = g.cands[order[1]] if len(order) > 1 else None
                for v in g.voices:
                    if g.chosen != v.speakers[0]:
                        v.speakers = (g.chosen,)
                    v.runner_up = runner
                    v.confidence = conf
        if self.collect is not None:
            self.collect.extend(groups)


def _source(v: SpeakerGuess) -> str:
    src = v.source or "none"
    if src in ("tag_after", "tag_before"):
        return src + (":named" if v.named else ":pron")
    return src


_STRENGTH = {"tag_after:named": 9, "tag_before:named": 8, "intro": 8, "tag_after:pron": 7, "tag_before:pron": 6,
             "action": 5, "action_after": 5, "runon": 5, "paragraph": 4}


def _vocative(text: str, q: Quote, m: Mention) -> bool:
    before = text[q.start : m.start].rstrip()
    after = text[m.end : q.end].lstrip()
    return ((before == "" or before[-1] in ",!?.…—–-;:" or before.endswith(("Oh", "oh", "O", "Dear", "dear", "my")))
            and (after == "" or after[0] in ",!?.…—–-;:"))


def features(text: str, names: NameIndex, trace: Sequence[TraceEntry], narrator: str | None = None) -> list[Group]:
    """Candidates and their features for every single-speaker run of spoken quotes, in order."""
    pron = names.pron
    # how much each person speaks in the whole text, by the rules (a prior for minor voices)
    counts: Counter[str] = Counter()
    for e in trace:
        if e is None:
            continue
        for v in e[3]:
            if len(v.speakers) == 1 and v.speakers[0] in pron:
                counts[v.speakers[0]] += 1
    total = sum(counts.values()) + len(pron) + 1
    prior = {k: math.log((counts[k] + 1) / total) for k in pron}

    out: list[Group] = []
    pi = 0
    last_ment: dict[str, int] = {}
    last_spoke: dict[str, int] = {}
    turns: list[str] = []  # speakers of voiced runs, one entry per change of speaker
    turn_no = 0
    prev_voiced_pi = -10
    prev_addressed: set[str] = set()
    prev_narr: list[str] = []  # mentions of the paragraph just before when it was narration
    prev_pi = -10
    recent: list[str] = []  # people named in the scene, most recent last
    voiced: dict[int, list[tuple[str, bool]]] = {}  # paragraph -> (speaker, named by a tag) per run
    where: list[tuple[int, bool, bool]] = []  # paragraph of each group, first run in it, last run
    addressed: dict[int, tuple[set[str], str | None]] = {}  # paragraph -> who its lines call, by name / gender
    for e in trace:
        if e is None:
            last_ment.clear()
            last_spoke.clear()
            turns.clear()
            recent.clear()
            prev_addressed = set()
            prev_narr = []
            prev_voiced_pi = -10
            pi += 2  # nothing is adjacent across a scene break
            continue
        pi += 1
        ps, pe, quotes, voices, mentions = e
        if not quotes:
            prev_narr = [m.key for m in mentions]

            prev_pi = pi
            for m in mentions:
                last_ment[m.key] = pi
            _note(recent, prev_narr)
            continue
        spans = [(q.open if q.open >= 0 else q.start, q.close + 1 if q.close >= 0 else q.end) for q in quotes]
        inside: list[list[Mention]] = [[] for _ in quotes]
        outside: list[Mention] = []
        for m in mentions:
            for i, (a, b) in enumerate(spans):
                if a <= m.start < b:
                    inside[i].append(m)
                    break
            else:
                outside.append(m)
        # the first he/she of the narration around the quotes: a tag or an action's pronoun
        narr_pron: str | None = None
        pos = ps
        for a, b in [*spans, (pe, pe)]:
            pm = _HE_SHE.search(text, pos, a) if a > pos else None
            if pm:
                narr_pron = pm.group(0).lower()
                break
            pos = max(pos, b)
        # runs of quotes with one speaker
        runs: list[list[int]] = []
        for i, v in enumerate(voices):
            if runs and voices[runs[-1][0]].speakers == v.speakers:
                runs[-1].append(i)
            else:
                runs.append([i])
        adjacent = prev_voiced_pi == pi - 1
        narr_before = prev_pi == pi - 1 and bool(prev_narr)
        this_addressed: set[str] = set()
        this_called: str | None = None
        for run in runs:
            vs = [voices[i] for i in run]
            v0 = vs[0]
            spoken = [i for i in run if quotes[i].kind in ("double", "single", "dash")]
            voc: set[str] = set()
            inq: set[str] = set()
            for i in run:
                for m in inside[i]:
                    (voc if _vocative(text, quotes[i], m) else inq).add(m.key)
            this_addressed |= voc
            called: str | None = None
            for i in run:
                cm = _CALLED_RE.search(text[quotes[i].start : quotes[i].end])
                if cm:
                    called = _CALLED[cm.group(1).lower()]
                    break
            if called is not None:
                this_called = called
            # a thought in quote marks is ranked too ("“Why?” he wondered"): who thinks it is found as
            # who says a line is, and the second stage judges it like any other line
            ok = len(v0.speakers) == 1 and v0.speakers[0] in pron and bool(spoken)
            if ok:
                pick = v0.speakers[0]
                best = max(vs, key=lambda v: _STRENGTH.get(_source(v), 0))
                src = _source(best)
                first_q, last_q = run[0], run[-1]
                before = [m.key for m in outside if m.start < spans[first_q][0]]
                after = [m.key for m in outside if m.start >= spans[last_q][1]]
                between = [m.key for m in outside if spans[first_q][0] <= m.start < spans[last_q][1]]
                # "said his sister": whom the rules ruled out is no candidate
                ruled_out = {k for v in vs for k in v.exclude} - {pick}
                cands: list[str] = []
                for k in [pick, best.runner_up, *reversed(turns[-6:]), *before, *between, *after,
                          *sorted(voc | inq), *prev_narr, *prev_addressed, *reversed(recent[-6:])]:
                    if k is not None and k in pron and k not in cands and k not in ruled_out:
                        cands.append(k)
                cands = cands[:_MAX_CANDIDATES]
                conv2 = len(set(turns[-6:])) <= 2
                qlen = sum(spans[i][1] - spans[i][0] for i in run)
                tag_pron = pron.get(pick) if src.endswith(":pron") else None
                feats: list[dict[str, float]] = []
                for k in cands:
                    f: dict[str, float] = {}
                    if k == pick:
                        f["pick"] = 1.0
                        f["pick:" + src] = 1.0
                        f["pick:conf"] = best.confidence
                        if src.endswith(":pron"):
                            f["pick:rivals"] = float(min(best.rivals, 4))
                        f["pick:loglen"] = math.log1p(qlen) / 5
                        if conv2:
                            f["pick:conv2"] = 1.0
                    # (no feature says "someone else speaks in this paragraph": in these novels a
                    # paragraph split between two voices is mostly a mistake of the rules, in
                    # fan fiction it is common, and the ranker would learn to undo the split)
                    if k == best.runner_up:
                        f["runner"] = 1.0
                    if turns and k == turns[-1]:
                        f["prev1" if adjacent else "prev1far"] = 1.0
                    if len(turns) >= 2 and k == turns[-2]:
                        f["prev2" if adjacent else "prev2far"] = 1.0
                        if conv2:
                            f["prev2_conv2"] = 1.0
                    if len(turns) >= 3 and k == turns[-3]:
                        f["prev3"] = 1.0
                    if k in prev_addressed:
                        f["addr_prev" if adjacent else "addr_prevfar"] = 1.0
                    if k in voc:
                        f["voc"] = 1.0
                    if k in inq:
                        f["inq"] = 1.0
                    if k in before:
                        f["m_before"] = 1.0
                        if before[-1] == k:
                            f["m_before_last"] = 1.0
                        if outside and outside[0].key == k and outside[0].start - ps < 3:
                            f["m_para_start"] = 1.0
                    if k in between:
                        f["m_between"] = 1.0
                    if k in after:
                        f["m_after"] = 1.0
                        if after[0] == k:
                            f["m_after_first"] = 1.0
                    if narr_before and k in prev_narr:
                        f["narr_any"] = 1.0
                        if prev_narr[0] == k:
                            f["narr_first"] = 1.0
                        if prev_narr[-1] == k:
                            f["narr_last"] = 1.0
                    lm = last_ment.get(k)
                    f["dist_m"] = (math.log1p(pi - lm) if lm is not None else _FAR) / _FAR
                    ls = last_spoke.get(k)
                    f["dist_s"] = (math.log1p(turn_no - ls) if ls is not None else _FAR) / _FAR
                    if ls is None:
                        f["never_s"] = 1.0
                    f["prior"] = prior.get(k, -10.0) / 10
                    if k == narrator:
                        f["narrator"] = 1.0
                    pk = pron.get(k)
                    if pk is None:
                        f["pron_unknown"] = 1.0
                    if tag_pron is not None and pk is not None:
                        f["g_agree" if pk == tag_pron else "g_clash"] = 1.0
                    if narr_pron is not None and pk is not None:
                        f["pp_agree" if pk == narr_pron else "pp_clash"] = 1.0
                    if called is not None and pk is not None:
                        f["called_same" if pk == called else "called_other"] = 1.0
                    feats.append(f)
                ctx = {"rule_conf": best.confidence, "rivals": float(min(best.rivals, 4)),
                       "loglen": math.log1p(qlen), "nq": float(len(run)), "conv2": float(conv2),
                       "n_turners": float(len(set(turns[-6:]))), "voc": float(bool(voc)),
                       "called": float(called is not None), "adjacent": float(adjacent),
                       "narr_before": float(narr_before), "n_outside": float(len(outside)),
                       "n_runs": float(len(runs)), "n_cands": float(len(cands))}
                out.append(Group([(quotes[i].start, quotes[i].end) for i in run], vs, pick, cands, feats,
                                 _KIND.get(src, "imp"), src=src, ctx=ctx, genders=[pron.get(k) for k in cands]))
                # the paragraphs around are next to this run only if no other run of its own
                # paragraph stands between
                where.append((pi, run is runs[0], run is runs[-1]))
            # the conversation as the rules see it moves on
            if len(v0.speakers) == 1 and not (all(v.thought for v in vs) and not spoken):
                who = v0.speakers[0]
                if not turns or turns[-1] != who:
                    turns.append(who)
                    turn_no += 1
                last_spoke[who] = turn_no
        if len(turns) > 64:
            del turns[:-32]
        for m in mentions:
            last_ment[m.key] = pi
        _note(recent, [m.key for m in mentions])
        voiced[pi] = [(v.speakers[0], _source(v) in _NAMED) for v in voices if len(v.speakers) == 1]
        addressed[pi] = (this_addressed, this_called)
        prev_addressed = this_addressed
        prev_voiced_pi = pi
        prev_narr = []
    # the lines around, both ways: in an exchange people alternate, so whoever a tag names in
    # the next paragraph is probably not speaking in this one, and the one two paragraphs on is
    for g, (p, first, last) in zip(out, where, strict=True):
        g.para = p
        for d, tag in ((-2, "pv2"), (-1, "pv1"), (1, "nx1"), (2, "nx2")):
            if (d < 0 and not first) or (d > 0 and not last):
                continue
            if not all(p + s in voiced for s in range(min(0, d), max(0, d) + 1)):
                continue
            runs_d = voiced[p + d]
            if not runs_d:
                continue
            near = runs_d[-1] if d < 0 else runs_d[0]
            voc_d, called_d = addressed[p + d]
            for k, f in zip(g.cands, g.feats, strict=True):
                if near[0] == k:
                    f[tag + ("_named" if near[1] else "")] = 1.0
                if d == 1 and k in voc_d:
                    f["nx1_voc"] = 1.0  # the next line calls them: they probably spoke this one
                if d == 1 and called_d is not None and names.pron.get(k) is not None:
                    f["nx1_called_same" if names.pron.get(k) == called_d else "nx1_called_other"] = 1.0
    _style(text, out)
    return out


_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")
_STYLE_PRIOR = 500.0  # how many words of the whole text's speech a speaker's own counts are smoothed with
_STYLE_MIN = 100  # a speaker needs this many words of lines tagged with their name to be judged by them


def _style(text: str, groups: Sequence[Group]) -> None:
    """How much each candidate sounds like the speaker of each run, from the text itself: the words
    of the lines a tag gives them by name (a tag names the right speaker ~97 % of the time) make
    a word model per person (smoothed towards all the text's speech), and a run's words score
    log P(words | candidate) - log P(words | anyone). People speak in their own ways (a lisp
    spelled out, a pet phrase, a dialect, "ma'am" or "old sport"), which no rule about tags and
    turns sees. Sets `Group.style` (None: too few words of theirs to judge); the run's own words
    never count for itself."""
    words = [_WORD.findall(" ".join(text[a:b] for a, b in g.spans).lower()) for g in groups]
    everyone = Counter(chain.from_iterable(words))
    own: dict[str, Counter[str]] = {}
    for g, ws in zip(groups, words, strict=True):
        if g.kind == "nam":
            own.setdefault(g.pick, Counter()).update(ws)
    total = sum(everyone.values())
    # P(word | anyone's speech), and its log, once per word
    pb = {w: (c + 0.5) / (total + 0.5 * (len(everyone) + 1)) for w, c in everyone.items()}
    log_pb = {w: math.log(p) for w, p in pb.items()}

    def ratio(count: int, size: int, w: str) -> float:
        return math.log((count + _STYLE_PRIOR * pb[w]) / (size + _STYLE_PRIOR)) - log_pb[w]

    # a word a speaker never said scores the same for every such word (log(prior / (size + prior))):
    # only the words they did say are looked up
    sizes = {k: sum(c.values()) for k, c in own.items()}
    unsaid = {k: math.log(_STYLE_PRIOR / (n + _STYLE_PRIOR)) for k, n in sizes.items()}
    said = {k: {w: ratio(c, sizes[k], w) - unsaid[k] for w, c in counts.items()}
            for k, counts in own.items() if sizes[k] >= _STYLE_MIN}
    for g, ws in zip(groups, words, strict=True):
        n_words = len(ws)
        out: list[float | None] = []
        for k in g.cands:
            if g.kind == "nam" and k == g.pick:  # leave this run out of its own speaker's model
                size = sizes[k] - n_words
                mine_all = own[k]
                out.append(sum(m * ratio(mine_all[w] - m, size, w) for w, m in Counter(ws).items())
                           if size >= _STYLE_MIN else None)
                continue
            mine = said.get(k)
            out.append(None if mine is None else unsaid[k] * n_words + sum(map(mine.get, ws, repeat(0.0))))
        g.style = out
        # for the ranker too: how much more than the likeliest other candidate each sounds like the
        # speaker (the best other is the best of all, or the second best for the best itself)
        known = sorted(((x, i) for i, x in enumerate(out) if x is not None), key=lambda xi: -xi[0])
        if len(known) < 2:
            continue
        (top, top_i), (second, _) = known[0], known[1]
        for i, (x, f) in enumerate(zip(out, g.feats, strict=True)):
            if x is not None:
                f["style_rel"] = max(-1.0, min(1.0, (x - (second if i == top_i else top)) / review.STYLE_SCALE))


_NAMED = frozenset({"tag_after:named", "tag_before:named", "intro"})
_KIND = {"tag_after:named": "nam", "tag_before:named": "nam", "intro": "nam", "tag_after:pron": "pro",
         "tag_before:pron": "pro", "action": "act", "action_after": "act", "paragraph": "act", "runon": "act",
         "floor": "act"}


def _note(recent: list[str], keys: Sequence[str]) -> None:
    for k in keys:
        if recent and recent[-1] == k:
            continue
        if k in recent:
            recent.remove(k)
        recent.append(k)
    if len(recent) > 12:
        del recent[:-12]


def default_ranker() -> Ranker:
    """The shipped model (empty weights: the rules' picks and confidences as they are), loaded once."""
    from bot.story import ranker_weights as rw

    return Ranker(rw.WEIGHTS, rw.CALIBRATION, margins=rw.MARGINS, conf_weights=rw.CONF_WEIGHTS)


def describe(weights: Mapping[str, float]) -> list[str]:  # for the training script's report
    return [f"{k:<22} {v:+.3f}" for k, v in sorted(weights.items(), key=lambda kv: -abs(kv[1]))]
