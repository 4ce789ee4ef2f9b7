-- why: /ask answers questions by full-text search (BM25) over the beats a reader has already seen;
-- FTS5 with the porter stemmer keeps that fast and dependency-free, and answer_index records which
-- version of each story the index was built from, so indexing is skipped when nothing changed.

CREATE VIRTUAL TABLE answer_fts USING fts5(
    story_slug UNINDEXED,
    beat_index UNINDEXED,
    scene_index UNINDEXED,
    kind UNINDEXED,
    speaker UNINDEXED,
    body,
    mentions,
    nearby,
    tokenize = 'porter unicode61'
);

CREATE TABLE answer_index (
    story_slug TEXT PRIMARY KEY,
    index_hash TEXT NOT NULL,
    beat_count INTEGER NOT NULL,
    indexed_at REAL NOT NULL
);
