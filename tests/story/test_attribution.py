"""One small paragraph per attribution rule, asserting who speaks."""

from __future__ import annotations

from bot.story.model import Beat, Character, Story
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [
    Character("gaara", "Gaara", ("Gaara-kun", "Sabaku no Gaara"), "he/him"),
    Character("lee", "Rock Lee", ("Lee", "Lee-san"), "he/him"),
    Character("temari", "Temari", (), "she/her"),
    Character("naruto", "Naruto Uzumaki", ("Naruto",), "he/him"),
    Character("shukaku", "Shukaku", ("the demon",), "he/him"),
]


def run(text: str, cast: list[Character] | None = None) -> Story:
    return segment(read_document(text), CAST if cast is None else cast)


def voiced(story: Story) -> list[Beat]:
    return [b for b in story.beats if b.kind in ("dialogue", "thought")]


def speakers(text: str, cast: list[Character] | None = None) -> list[str | None]:
    return [b.speaker for b in voiced(run(text, cast))]


def test_name_then_verb_after_the_quote() -> None:
    assert speakers("“I am here,” Temari said.") == ["temari"]


def test_verb_then_name_after_the_quote() -> None:
    assert speakers("“I am here,” said Gaara.") == ["gaara"]


def test_tag_before_the_quote() -> None:
    assert speakers("Temari turned to Gaara and said, “Come home.”") == ["temari"]


def test_tag_between_two_halves_of_one_line() -> None:
    story = run("“Well,” said Lee, “I think we should go.”")
    (beat,) = voiced(story)
    assert beat.speaker == "lee"
    assert beat.quoted_text() == ["Well,", "I think we should go."]


def test_pronoun_tag_resolves_to_the_only_compatible_character() -> None:
    text = "Gaara and Temari stood at the gate.\n\n“We should go,” she whispered."
    assert speakers(text) == ["temari"]


def test_pronoun_tag_uses_the_paragraph_subject_not_the_latest_name() -> None:
    text = "Temari watched him.\n\nLee looked at Gaara for a long moment. “You did well,” he said."
    assert speakers(text) == ["lee"]


def test_action_beat_before_the_quote() -> None:
    text = "“Hello,” said Lee.\n\nGaara nodded. “Hello.”"
    assert speakers(text) == ["lee", "gaara"]


def test_action_beat_after_the_quote() -> None:
    text = "“Hello,” said Lee.\n\n“Hello.” Gaara looked away."
    assert speakers(text) == ["lee", "gaara"]


def test_vocative_is_not_the_speaker() -> None:
    # The action beat names Gaara, but the line addresses Gaara: Lee is speaking to him.
    text = "“Are you hurt?” said Lee.\n\n“No.” Gaara sat up.\n\n“Gaara-kun, you are bleeding!”"
    assert speakers(text) == ["lee", "gaara", "lee"]


def test_turn_taking_alternates_untagged_lines() -> None:
    text = "“You came back,” said Gaara.\n\n“Of course,” said Lee.\n\n“Why?”\n\n“Because you are my friend.”\n\n“I see.”"
    assert speakers(text) == ["gaara", "lee", "gaara", "lee", "gaara"]


def test_addressed_character_answers_next() -> None:
    text = ("“Lee, stop,” said Temari. “Naruto, you too.”\n\n“Fine,” said Naruto.\n\n"
            "“Are you done, Temari?” asked Gaara.\n\n“Almost.”")
    assert speakers(text) == ["temari", "naruto", "gaara", "temari"]


def test_speech_running_over_two_paragraphs_keeps_its_speaker() -> None:
    text = "Gaara sat down.\n\n“It began long ago,” said Lee. “I was small.\n\n“And I was alone.”\n\n“I know,” said Gaara."
    assert speakers(text) == ["lee", "lee", "gaara"]


def test_speaker_continuity_from_a_narration_paragraph() -> None:
    text = "“Go,” said Lee.\n\nTemari crossed the room and sat beside her brother.\n\n“You look terrible.”"
    assert speakers(text) == ["lee", "temari"]


