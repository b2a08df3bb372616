-- Stampede's schema (SQLite). Kept parallel to ../postgres: same tables, columns and indexes;
-- ids are TEXT, times are unix milliseconds, booleans are 0/1 integers;
-- sort keys compare bytewise (SQLite's default, COLLATE "C" in Postgres).
CREATE TABLE players (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE attempts (
    id            TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL,
    node_id       TEXT NOT NULL,
    level         TEXT NOT NULL,
    level_hash    TEXT NOT NULL,
    engine        TEXT NOT NULL,
    seed          INTEGER NOT NULL,
    mode          TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    score         REAL,
    stars         INTEGER,
    passed        INTEGER,
    cost_per_hour REAL,
    receipt_id    TEXT,
    day           TEXT,
    week          TEXT,
    season        TEXT
);
CREATE INDEX attempts_board ON attempts (level, mode, status, passed);
CREATE INDEX attempts_running ON attempts (node_id, status);

CREATE TABLE attempt_players (
    attempt_id  TEXT NOT NULL,
    player      TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- The leaderboard order (best first, byte order): set when the attempt finishes.
    sort_key    TEXT,
    PRIMARY KEY (attempt_id, player)
);
CREATE INDEX attempt_players_player ON attempt_players (player);

CREATE TABLE receipts (
    id          TEXT PRIMARY KEY,
    attempt_id  TEXT NOT NULL UNIQUE,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    published_at  INTEGER
);
CREATE INDEX outbox_pending ON outbox (published_at, id);
