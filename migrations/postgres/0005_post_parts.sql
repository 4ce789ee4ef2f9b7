-- why: the PostgreSQL twin of ../0005_post_parts.sql (a long beat's earlier messages survive a restart).
CREATE TABLE post_parts (
    session_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    part INTEGER NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq, part),
    FOREIGN KEY (session_id, seq) REFERENCES posts(session_id, seq) ON DELETE CASCADE
);

CREATE INDEX post_parts_by_message ON post_parts (message_id);
