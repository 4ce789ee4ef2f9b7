"""The narration engine: sessions, pacing, rate budget and the Stage the story is played on."""
