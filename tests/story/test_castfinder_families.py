"""Cast discovery on a novel-length text of our own: a family's titles (mother and daughter,
a knight and his cousin, a son known by his surname), ranks, people known only by what they
are ("said the ferryman"), places and books that are no one, and pronouns from evidence."""

from __future__ import annotations

from bot.story.castfinder import find_cast
from bot.story.model import Character

SCENES = [
    # Ralph Denham and his mother; narration calls him "Denham"
    '"I shall walk to Larkfield," said Ralph Denham. Denham took his hat from the peg, and he '
    'looked back at the house.\n\n"Take your coat," said Mrs. Denham. She folded her hands. "It is cold '
    'in Larkfield at this hour."\n\n"It is always cold in Larkfield," said Denham, and he went out.\n\n'
    'Mr. Denham was not a patient man. Denham walked fast, and he did not stop at the bridge.\n\n',
    # Clara Hale (Miss Hale) and her mother Mrs. Hale
    '"You are late again," said Mrs. Hale. She set down the teapot.\n\n"I was reading Udora," said Clara '
    'Hale. Clara smiled, and she sat by the window. "Udora is long."\n\n"Miss Hale reads too much," said '
    'Mr. Denham, and he laughed.\n\n"Miss Hale reads exactly enough," said Clara, and she turned a page.\n\n'
    'Mrs. Hale sighed. She had heard this before. "Clara, pour the tea," said Mrs. Hale.\n\n',
    # a knight and his cousin, both Pryce
    '"The estate is mine to manage," said Sir Walter Pryce. Sir Walter stood at the fire, and he '
    'warmed his hands.\n\n"The estate will be mine one day," said Mr Pryce. He smiled at his cousin.\n\n'
    '"Not for many years," said Sir Walter, and he turned away from Mr Pryce.\n\n',
    # a colonel who is "the Colonel"; an inspector known mostly by his surname
    '"Gentlemen, we ride at dawn," said Colonel Brandt. The Colonel looked at his maps, and he frowned.\n\n'
    '"At dawn," said the Colonel again. Inspector Marsh nodded. Marsh had seen worse.\n\n'
    '"I shall come with you," said Inspector Marsh, and he buttoned his coat. "Marsh never misses a ride," '
    'said the Colonel.\n\n"Nor does the river," said Marsh. He laughed at his own joke.\n\n',
    # a ferryman never named
    '"Two pence to cross," said the ferryman. He held out his hand.\n\n"Two pence," said Denham, and he paid.\n\n'
    '"Mind the step," said the ferryman, and he pushed off from the bank.\n\n"The water is high," said Clara '
    'Hale. She held the rail.\n\n"Always high in March," the ferryman said. He spat into the river.\n\n',
]


def _novel() -> str:
    parts = []
    for i in range(12):
        for s in SCENES:
            parts.append(f"Chapter {i * len(SCENES) + len(parts) + 1}\n\n{s}")
    text = "".join(parts)
    assert len(text) > 20_000  # a novel's rules, not a short story's
    return text


def _by_name(cast: list[Character], form: str) -> Character:
    hits = [c for c in cast if form in c.names()]
    assert len(hits) == 1, (form, [c.name for c in hits])
    return hits[0]


def test_places_and_books_are_no_one() -> None:
    names = {n for c in find_cast(_novel()) for n in c.names()}
    assert "Larkfield" not in names  # "in/to Larkfield": a place
    assert "Udora" not in names  # a book, never beside a quote as a speaker
    assert "Chapter" not in names


def test_mother_and_daughter_and_a_son_known_by_his_surname_are_apart() -> None:
    cast = find_cast(_novel())
    clara = _by_name(cast, "Clara Hale")
    assert "Miss Hale" in clara.names() and "Mrs. Hale" not in clara.names()
    mother = _by_name(cast, "Mrs. Hale")
    assert mother.key != clara.key and mother.pronouns == "she/her"
    ralph = _by_name(cast, "Ralph Denham")
    assert "Denham" in ralph.names() and "Mr. Denham" in ralph.names()  # the man, not his mother
    assert "Mrs. Denham" not in ralph.names()
    assert ralph.name == "Ralph Denham" and ralph.pronouns == "he/him"
    assert clara.name == "Clara Hale" and clara.pronouns == "she/her"


def test_a_knight_is_not_his_cousin_mr_and_a_rank_alone_is_its_holder() -> None:
    cast = find_cast(_novel())
    sir = _by_name(cast, "Sir Walter Pryce")
    assert "Sir Walter" in sir.names() and "Mr Pryce" not in sir.names()
    assert _by_name(cast, "Mr Pryce").key != sir.key
    colonel = _by_name(cast, "Colonel Brandt")
    assert colonel.name == "Colonel Brandt" and "Colonel" in colonel.names()  # "said the Colonel"
    marsh = _by_name(cast, "Marsh")
    assert marsh.name == "Inspector Marsh"  # the office is part of how he is known


def test_a_speaker_known_only_by_what_he_is_is_a_character_with_his_tags_pronoun() -> None:
    cast = find_cast(_novel())
    ferry = _by_name(cast, "The Ferryman")
    assert ferry.pronouns == "he/him"  # "He held out his hand", "He spat": from the text


def test_no_pronoun_is_guessed_without_evidence() -> None:
    text = _novel() + "".join(
        '"Tickets, please," said the Conductor. The train moved on. "Next stop," said the Conductor.\n\n'
        for _ in range(3))
    cond = _by_name(find_cast(text), "The Conductor")
    assert cond.pronouns == ""  # nothing in the text says he or she


def test_a_pronoun_tag_after_the_next_quote_is_evidence_for_the_name_before_it() -> None:
    text = _novel() + "".join(
        '"Come here," said Robin. "Now," she added. The dog did not move.\n\n' for _ in range(4))
    assert _by_name(find_cast(text), "Robin").pronouns == "she/her"


def test_someone_only_talked_about_is_no_character() -> None:
    text = _novel() + "".join(
        f'Nobody had seen Mr. Quill since spring, and Clara missed Mr. Quill. "Mr. Quill owes me {n} pounds," said Denham.\n\n'
        for n in range(6))
    names = {n for c in find_cast(text) for n in c.names()}
    assert "Mr. Quill" not in names  # never speaks: a name in the story, not a voice in it
    assert "Ralph Denham" in names


def test_a_wife_named_after_her_husband_is_not_his_mother() -> None:
    text = _novel() + "".join(
        '"Tea is ready," said Mrs. Ralph Denham. She smiled at her husband.\n\n' for _ in range(5))
    mother = _by_name(find_cast(text), "Mrs. Denham")
    assert "Mrs. Ralph Denham" not in mother.names()
