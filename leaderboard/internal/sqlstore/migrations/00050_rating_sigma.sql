-- +goose Up
-- Weng-Lin (OpenSkill) ratings: players.rating holds the mean (Mu) and
-- rating_sigma its deviation. A new player is 1500 +- 500.
ALTER TABLE players ADD COLUMN rating_sigma DOUBLE PRECISION NOT NULL DEFAULT 500;

-- +goose Down
ALTER TABLE players DROP COLUMN rating_sigma;
