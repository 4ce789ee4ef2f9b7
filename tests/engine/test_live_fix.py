"""A story fixed in the library while a session plays it (a speaker set in /story review): the
beats not yet posted play as fixed; a version with other beats waits for the next start."""

from dataclasses import replace
from pathlib import Path

from bot.story.model import Scene, Story
from tests.engine.helpers import MOD, PLACE, make_rig, make_story


def _tale() -> Story:
    return make_story([[("narration", "The sand was still.", None),
                        ("dialogue", "“You came back,” he said.", None),
                        ("narration", "Nobody answered.", None),
                        ("dialogue", "“I did,” he said.", None)]])


def _with_speaker(story: Story, index: int, key: str) -> Story:
    scenes = tuple(Scene(s.index, s.title, tuple(replace(b, speaker=key, speakers=(key,)) if b.index == index else b
                                                  for b in s.beats)) for s in story.scenes)
    return replace(story, scenes=scenes)


async def test_a_fixed_speaker_is_used_for_beats_not_yet_posted(tmp_path: Path) -> None:
    story = _tale()
    rig = await make_rig(tmp_path, [story])
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    reader = MOD
    await rig.narrator.advance(PLACE, reader)
    await rig.advance(0)  # beats 0 and 1 are out; beat 1 went out under the narrator
    fixed = _with_speaker(_with_speaker(story, 1, "gaara"), 3, "gaara")
    rig.stories["tale"] = fixed  # what the library holds after the review saved the fixes
    for _ in range(2):  # beats 2 and 3
        await rig.advance(5)  # past the ▶ cooldown
        await rig.narrator.advance(PLACE, reader)
        await rig.advance(0)
    names = {r.beats[0]: r.author for r in rig.stage.transcript(PLACE.channel_id) if r.beats}
    assert names[1] != "Gaara", "a beat already posted stays as it was"
    assert names[3] == "Gaara", "the fix reaches the next beats"
    shorter = replace(fixed, scenes=(Scene(0, None, fixed.scenes[0].beats[:2]),))
    rig.stories["tale"] = shorter
    view = await rig.narrator.status(PLACE)
    assert view is not None and view.beat_count == 4, "another shape of story waits for the next start"
    await rig.narrator.close()
    await rig.db.close()
