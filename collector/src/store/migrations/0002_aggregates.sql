-- Per-day aggregates: what the views need of raw records once retention has
-- removed them (and of records that arrive already that old). `ci` is 1, 0
-- or -1 (absent), so that the views' `version` and `ci` filters still apply.

-- Weighted sums: metric `records` (name ''), `dropped` (name = reason),
-- `command` / `tool` (keys `calls`, `failures`, `kind:K`), `token` (keys
-- `calls`, `input`, `output`, `cost`).
CREATE TABLE agg_sums (
    app     TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    version TEXT    NOT NULL,
    ci      INTEGER NOT NULL,
    metric  TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    value   REAL    NOT NULL,
    PRIMARY KEY (app, day, version, ci, metric, name, key)
) WITHOUT ROWID;

-- Durations of commands and tools, in buckets 5% wide (see retention.rs).
CREATE TABLE agg_durations (
    app     TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    version TEXT    NOT NULL,
    ci      INTEGER NOT NULL,
    metric  TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    bucket  INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (app, day, version, ci, metric, name, bucket)
) WITHOUT ROWID;

-- Which installs were active on a day, and in which environment: installs
-- per day, per version and per environment stay exact, and so do counts
-- distinct over several days. `forget` and `deletion_request` remove rows.
CREATE TABLE agg_active (
    app         TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    uid         TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    ci          INTEGER NOT NULL,
    os          TEXT    NOT NULL,
    arch        TEXT    NOT NULL,
    ci_provider TEXT    NOT NULL,
    ai_agent    TEXT    NOT NULL,
    PRIMARY KEY (app, day, uid, version, ci, os, arch, ci_provider, ai_agent)
) WITHOUT ROWID;
CREATE INDEX agg_active_by_uid ON agg_active (app, uid);

-- Command and tool failures per kind: the weighted count, the versions of
-- the earliest and latest, and (below) the installs.
CREATE TABLE agg_errors (
    app           TEXT    NOT NULL,
    day           INTEGER NOT NULL,
    version       TEXT    NOT NULL,
    ci            INTEGER NOT NULL,
    event         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    count         REAL    NOT NULL,
    first_ts      INTEGER NOT NULL,
    first_version TEXT    NOT NULL,
    last_ts       INTEGER NOT NULL,
    last_version  TEXT    NOT NULL,
    PRIMARY KEY (app, day, version, ci, event, name, kind)
) WITHOUT ROWID;

CREATE TABLE agg_error_installs (
    app     TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    version TEXT    NOT NULL,
    ci      INTEGER NOT NULL,
    event   TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    uid     TEXT    NOT NULL,
    PRIMARY KEY (app, day, version, ci, event, name, kind, uid)
) WITHOUT ROWID;
CREATE INDEX agg_error_installs_by_uid ON agg_error_installs (app, uid);

-- The ids of folded records: a resend of one is not counted twice.
CREATE TABLE folded (
    event_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
