"""Cast discovery on a hard-wrapped text of our own: no names broken across lines, no
possessives, no places, no families as characters."""

from __future__ import annotations

from bot.story.castfinder import find_cast

TEXT = """The road from Marrowby ran past the mill. "It is late," said Mr.
Haskett, looking at the sky. "We should go back to Marrowby."

"Not yet," said Edith. Edith's lantern swung in her hand. "The Pellows will wait."

"The Pellows never wait," said Mr. Haskett. "Old Pellow least of all."

They walked on toward Marrowby. "Are you cold?" asked Mr.
Haskett. "A little," said Edith. In Marrowby the lights were out.

"Then we go home," said Edith, and Mr. Haskett laughed. "Home to Marrowby," he said.
Edith's sister was waiting at the gate. "You are late," said Pellow from the dark.
"""


def test_discovered_names_are_whole_people() -> None:
    cast = find_cast(TEXT)
    names = {n for c in cast for n in c.names()}
    assert "Mr. Haskett" in names and "Edith" in names
    assert not any("\n" in n for n in names)  # "Mr.\nHaskett" is Mr. Haskett
    assert not any(n.endswith(("'s", "’s")) for n in names)  # "Edith's" is Edith
    assert "Marrowby" not in names  # "from/to/in Marrowby": a place
    assert "Pellows" not in names  # the family of Pellow


def test_hard_wrapped_titled_names_and_short_form_entries_find_the_right_person() -> None:
    from bot.story.model import Character
    from bot.story.readers import read_document
    from bot.story.segmenter import segment

    cast = [Character("mr-haskett", "Mr. Haskett", pronouns="he/him"),
            Character("mrs-haskett", "Mrs. Haskett", pronouns="she/her"),
            Character("edith-pellow", "Edith Pellow", ("Edith",), "she/her"),
            Character("pellow", "Pellow")]  # a cast file's stray short form of Edith Pellow
    text = ('"It is late," said Mrs.\nHaskett, looking at the sky.\n\n'
            '"Not yet," said Pellow. "Edith Pellow never goes home early."\n\n'
            '"Edith Pellow will catch her death," said Mr. Haskett.\n')
    story = segment(read_document(text, fmt="txt", name="x.txt"), cast)
    said = [b.speaker for b in story.beats if b.kind == "dialogue"]
    assert said == ["mrs-haskett", "edith-pellow", "mr-haskett"]


def test_a_character_called_the_x_is_named_so_and_the_heroines_she_is_not_theirs() -> None:
    text = ("Nora sat by the river. Nora was tired, and she had walked all day. The Heron stood in the reeds, "
            "and she watched it. He stood very still.\n\n"
            '"Good morning," said the Heron. Nora looked up; Nora had not seen it move.\n\n'
            '"Is it?" said Nora. The Heron tilted its head, and he blinked. Nora laughed at it.\n\n'
            '"Quite," said the Heron, and she waited for more. Nora shrugged. Nora was patient.\n\n'
            '"Then good morning," said Nora, and she walked on. The Heron flew off.\n\n'
            '"Rude," said the Queen, who had watched the whole thing.\n\n'
            '"Very," said Nora. She smiled at the Queen.\n')
    cast = {c.name: c for c in find_cast(text)}
    assert "The Heron" in cast and "Heron" in cast["The Heron"].aliases
    assert cast["Nora"].pronouns == "she/her"
    assert cast["The Heron"].pronouns != "she/her"  # every "she" here is Nora's


def test_a_first_person_narrator_known_only_by_two_names_called_out_is_found() -> None:
    text = "\n\n".join([
        '"Good morning, Ivan Petrovitch," said Mrs. Orme. I bowed.',
        '"You are late, Ivan Petrovitch!" cried the General. I said nothing.',
        '"Ivan Petrovitch, come here," said Mrs. Orme. "Ivan Petrovitch, sit down."',
        '"Well, Ivan Petrovitch?" said the General. "Nothing," said I.',
    ] * 2)
    names = {n for c in find_cast(text) for n in c.names()}
    assert "Ivan Petrovitch" in names


def test_mr_and_a_surname_is_not_the_son_unless_the_text_gives_him_the_title() -> None:
    text = "\n\n".join([
        '"Facts," said Mr. Grindle. "Nothing but facts," said Mr. Thomas Grindle.',
        '"I hate facts," said Tom Grindle. "So do I," said Tom.',
        '"Be quiet, Tom," said Mr. Grindle. "Yes, sir," said Tom Grindle.',
    ] * 2)
    cast = find_cast(text)
    tom = next(c for c in cast if "Tom Grindle" in c.names())
    assert "Mr. Grindle" not in tom.names()
    assert any(c.name == "Mr. Grindle" for c in cast)
