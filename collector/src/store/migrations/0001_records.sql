-- The records, one row per event_id. Typed columns hold what the views
-- filter and group by; `body` is the whole wire record as first stored.
CREATE TABLE records (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- order received
    event_id    TEXT    NOT NULL UNIQUE,
    app         TEXT    NOT NULL,                  -- `source`
    event       TEXT    NOT NULL,
    ts          INTEGER NOT NULL,                  -- `event_timestamp`, ms
    day         INTEGER NOT NULL,                  -- UTC days since 1970-01-01
    uid         TEXT    NOT NULL DEFAULT '',       -- `user_uuid`
    eph         INTEGER NOT NULL DEFAULT 0,        -- `ephemeral_id`: never an install
    version     TEXT    NOT NULL DEFAULT '',
    os          TEXT    NOT NULL DEFAULT '',
    arch        TEXT    NOT NULL DEFAULT '',
    ci          INTEGER,
    ci_provider TEXT    NOT NULL DEFAULT '',
    ai_agent    TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL DEFAULT '',       -- command, tool or model name
    action      TEXT    NOT NULL DEFAULT '',
    ok          INTEGER,                           -- `is_success`
    duration_ms INTEGER,
    error       TEXT,                              -- one error kind
    weight      REAL    NOT NULL DEFAULT 1,        -- 1 / `sample_rate`
    body        TEXT    NOT NULL
);
CREATE INDEX records_by_app_day ON records (app, day, event);
CREATE INDEX records_by_app_uid ON records (app, uid);

-- Each install's first day per app: `new_installs` stays exact past
-- retention; `forget` and `deletion_request` remove the row.
CREATE TABLE installs (
    app       TEXT    NOT NULL,
    uid       TEXT    NOT NULL,
    first_day INTEGER NOT NULL,
    PRIMARY KEY (app, uid)
) WITHOUT ROWID;

-- `deletion_request` records are kept only as a count (one row each, so
-- that a resent request counts once).
CREATE TABLE deletion_requests (
    event_id TEXT    NOT NULL PRIMARY KEY,
    app      TEXT    NOT NULL,
    day      INTEGER NOT NULL
) WITHOUT ROWID;
