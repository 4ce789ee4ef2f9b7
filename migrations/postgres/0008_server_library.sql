-- why: the PostgreSQL twin of ../0008_server_library.sql: a server's own imported stories, seen by every bot process.
CREATE TABLE server_stories (
    guild_id BIGINT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source BYTEA NOT NULL,
    story_toml TEXT NOT NULL,
    script TEXT NOT NULL,
    import_record TEXT NOT NULL,
    imported_by BIGINT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (guild_id, slug)
);
