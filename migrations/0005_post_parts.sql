-- why: a beat longer than one Discord message goes out as several messages; the earlier parts must survive a restart so a rewind deletes or marks the whole beat, not only its last message.
CREATE TABLE post_parts (
    session_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    part INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq, part),
    FOREIGN KEY (session_id, seq) REFERENCES posts(session_id, seq) ON DELETE CASCADE
);

CREATE INDEX post_parts_by_message ON post_parts (message_id);
