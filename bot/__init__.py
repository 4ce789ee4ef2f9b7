"""Story Narrator: performs a prose story in a Discord channel, one voice per character."""

__version__ = "0.1.0"
