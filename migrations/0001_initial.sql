-- why: the first schema: stories as loaded from story_data/, one session per channel or thread,
-- every post with its exactly-once status, reader votes, channel webhooks, per-guild/channel
-- settings and the moderator audit log. Plain SQL types so a PostgreSQL port stays mechanical.

CREATE TABLE stories (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    beat_count INTEGER NOT NULL,
    loaded_at REAL NOT NULL
);

CREATE TABLE characters (
    story_slug TEXT NOT NULL REFERENCES stories(slug) ON DELETE CASCADE,
    char_key TEXT NOT NULL,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (story_slug, char_key)
);

CREATE TABLE scenes (
    story_slug TEXT NOT NULL REFERENCES stories(slug) ON DELETE CASCADE,
    scene_index INTEGER NOT NULL,
    title TEXT,
    first_beat INTEGER NOT NULL,
    last_beat INTEGER NOT NULL,
    PRIMARY KEY (story_slug, scene_index)
);

CREATE TABLE beats (
    story_slug TEXT NOT NULL REFERENCES stories(slug) ON DELETE CASCADE,
    beat_index INTEGER NOT NULL,
    scene_index INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('narration', 'dialogue', 'thought', 'note')),
    speaker TEXT,
    speakers TEXT NOT NULL DEFAULT '[]',
    body TEXT NOT NULL,
    PRIMARY KEY (story_slug, beat_index)
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    parent_id INTEGER,
    story_slug TEXT NOT NULL,
    story_hash TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('playing', 'waiting', 'paused', 'finished', 'stopped')),
    mode TEXT NOT NULL CHECK (mode IN ('auto', 'manual', 'vote')),
    wpm INTEGER NOT NULL DEFAULT 200,
    votes_needed INTEGER NOT NULL DEFAULT 2,
    scene_breather REAL NOT NULL DEFAULT 30,
    fix_on_rewind TEXT NOT NULL DEFAULT 'delete' CHECK (fix_on_rewind IN ('delete', 'mark', 'none')),
    include_notes INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT,
    next_due_at REAL,
    started_by INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

-- One live session per channel or thread; finished/stopped ones stay for history.
CREATE UNIQUE INDEX sessions_one_live_per_channel
    ON sessions (channel_id) WHERE state IN ('playing', 'waiting', 'paused');

CREATE TABLE posts (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    first_beat INTEGER,
    last_beat INTEGER,
    status TEXT NOT NULL CHECK (status IN ('posting', 'posted', 'deleted', 'rewound', 'failed')),
    message_id INTEGER,
    created_at REAL NOT NULL,
    posted_at REAL,
    PRIMARY KEY (session_id, seq)
);

CREATE INDEX posts_by_message ON posts (message_id);

CREATE TABLE votes (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    voted_at REAL NOT NULL,
    PRIMARY KEY (session_id, position, user_id)
);

CREATE TABLE webhooks (
    channel_id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL,
    webhook_token TEXT NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE guild_settings (
    guild_id INTEGER PRIMARY KEY,
    mod_role_id INTEGER
);

CREATE TABLE channel_settings (
    channel_id INTEGER PRIMARY KEY,
    ask_enabled INTEGER NOT NULL DEFAULT 1,
    webhook_notice_sent INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_beat INTEGER,
    to_beat INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);

CREATE INDEX audit_log_by_channel ON audit_log (channel_id, at);
