"""The learned speaker ranker layered on the rules (bot/story/ranker.py)."""

from __future__ import annotations

from bot.story import ranker_weights
from bot.story import review as second_stage
from bot.story.attribution import REVIEW_BELOW
from bot.story.model import Character
from bot.story.ranker import Group, Ranker, default_ranker
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [Character(key="anna", name="Anna", pronouns="she/her"),
        Character(key="ben", name="Ben", pronouns="he/him"),
        Character(key="cora", name="Cora", pronouns="she/her")]

EXCHANGE = """Anna and Ben sat by the fire.

"Did you lock the gate?" Anna asked.

"I always lock it," said Ben.

"Then who opened it?"

"Cora, perhaps."
"""


def run(text: str, ranker: Ranker | None = None) -> list[tuple[str | None, float | None, bool]]:
    story = segment(read_document(text, fmt="txt", name="t.txt"), CAST, ranker=ranker)
    return [(b.speaker, b.confidence, b.review) for b in story.beats if b.kind == "dialogue"]


def collect(text: str) -> list[Group]:
    groups: list[Group] = []
    segment(read_document(text, fmt="txt", name="t.txt"), CAST, ranker=Ranker(None, collect=groups))
    return groups


def test_rules_alone_keep_their_picks_and_the_shipped_ranker_agrees_on_a_plain_exchange() -> None:
    rules = run(EXCHANGE, Ranker(None))
    assert [s for s, _, _ in rules] == ["anna", "ben", "anna", "ben"]
    shipped = run(EXCHANGE)
    assert [s for s, _, _ in shipped] == ["anna", "ben", "anna", "ben"]
    for _, conf, review in shipped:
        assert conf is not None and 0.0 <= conf <= 1.0
        assert review == (conf < REVIEW_BELOW)
    # a named tag is surer than a line decided by turn-taking alone
    assert min(shipped[0][1] or 0, shipped[1][1] or 0) > max(shipped[2][1] or 1, shipped[3][1] or 1)


def test_the_ranker_can_overrule_the_rules_and_the_beats_follow() -> None:
    # a model that believes the last speaker always goes on: the untagged lines change hands
    # (the conversation it reads is the rules': the last line follows the rules' third, Anna)
    stubborn = Ranker({"prev1": 10.0}, margins={"nam": 2.0})
    got = run(EXCHANGE, stubborn)
    assert [s for s, _, _ in got] == ["anna", "ben", "ben", "anna"]
    assert all(c is not None and c > 0.99 for _, c, _ in got[2:])  # its probability is the confidence
    # ...and so do the named tags when nothing guards them
    assert [s for s, _, _ in run(EXCHANGE, Ranker({"prev1": 10.0}, margins={}))][:2] == ["anna", "anna"]
    # a kind whose margin is out of reach keeps the rules' pick
    guarded = Ranker({"prev1": 10.0}, margins={"nam": 2.0, "imp": 2.0})
    assert [s for s, _, _ in run(EXCHANGE, guarded)] == ["anna", "ben", "anna", "ben"]


def test_features_see_vocatives_pronoun_agreement_and_turns() -> None:
    text = ('Anna looked at Ben and Cora.\n\n"Ben, where were you?" she said.\n\n'
            '"Out," said Ben.\n\n"Out where?"\n')
    groups = collect(text)
    first = groups[0]
    assert first.pick == "anna" and first.kind == "pro"
    f = dict(zip(first.cands, first.feats, strict=True))
    assert "voc" in f["ben"]  # called by name in the line: not the speaker
    assert "g_clash" in f["ben"] and "g_agree" in f["cora"]  # "she said"
    last = groups[-1]
    f = dict(zip(last.cands, last.feats, strict=True))
    assert "prev2" in f["anna"] and "prev1" in f["ben"]  # turn-taking parity


def test_shipped_weights_are_a_plain_table() -> None:
    assert ranker_weights.WEIGHTS, "train with bench/train_ranker.py"
    assert all(isinstance(v, float) for v in ranker_weights.WEIGHTS.values())
    assert 0.0 < ranker_weights.REVIEW_BELOW < 1.0
    assert REVIEW_BELOW == ranker_weights.REVIEW_BELOW
    assert default_ranker().weights == ranker_weights.WEIGHTS
    assert ranker_weights.CONF_WEIGHTS and all(isinstance(v, float) for v in ranker_weights.CONF_WEIGHTS.values())
    assert default_ranker().conf_weights == ranker_weights.CONF_WEIGHTS


