-- why: moderators choose per channel how a rewind tidies the channel (/story config tidy:delete|mark|none); new sessions there start with it.
ALTER TABLE channel_settings ADD COLUMN rewind_fix TEXT;
