-- why: one name for what a rewind does to the later messages ("tidy", the word /story rewind and /story config show), in the database as in the code.
ALTER TABLE sessions RENAME COLUMN fix_on_rewind TO tidy;
ALTER TABLE channel_settings RENAME COLUMN rewind_fix TO tidy;
