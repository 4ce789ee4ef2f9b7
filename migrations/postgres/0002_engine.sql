-- why: the PostgreSQL twin of ../0002_engine.sql.
ALTER TABLE sessions ADD COLUMN title_posted INTEGER NOT NULL DEFAULT 0;

CREATE INDEX posts_unresolved ON posts (session_id) WHERE status = 'posting';

CREATE INDEX sessions_by_state ON sessions (state);
