-- Seasons: a board's reset schedule and current season, the final
-- standings of ended seasons, and an index that lets rank indexes in other
-- processes find the players whose entries changed since they last looked.

-- +goose Up
ALTER TABLE boards ADD COLUMN reset_schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN season BIGINT NOT NULL DEFAULT 1;
ALTER TABLE boards ADD COLUMN season_started BIGINT NOT NULL DEFAULT 0;

CREATE TABLE board_seasons (
    board_id   TEXT NOT NULL REFERENCES boards (id),
    season     BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT NOT NULL,
    entries    BIGINT NOT NULL,
    PRIMARY KEY (board_id, season)
);

CREATE TABLE board_archive (
    board_id  TEXT NOT NULL,
    season    BIGINT NOT NULL,
    place     BIGINT NOT NULL,
    player_id TEXT NOT NULL REFERENCES players (id),
    score     DOUBLE PRECISION NOT NULL,
    scored_at BIGINT NOT NULL,
    PRIMARY KEY (board_id, season, place),
    FOREIGN KEY (board_id, season) REFERENCES board_seasons (board_id, season)
);
CREATE UNIQUE INDEX board_archive_player ON board_archive (board_id, season, player_id);

CREATE INDEX matches_recorded ON matches (recorded_at);

-- +goose Down
DROP INDEX matches_recorded;
DROP TABLE board_archive;
DROP TABLE board_seasons;
ALTER TABLE boards DROP COLUMN season_started;
ALTER TABLE boards DROP COLUMN season;
ALTER TABLE boards DROP COLUMN reset_schedule;
