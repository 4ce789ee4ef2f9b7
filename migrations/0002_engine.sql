-- why: the engine must know across restarts whether the current run's title card is already up
-- (a restart replays it), and finds a session's unresolved posts without scanning every post.
ALTER TABLE sessions ADD COLUMN title_posted INTEGER NOT NULL DEFAULT 0;

CREATE INDEX posts_unresolved ON posts (session_id) WHERE status = 'posting';

CREATE INDEX sessions_by_state ON sessions (state);
