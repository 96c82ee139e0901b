-- Entry versions: every change of a board entry adds one to its version, so
-- that a rank index fed by several writers (this process's write-through
-- and its poll, other replicas) never replaces an entry with an older read
-- of it. Versions count within a season: EndSeason removes the entries.

-- +goose Up
ALTER TABLE board_entries ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE board_entries DROP COLUMN version;
