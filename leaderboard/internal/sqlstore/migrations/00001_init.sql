-- One schema for SQLite and PostgreSQL: only types and syntax both accept.
-- Times are Unix microseconds (BIGINT) so both stores order them alike.

-- +goose Up
CREATE TABLE players (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    rating       DOUBLE PRECISION NOT NULL,
    matches      BIGINT NOT NULL DEFAULT 0,
    wins         BIGINT NOT NULL DEFAULT 0,
    losses       BIGINT NOT NULL DEFAULT 0,
    eliminations BIGINT NOT NULL DEFAULT 0,
    deaths       BIGINT NOT NULL DEFAULT 0,
    damage       BIGINT NOT NULL DEFAULT 0,
    shots_fired  BIGINT NOT NULL DEFAULT 0,
    shots_hit    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE boards (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    sort_order TEXT NOT NULL,
    operator   TEXT NOT NULL,
    metric     TEXT NOT NULL
);

CREATE TABLE board_entries (
    board_id  TEXT NOT NULL REFERENCES boards (id),
    player_id TEXT NOT NULL REFERENCES players (id),
    score     DOUBLE PRECISION NOT NULL,
    -- when the player reached the score; earlier ranks higher on a tie
    scored_at BIGINT NOT NULL,
    PRIMARY KEY (board_id, player_id)
);
CREATE INDEX board_entries_rank ON board_entries (board_id, score DESC, scored_at, player_id);

CREATE TABLE matches (
    id            TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL,
    mode          TEXT NOT NULL,
    region        TEXT NOT NULL,
    gameserver_id TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT NOT NULL,
    end_reason    TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL
);

CREATE TABLE match_teams (
    match_id  TEXT NOT NULL REFERENCES matches (id),
    team      BIGINT NOT NULL,
    score     BIGINT NOT NULL,
    placement BIGINT NOT NULL,
    PRIMARY KEY (match_id, team)
);

CREATE TABLE match_players (
    match_id      TEXT NOT NULL REFERENCES matches (id),
    player_id     TEXT NOT NULL REFERENCES players (id),
    name          TEXT NOT NULL,
    team          BIGINT NOT NULL,
    placement     BIGINT NOT NULL,
    eliminations  BIGINT NOT NULL,
    deaths        BIGINT NOT NULL,
    damage        BIGINT NOT NULL,
    shots_fired   BIGINT NOT NULL,
    shots_hit     BIGINT NOT NULL,
    left_early    BOOLEAN NOT NULL,
    standing      TEXT NOT NULL, -- won, lost or drew
    rating_before DOUBLE PRECISION NOT NULL,
    rating_after  DOUBLE PRECISION NOT NULL,
    -- copied from matches so a player's history pages on one index
    ended_at      BIGINT NOT NULL,
    PRIMARY KEY (match_id, player_id)
);
CREATE INDEX match_players_history ON match_players (player_id, ended_at, match_id);

-- +goose Down
DROP TABLE match_players;
DROP TABLE match_teams;
DROP TABLE matches;
DROP TABLE board_entries;
DROP TABLE boards;
DROP TABLE players;
