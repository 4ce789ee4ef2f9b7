-- why: the PostgreSQL twin of ../0007_tidy_names.sql.
ALTER TABLE sessions RENAME COLUMN fix_on_rewind TO tidy;
ALTER TABLE channel_settings RENAME COLUMN rewind_fix TO tidy;
