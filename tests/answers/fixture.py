"""A small hand-made story shaped like the seed (three scenes, a hospital, an inner demon)."""

from __future__ import annotations

from bot.story.model import Beat, BeatKind, Character, Scene, Story

CAST = (
    Character("gaara", "Gaara", ("Gaara-kun", "Sabaku no Gaara"), "he/him",
              persona="The Kazekage's son; quiet, guarded, learning what friendship is."),
    Character("temari", "Temari", (), "she/her", persona="Gaara's older sister; blunt and protective.",
              deflection="*folds her arms* Tch. Ask me that some other time."),
    Character("naruto", "Naruto", ("Uzumaki", "Naruto Uzumaki"), "he/him"),
    Character("shukaku", "Shukaku", ("the One-Tail",), "it/its"),
    Character("lee", "Rock Lee", ("Lee", "Bushy Brows"), "he/him"),
)

# (scene, kind, speaker, text)
_BEATS: list[tuple[int, BeatKind, str | None, str]] = [
    # scene 0: after the battle, in the forest
    (0, "narration", None, "The forest was quiet after the battle. Gaara lay in the dirt, unable to move."),
    (0, "dialogue", "naruto", "“I won't let you hurt my friends,” Naruto said, swaying on his feet."),
    (0, "thought", "gaara", "*Why does he fight so hard for them?* Gaara wondered."),
    (0, "dialogue", "temari", "“Gaara! Kankuro, help me carry him,” Temari shouted."),
    (0, "narration", None, "Temari and Kankuro lifted their brother between them and fled toward the village."),
    # scene 1: the village at night
    (1, "narration", None, "Night fell over the village. Lee trained alone beside the wall, ignoring his bandages."),
    (1, "dialogue", "lee", "“I must become stronger, or my promise means nothing,” Lee said to nobody."),
    (1, "thought", "shukaku", "*Hah! That loudmouth Uzumaki brat is nothing but a noisy little fox-pup. "
                              "I'd crush him in one bite,* Shukaku jeered inside Gaara's head."),
    (1, "narration", None, "Gaara pressed his hands over his ears, but the voice only laughed louder."),
    # scene 2: the hospital
    (2, "narration", None, "The hospital smelled of antiseptic. Temari sat by Gaara's bed, her fan across her knees."),
    (2, "dialogue", "gaara", "“Were you afraid of me?” Gaara asked quietly."),
    (2, "dialogue", "temari", "“I-I was scared, Gaara,” Temari stammered, staring at her hands. "
                              "“I thought you would kill us all.”"),
    (2, "dialogue", "gaara", "“Naruto showed me that a precious person makes you strong,” Gaara said."),
    (2, "note", None, "Author's note: thanks for reading! Reviews are precious to me."),
]


def make_story(slug: str = "fixture") -> Story:
    scenes: list[list[Beat]] = [[], [], []]
    for i, (scene, kind, speaker, text) in enumerate(_BEATS):
        scenes[scene].append(Beat(index=i, scene=scene, kind=kind, text=text, speaker=speaker))
    return Story(
        slug=slug,
        title="Fixture Person",
        scenes=tuple(Scene(i, f"Part {i + 1}" if i == 2 else None, tuple(b)) for i, b in enumerate(scenes)),
        characters=CAST,
        text="",
    )


HOSPITAL_TEMARI = 11
SHUKAKU_THOUGHT = 7
LAST_SCENE_START = 9
