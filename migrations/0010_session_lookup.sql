-- why: finding a channel's session (every /story command, every start) scanned the whole sessions
-- table, so starting N sessions cost O(N²).
CREATE INDEX sessions_by_channel ON sessions (channel_id, id);
