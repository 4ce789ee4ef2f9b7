"""The learned speaker ranker layered on the rules (bot/story/ranker.py)."""

from __future__ import annotations

from bot.story import ranker_weights
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
