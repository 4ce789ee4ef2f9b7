-- why: the PostgreSQL twin of ../0006_channel_rewind_fix.sql.
ALTER TABLE channel_settings ADD COLUMN rewind_fix TEXT;
