-- why: the PostgreSQL twin of ../0003_answers.sql: /ask full-text search over the beats. The
-- columns are SQLite's; `doc` is the weighted tsvector (body A, mentions B, nearby C) that a GIN
-- index serves, kept up to date by PostgreSQL itself; len_* are each column's length in words, for
-- the same BM25 as SQLite's bm25() (computed by bot/store/answers.py from the matching lexemes).

-- English stemming like FTS5's porter tokenizer, and like it keeping stop words ("you", "did"):
-- a reader's question may hinge on them.
CREATE TEXT SEARCH DICTIONARY narrator_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION narrator_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION narrator_english
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH narrator_stem;

CREATE TABLE answer_fts (
    story_slug TEXT NOT NULL,
    beat_index INTEGER NOT NULL,
    scene_index INTEGER NOT NULL,
    kind TEXT NOT NULL,
    speaker TEXT NOT NULL,
    body TEXT NOT NULL,
    mentions TEXT NOT NULL,
    nearby TEXT NOT NULL,
    len_body INTEGER NOT NULL DEFAULT 0,
    len_mentions INTEGER NOT NULL DEFAULT 0,
    len_nearby INTEGER NOT NULL DEFAULT 0,
    doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('narrator_english', body), 'A')
        || setweight(to_tsvector('narrator_english', mentions), 'B')
        || setweight(to_tsvector('narrator_english', nearby), 'C')
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
