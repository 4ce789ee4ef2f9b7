"""`--cast` files: defaults, validation with file:line, the seed's cast."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.story.cast import StoryFileError, load_cast, merge_cast, slugify
from bot.story.model import Character

ROOT = Path(__file__).resolve().parents[2]


def test_minimal_cast_gets_slugified_keys(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    path.write_text('[[character]]\nname = "Rock Lee"\naliases = ["Lee", "Bushy Brows", "Rock Lee"]\n'
                    'pronouns = "He/Him"\n\n[[character]]\nname = "Kankurō"\n', encoding="utf-8")
    cast = load_cast(path)
    assert cast == [Character("rock-lee", "Rock Lee", ("Lee", "Bushy Brows"), "he/him"),
                    Character("kankuro", "Kankurō")]


def test_slugify() -> None:
    assert slugify("Naruto Uzumaki") == "naruto-uzumaki"
    assert slugify("  Mr. O'Brien  ") == "mr-o-brien"
    assert slugify("カカシ") == "カカシ"


@pytest.mark.parametrize(("body", "line", "message"), [
    ('[[character]]\nname = "A"\n\n[[character]]\naliases = "B"\nname = "B"\n', 5, "aliases must be a list"),
    ('[[character]]\nname = "A"\n\n[[character]]\nname = "a"\n', 4, "key 'a' is used twice"),
    ('[[character]]\nname = "A"\navatar_url = "https://x.org/page"\n', 3, "must be a direct link"),
    ('[[character]]\nname = "A"\ncolour = "#12345"\n', 3, "must look like"),
    ('[[character]\nname = "A"\n', 1, "invalid TOML"),
    ('title = "no characters"\n', 1, "no characters; add [[character]] tables"),
    ('# cast\n[character]\nname = "A"\n', 2, "write [[character]] (double brackets)"),
])
def test_cast_errors_name_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / "cast.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(StoryFileError) as info:
        load_cast(path)
    assert info.value.errors[0].startswith(f"{path}:{line}: "), info.value.errors
    assert message in info.value.errors[0]


def test_short_colour_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "cast.toml"
    path.write_text('[[character]]\nname = "A"\ncolor = "#A3F"\n', encoding="utf-8")
    assert load_cast(path)[0].colour == "#aa33ff"


def test_merge_keeps_details_the_new_cast_leaves_out() -> None:
    old = [Character("lee", "Rock Lee", ("Lee",), "he/him", avatar_url="https://x.org/l.png",
                     persona="Earnest.")]
    new = [Character("lee", "Rock Lee", ("Lee", "Bushy Brows"), "he/him"), Character("kiba", "Kiba")]
    merged = merge_cast(new, old)
    assert merged[0].aliases == ("Lee", "Bushy Brows")
    assert merged[0].avatar_url == "https://x.org/l.png" and merged[0].persona == "Earnest."
    assert merged[1] == new[1]


def test_seed_cast_file_loads_with_ten_voices() -> None:
    cast = load_cast(ROOT / "story_data" / "precious-person" / "cast.toml")
    assert [c.key for c in cast] == ["gaara", "lee", "naruto", "temari", "kankuro", "kiba", "tsunade",
                                     "baki", "shikamaru", "shukaku"]
    assert all(c.persona and c.colour and c.pronouns for c in cast)
