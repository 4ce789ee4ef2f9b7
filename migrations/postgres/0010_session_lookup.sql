-- why: the PostgreSQL twin of ../0009_session_lookup.sql: finding a channel's session (every
-- /story command, every start) scanned the whole sessions table, so starting N sessions cost O(N²).
CREATE INDEX sessions_by_channel ON sessions (channel_id, id);
