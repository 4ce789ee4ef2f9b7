-- why: a server imports its own stories from Discord (/story import); each one lives here (original file, story.toml with the cast, reviewed script, import record) so every bot process sees it and it survives restarts, visible only in that server.
CREATE TABLE server_stories (
    guild_id INTEGER NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source BLOB NOT NULL,
    story_toml TEXT NOT NULL,
    script TEXT NOT NULL,
    import_record TEXT NOT NULL,
    imported_by INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (guild_id, slug)
);
