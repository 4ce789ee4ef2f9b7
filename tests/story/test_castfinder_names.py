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