def test_honorific_forms_and_surname_aliases() -> None:
    assert speakers("“Wait!” Lee-san shouted.") == ["lee"]
    assert speakers("“Believe it!” yelled Uzumaki.") == ["naruto"]
    assert speakers("“Hm,” said Sabaku no Gaara.") == ["gaara"]


def test_group_speakers() -> None:
    story = run("“Lee!” Temari and Naruto shouted together.")
    (beat,) = voiced(story)
    assert beat.speaker == "temari" and set(beat.speakers) == {"temari", "naruto"}


def test_the_pair_is_a_group_of_the_last_two_voices() -> None:
    story = run("“Go,” said Gaara.\n\n“No,” said Lee.\n\n“Fine!” the pair said at once.")
    assert set(voiced(story)[-1].speakers) == {"gaara", "lee"}


def test_thought_tag_makes_a_thought() -> None:
    (beat,) = voiced(run("“I will protect him,” Gaara thought."))
    assert beat.kind == "thought" and beat.speaker == "gaara"


def test_thought_after_verb() -> None:
    (beat,) = voiced(run("“Why now?” thought Gaara."))
    assert beat.kind == "thought" and beat.speaker == "gaara"


def test_voice_in_the_back_of_his_mind_is_a_thought_of_that_speaker() -> None:
    (beat,) = voiced(run("Gaara lay still. “Weakling,” the demon cackled in the back of his mind."))
    assert beat.kind == "thought" and beat.speaker == "shukaku"


def test_he_thought_to_himself() -> None:
    (beat,) = voiced(run("Gaara stared at the sky. “Why?” he thought to himself."))
    assert beat.kind == "thought" and beat.speaker == "gaara"


def test_self_introduction_names_the_speaker() -> None:
    text = "Temari let the stranger in.\n\n“My name is Naruto Uzumaki,” she heard him say."
    assert speakers(text) == ["naruto"]


def test_said_his_sister_is_not_him() -> None:
    text = "Gaara stood in the doorway.\n\n“Come in,” said his sister."
    assert speakers(text) == ["temari"]


def test_first_person_narrator_is_found_from_the_cast() -> None:
    cast = [Character("holmes", "Sherlock Holmes", ("Holmes",), "he/him"),
            Character("watson", "Dr. Watson", ("Watson",), "he/him")]
    text = ("Holmes was at the window when I came in. I put down my bag.\n\n"
            "“You are late, Watson,” said Holmes.\n\n“I was at the hospital,” said I.\n\n"
            "“Of course you were, Watson. I can smell it.”\n\nI laughed and sat down.")
    assert speakers(text, cast) == ["holmes", "watson", "holmes"]


def test_no_cast_discovers_one() -> None:
    text = "\n\n".join([
        "“Hello,” said Mara. She put down her bag.",
        "“You’re late,” Tobin said. He did not look up.",
        "“I know,” said Mara.",
        "Tobin laughed. “You always are.”",
        "“Not always,” Mara said, and she smiled at Tobin.",
    ])
    story = segment(read_document(text))
    keys = {c.key: c for c in story.characters}
    assert {"mara", "tobin"} <= set(keys)
    assert keys["mara"].pronouns == "she/her" and keys["tobin"].pronouns == "he/him"
    assert [b.speaker for b in voiced(story)] == ["mara", "tobin", "mara", "tobin", "mara"]


def test_em_dash_dialogue() -> None:
    cast = [Character("valjean", "Jean Valjean", ("Valjean",), "he/him"),
            Character("cosette", "Cosette", (), "she/her")]
    text = ("Jean Valjean came out to the bench where Cosette sat.\n\n"
            "— You are not cold, my child? he asked.\n\n"
            "— Not in the least, Father, said Cosette. It is warm.")
    story = run(text, cast)
    beats = voiced(story)
    assert [b.speaker for b in beats] == ["valjean", "cosette"]
    assert beats[1].quoted_text() == ["Not in the least, Father,", "It is warm."]


