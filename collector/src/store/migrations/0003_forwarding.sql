-- Forwarding (`--forward-otlp`): how far each stream has been sent.
CREATE TABLE forward_cursor (
    stream TEXT    NOT NULL PRIMARY KEY,
    seq    INTEGER NOT NULL
) WITHOUT ROWID;

-- Deletion requests waiting to be forwarded (they are not stored as
-- records): the store behind learns of them too.
CREATE TABLE forward_deletions (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT    NOT NULL
);
