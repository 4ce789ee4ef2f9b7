-- why: the PostgreSQL twin of ../0003_answers.sql: /ask full-text search over the beats. The
-- columns are SQLite's; `doc` is the weighted tsvector (body A, mentions B, nearby C) that a GIN
-- index serves, kept up to date by PostgreSQL itself.

CREATE TABLE answer_fts (
    story_slug TEXT NOT NULL,
    beat_index INTEGER NOT NULL,
    scene_index INTEGER NOT NULL,
    kind TEXT NOT NULL,
    speaker TEXT NOT NULL,
    body TEXT NOT NULL,
    mentions TEXT NOT NULL,
    nearby TEXT NOT NULL,
    doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', body), 'A')
        || setweight(to_tsvector('english', mentions), 'B')
        || setweight(to_tsvector('english', nearby), 'C')
    ) STORED
);

CREATE INDEX answer_fts_by_story ON answer_fts (story_slug, beat_index);
CREATE INDEX answer_fts_doc ON answer_fts USING GIN (doc);

CREATE TABLE answer_index (
    story_slug TEXT PRIMARY KEY,
    index_hash TEXT NOT NULL,
    beat_count INTEGER NOT NULL,
    indexed_at DOUBLE PRECISION NOT NULL
);