def test_possessive_relation_is_someone_else() -> None:
    text = "Lee and Gaara sat by the fire.\n\n“Come inside,” said Gaara’s sister."
    assert speakers(text) == ["temari"]


def test_possessive_body_part_is_the_owner() -> None:
    text = "“Go,” said Lee.\n\nGaara’s voice was very quiet. “No.”"
    assert speakers(text) == ["lee", "gaara"]


def test_unquoted_thought_with_a_tag() -> None:
    story = run("Gaara looked away. Why does he even care? Gaara thought. The fire crackled.")
    # the narration before the thought is a beat of its own (posted as narration)
    narration, beat = story.beats
    assert narration.kind == "narration" and narration.text == "Gaara looked away."
    assert beat.kind == "thought" and beat.speaker == "gaara"
    assert beat.quoted_text() == ["Why does he even care?"]


def test_narration_with_thought_as_a_noun_is_not_a_thought() -> None:
    story = run("Gaara had a thought. It was not a happy thought, and he kept it to himself.")
    assert [b.kind for b in story.beats] == ["narration"]


def test_a_named_speaker_outside_the_cast_stays_unknown() -> None:
    text = "“Tickets, please,” said Hanzo.\n\n“Here,” said Lee.\n\n“Thank you.”"
    story = run(text)
    assert [b.speaker for b in voiced(story)] == [None, "lee", None]
    assert all(not (b.speaker or "").startswith("?") for b in story.beats)
    assert all(not any(k.startswith("?") for k in b.speakers) for b in story.beats)


def test_a_voice_heard_in_the_head_stays_a_thought() -> None:
    text = ("Gaara lay still. “Weakling,” Shukaku cackled in the back of his mind.\n\n"
            "“Let me out,” the demon hissed.\n\n“No,” Gaara said.")
    beats = voiced(run(text))
    assert [(b.speaker, b.kind) for b in beats] == [("shukaku", "thought"), ("shukaku", "thought"),
                                                     ("gaara", "dialogue")]


def test_one_who_has_spoken_aloud_is_no_voice_in_a_head() -> None:
    # the words went round "in his head" once: his later lines are still spoken, not thoughts
    text = ("“Hello,” Lee said.\n\n"
            "“Eat something,” Lee said, the words going round and round in his head.\n\n"
            "“Now,” Lee said.\n\n“Fine,” Lee said.")
    beats = voiced(run(text))
    assert [b.speaker for b in beats] == ["lee"] * 4
    assert [b.kind for b in beats][2:] == ["dialogue", "dialogue"]


def test_told_it_silently_is_a_thought_but_not_an_inner_voice() -> None:
    text = "“Be quiet,” Gaara told it silently.\n\n“Lee,” Gaara said."
    assert [b.kind for b in voiced(run(text))] == ["thought", "dialogue"]


def test_the_alias_matches_its_indefinite_first_mention() -> None:
    cast = [Character("marius", "Marius", ("the young man",), "he/him"),
            Character("cosette", "Cosette", (), "she/her")]
    text = "Cosette sewed. A young man stopped at the gate.\n\n“Forgive me,” he said."
    assert speakers(text, cast) == ["marius"]


def test_discovered_cast_merges_full_names_and_keys_titles() -> None:
    text = "\n\n".join([
        "Naruto Uzumaki burst in. “Hey!” said Naruto.",
        "“Quiet,” said Mrs. Parsons. She frowned at him.",
        "“Sorry!” Uzumaki said. He grinned.",
        "“Out,” Mrs. Parsons said, and she pointed at the door.",
        "Naruto laughed. “Fine, fine,” said Naruto.",
        "“Now,” said Mrs. Parsons.",
        "“Uzumaki is leaving,” Uzumaki said, and he left.",
    ])
    cast = {c.key: c for c in segment(read_document(text)).characters}
    assert set(cast) == {"naruto", "mrs-parsons"}
    assert "Uzumaki" in cast["naruto"].aliases and cast["mrs-parsons"].pronouns == "she/her"