def test_second_stage_sets_the_confidence_and_the_review_marks_follow() -> None:
    # a second stage that doubts every line the ranker took from the rules, and trusts the rest
    doubting = Ranker({"prev1": 10.0}, margins={"nam": 2.0}, conf_weights={"b": 3.0, "overruled": -6.0})
    got = run(EXCHANGE, doubting)
    assert [s for s, _, _ in got] == ["anna", "ben", "ben", "anna"]
    assert all(c is not None and c > 0.9 and not r for _, c, r in got[:2])  # the rules' picks kept
    assert all(c is not None and c < 0.1 and r for _, c, r in got[2:])  # overruled: marked for review
    # without a second stage the ranker's calibrated probability is the confidence
    plain = run(EXCHANGE, Ranker({"prev1": 10.0}, margins={"nam": 2.0}))
    assert all(c is not None and c > 0.99 for _, c, _ in plain[2:])


def _g(para: int, kind: str, cands: list[str], probs: list[float]) -> Group:
    return Group([(para, para + 1)], [], cands[0], cands, [{} for _ in cands], kind, para, cands[0], probs,
                 genders=["she", "he", "she"][: len(cands)])


def test_second_stage_features_read_the_exchange_around_a_line() -> None:
    # Anna named, then three untagged lines, then Anna named again: turn-taking from the tags lands on
    # the chosen speaker or not, and a line far from any tag in a long untagged run says so
    groups = [_g(1, "nam", ["anna", "ben"], [0.9, 0.1]), _g(2, "imp", ["ben", "anna"], [0.6, 0.4]),
              _g(3, "imp", ["anna", "ben"], [0.55, 0.45]), _g(4, "imp", ["anna", "ben"], [0.5, 0.5]),
              _g(5, "nam", ["anna", "ben"], [0.95, 0.05]), _g(9, "imp", ["anna", "ben", "cora"], [0.4, 0.3, 0.3])]
    f = second_stage.features(groups, [0, 0, 0, 0, 0, 0])
    assert "pn_parity_ok" in f[1] and "nn_parity_ok" in f[1]  # Ben between Anna and Anna, alternating
    assert "pn_parity_ok" in f[2]  # Anna two turns after Anna
    assert "pn_parity_bad" in f[3] and "nn_parity_bad" in f[3]  # Anna twice running: off by one
    assert "same_as_prev" in f[3] and "alternates" in f[2]
    assert f[2]["imp_run"] > 0 and f[1]["imp_pos"] == 0.0 < f[2]["imp_pos"]
    # paragraph 9 is no part of that exchange: no tag in view, a rival of the same pronouns
    assert "pn_none" in f[5] and "nn_none" in f[5] and "same_g1" in f[5]
    assert f[0]["lmargin"] > f[3]["lmargin"] and "agree" in f[0]
    assert f[1]["imp:b"] == 1.0 and "nam:b" not in f[1]  # per-kind copies, as the ranker's
    # more confident where the margin is wide, with weights that say so
    assert second_stage.score({"lmargin": 2.0}, f[0]) > second_stage.score({"lmargin": 2.0}, f[3])
    # choosing the runner-up turns the parity around
    g = second_stage.features(groups, [0, 0, 0, 1, 0, 0])
    assert "pn_parity_ok" in g[3] and "overruled" in g[3]


def test_folded_tables_score_features_without_copies_as_with_them() -> None:
    groups = [_g(1, "nam", ["anna", "ben"], [0.9, 0.1]), _g(2, "imp", ["ben", "anna"], [0.6, 0.4])]
    weights = {"b": 0.5, "lmargin": 1.0, "imp:lmargin": -2.0, "nam:b": 0.7, "imp:imp_run": 3.0}
    tables = second_stage.fold(weights)
    with_copies = second_stage.features(groups, [0, 0])
    bare = second_stage.features(groups, [0, 0], copies=False)
    assert not any(k.startswith("imp:") for k in bare[1])
    for g, a, b in zip(groups, with_copies, bare, strict=True):
        assert abs(second_stage.score(weights, a) - second_stage.score(tables[g.kind], b)) < 1e-12
    assert tables["imp"]["lmargin"] == -1.0 and tables["nam"]["lmargin"] == 1.0


def test_named_tags_of_people_with_unknown_pronouns_are_not_marked() -> None:
    # a discovered cast often has no pronouns: that alone is no reason to doubt a named tag
    cast = [Character(key="anna", name="Anna"), Character(key="ben", name="Ben")]
    text = EXCHANGE.replace('"Then who opened it?"', '"Then who opened it?" Anna said.')
    story = segment(read_document(text, fmt="txt", name="t.txt"), cast)
    named = [b for b in story.beats if b.kind == "dialogue" and ("said" in b.text or "asked" in b.text)]
    assert len(named) == 3 and not any(b.review for b in named)
