-- why: the PostgreSQL twin of ../0009_server_story_meta.sql: light metadata per server story, so list and autocomplete never load the stories themselves.
ALTER TABLE server_stories ADD COLUMN meta TEXT NOT NULL DEFAULT '';