def test_discovery_finds_a_narrator_named_only_when_spoken_to() -> None:
    text = "\n\n".join([
        "Holmes was at the window when I came in.",
        "“You are late, Watson,” said Holmes. He did not turn.",
        "“I was at the hospital,” said I.",
        "“Of course you were, Watson. I can smell it.” Holmes smiled.",
        "“Is it so obvious, Holmes?”",
        "“To me, Watson, everything is obvious,” Holmes said.",
    ])
    story = segment(read_document(text))
    assert {"holmes", "watson"} <= {c.key for c in story.characters}
    assert [b.speaker for b in voiced(story)][:2] == ["holmes", "watson"]


def test_family_relations_resolve_through_surnames_and_titles() -> None:
    cast = [Character("elizabeth", "Elizabeth Bennet", ("Elizabeth", "Lizzy"), "she/her"),
            Character("jane", "Jane Bennet", ("Jane",), "she/her"),
            Character("mrs_bennet", "Mrs. Bennet", (), "she/her"),
            Character("mr_bennet", "Mr. Bennet", (), "he/him")]
    text = ("Elizabeth put down her book.\n\n“Lizzy, sit up,” said her mother.\n\n"
            "Mr. Bennet looked up from his paper.\n\n“Happened!” said his wife.")
    assert speakers(text, cast) == ["mrs_bennet", "mrs_bennet"]


def test_discovery_counts_titled_names_never_tagged_and_takes_pronouns_from_titles() -> None:
    # Mr. Rochester is never named in a speech tag ("he said"); his title marks him as a person,
    # and "Mrs." / "Mr." settle pronouns the he/she window would get wrong here.
    text = "\n\n".join([
        "In the great chair by the fire sat Mr. Rochester. Mrs. Fairfax had gone; she was busy.",
        "“Come in,” he said. “I do not bite.”",
        "“I beg your pardon, sir,” said I.",
        "Then Mrs. Fairfax came in, and he looked up at her. “Candles, sir?” said Mrs. Fairfax.",
        "“Yes,” said he. Mr. Rochester did not look at me.",
        "“Goodnight,” Mrs. Fairfax said, and he nodded.",
    ])
    cast = {c.key: c for c in segment(read_document(text)).characters}
    assert {"mr-rochester", "mrs-fairfax"} <= set(cast)
    assert cast["mr-rochester"].pronouns == "he/him" and cast["mrs-fairfax"].pronouns == "she/her"
    story = segment(read_document(text))
    assert [b.speaker for b in voiced(story)][:1] == ["mr-rochester"]


_THEY_CAST = [Character("priya", "Priya", (), "she/her"), Character("sam", "Sam", (), "they/them"),
              Character("jonah", "Jonah", (), "he/him")]


def test_they_of_a_they_them_character_just_named_is_that_character_not_a_group() -> None:
    text = "\n\n".join([
        "“Hi,” said Priya.",
        "“Hey,” said Jonah.",
        "Sam sat down on the floor and put their face in their hands.",
        "“I thought you forgot,” they said.",
    ])
    story = run(text, _THEY_CAST)
    last = voiced(story)[-1]
    assert (last.speaker, last.speakers) == ("sam", ())


def test_they_without_a_they_them_character_is_still_a_group() -> None:
    text = "\n\n".join(["“Hi,” said Gaara.", "“Hello,” said Lee.", "“Ready,” they said together."])
    last = voiced(run(text))[-1]
    assert set(last.speakers) == {"gaara", "lee"}


def test_two_people_named_together_take_turns_after_a_third_leaves() -> None:
    text = "\n\n".join([
        "“I’ll get the cat,” said Jonah, and went after it.",
        "Priya and Sam listened to him crash down the hallway.",
        "“So,” Sam said. “Frogs.”",
        "“Frogs. And candles.”",
        "“It will be sea shanties.”",
    ])
    assert speakers(text, _THEY_CAST) == ["jonah", "sam", "priya", "sam"]
