"""Does a line sound like its chosen speaker? Each person's lines that a tag gives them by name make
a word model of their own speech (bot/story/ranker.py `_style`), and the second stage
(bot/story/review.py) doubts a line whose words sound like another candidate's."""

from __future__ import annotations

from bot.story import ranker, review
from bot.story.model import Character
from bot.story.ranker import Group, Ranker
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [Character(key="tobias", name="Tobias", pronouns="he/him"),
        Character(key="agnes", name="Agnes", pronouns="she/her"),
        Character(key="hugh", name="Hugh", pronouns="he/him")]

# Tobias talks like an old boatman, Agnes like a schoolmistress (each says enough under a tag with
# their name to be judged by it); Hugh says one long thing, by name
_TOBIAS = ["Aye, missy, the tide be turning right enough, and the old boat be wanting her nets afore the dark.",
           "Aye, aye, but the fish be running now, missy, and old Tobias ain't never been wrong about the fish.",
           "Ain't no evidence like a wet finger in the wind, missy. Aye, the nets be wanting mending, that be true."]
_AGNES = ["I must observe, however, that the evidence of the clouds suggests otherwise; one would consider it prudent.",
          "Nevertheless, one must consider the evidence carefully; it would be most imprudent, I observe, to ignore it.",
          "I observe that you consider the wind a sufficient authority; however, the evidence suggests a storm."]
_HUGH = ("Well, I never heard such a thing in all my days upon this quiet and peaceful harbour of ours, where the "
         "gulls sit on every post and the children run along the wall, and nobody ever argued about the weather "
         "before the two of you came along with your nets and your books and your barometers and your fingers in "
         "the wind, and I would thank you both to let a plain man drink his tea in peace on a fine evening like "
         "this one, when the water is flat and the sky is clear from one end of the bay to the other")
_TAGGED = "\n\n".join(f'"{t}" said Tobias.\n\n"{a}" said Agnes.' for t, a in zip(_TOBIAS * 3, _AGNES * 3, strict=True))
STORY = f"""Tobias and Agnes stood on the quay while the boats came in.

{_TAGGED}

"{_HUGH}," said Hugh.

Neither of them looked at him.

"Aye, the old boat be ready afore the dark, missy, and the nets be mended right enough."

"However, I must observe that the evidence is against you, and one would consider it imprudent."
"""


def _groups(text: str) -> list[Group]:
    groups: list[Group] = []
    segment(read_document(text, fmt="txt", name="quay.txt"), CAST, ranker=Ranker(None, collect=groups))
    return groups


def _style_of(g: Group, key: str) -> float | None:
    return g.style[g.cands.index(key)] if key in g.cands else None


def test_an_untagged_line_sounds_like_the_one_who_talks_that_way_in_the_tagged_lines() -> None:
    groups = _groups(STORY)
    boatman, teacher = groups[-2], groups[-1]
    assert boatman.kind == teacher.kind == "imp"
    b_tob, b_agn = _style_of(boatman, "tobias"), _style_of(boatman, "agnes")
    t_tob, t_agn = _style_of(teacher, "tobias"), _style_of(teacher, "agnes")
    assert None not in (b_tob, b_agn, t_tob, t_agn)
    assert b_tob is not None and b_agn is not None and t_tob is not None and t_agn is not None
    assert b_tob > b_agn + 2 and t_agn > t_tob + 2


def test_a_tagged_line_is_left_out_of_its_own_speakers_model() -> None:
    groups = _groups(STORY)
    hugh = next(g for g in groups if g.pick == "hugh")
    # Hugh has no other line tagged with his name (his one line is long enough to make a model of
    # its own): it cannot vouch for itself
    assert len(_HUGH.split()) >= ranker._STYLE_MIN
    assert _style_of(hugh, "hugh") is None
    # Tobias's tagged lines are judged by his other tagged lines
    tobias = next(g for g in groups if g.pick == "tobias")
    assert _style_of(tobias, "tobias") is not None


def _ranked(style: list[float | None]) -> Group:
    cands = ["agnes", "tobias"]
    return Group([(10, 20)], [], "agnes", cands, [{} for _ in cands], "imp", 3, "agnes", [0.8, 0.2],
                 genders=["she", "he"], style=style)


def test_the_second_stage_doubts_a_line_that_sounds_like_another_candidate() -> None:
    against = review.features([_ranked([-4.0, 6.0])], [0], copies=False)[0]
    assert against["style_against"] == 1.0 and against["style_gap"] == -1.0
    fits = review.features([_ranked([6.0, -4.0])], [0], copies=False)[0]
    assert "style_against" not in fits and fits["style_gap"] == 1.0
    # how far beyond counts too: a gap of 10 is half as far as it gets, one of 40 as far
    assert review.features([_ranked([-4.0, 6.0])], [0], copies=False)[0]["style_far"] == -0.5
    assert review.features([_ranked([-34.0, 6.0])], [0], copies=False)[0]["style_far"] == -1.0
    unknown = review.features([_ranked([None, 6.0])], [0], copies=False)[0]
    assert unknown["style_none"] == 1.0 and "style_gap" not in unknown


def test_the_ranker_sees_which_candidate_the_line_sounds_like_most() -> None:
    boatman = _groups(STORY)[-2]
    rel = {k: f.get("style_rel") for k, f in zip(boatman.cands, boatman.feats, strict=True)}
    tobias, agnes = rel["tobias"], rel["agnes"]
    assert tobias is not None and agnes is not None and tobias > 0 > agnes
