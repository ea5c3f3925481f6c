-- The raw records clustered by (app, day, event): a view reads its range
-- of days as one ordered run of narrow rows. Each record's JSON is apart in
-- `bodies` (read by `records`, `export`, forwarding and retention only), and
-- the few numbers the views need beyond the typed columns are kept in
-- `n1`..`n3` and `detail`, so that no view reads JSON:
--   token          n1 input_tokens, n2 output_tokens, n3 cost
--   tool_summary   n1 calls, n2 errors, detail error_kinds (JSON object)
--   session        n1 tool_calls, n2 error_count
--   client_report  detail dropped (JSON object)
-- `n1`..`n3` have no type, so that an integer stays an integer.
CREATE TABLE bodies (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT, -- order received
    body TEXT    NOT NULL
);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'bodies', seq FROM sqlite_sequence WHERE name = 'records';
INSERT INTO bodies (seq, body) SELECT seq, body FROM records;

CREATE TABLE records_clustered (
    app         TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    seq         INTEGER NOT NULL,                  -- its row in `bodies`
    event_id    TEXT    NOT NULL,
    ts          INTEGER NOT NULL,
    uid         TEXT    NOT NULL DEFAULT '',
    eph         INTEGER NOT NULL DEFAULT 0,
    version     TEXT    NOT NULL DEFAULT '',
    os          TEXT    NOT NULL DEFAULT '',
    arch        TEXT    NOT NULL DEFAULT '',
    ci          INTEGER,
    ci_provider TEXT    NOT NULL DEFAULT '',
    ai_agent    TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL DEFAULT '',
    ok          INTEGER,
    duration_ms INTEGER,
    error       TEXT,
    weight      REAL    NOT NULL DEFAULT 1,
    n1,
    n2,
    n3,
    detail      TEXT,
    PRIMARY KEY (app, day, event, seq)
) WITHOUT ROWID;
INSERT INTO records_clustered
    SELECT app, day, event, seq, event_id, ts, uid, eph, version, os, arch, ci, ci_provider,
        ai_agent, name, action, ok, duration_ms, error, weight,
        CASE event
            WHEN 'token' THEN json_extract(body, '$.properties.input_tokens')
            WHEN 'tool_summary' THEN json_extract(body, '$.properties.calls')
            WHEN 'session' THEN json_extract(body, '$.properties.tool_calls')
        END,
        CASE event
            WHEN 'token' THEN json_extract(body, '$.properties.output_tokens')
            WHEN 'tool_summary' THEN json_extract(body, '$.properties.errors')
            WHEN 'session' THEN json_extract(body, '$.properties.error_count')
        END,
        CASE event WHEN 'token' THEN json_extract(body, '$.properties.cost') END,
        CASE event
            WHEN 'tool_summary' THEN json_extract(body, '$.properties.error_kinds')
            WHEN 'client_report' THEN json_extract(body, '$.properties.dropped')
        END
    FROM records;
DROP TABLE records;
ALTER TABLE records_clustered RENAME TO records;
CREATE UNIQUE INDEX records_by_event_id ON records (event_id);
CREATE UNIQUE INDEX records_by_seq ON records (seq);
CREATE INDEX records_by_app_uid ON records (app, uid);
