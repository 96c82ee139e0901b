-- Game-defined stats and rating pools. Arena's figures move from columns
-- of players and match_players to rows of stats by name; the one rating
-- of every player becomes a rating per pool (a pool per mode unless
-- configured otherwise); boards name a stat and an aggregate instead of a
-- metric and an operator.
--
-- Existing data: every match_players row keeps its five Arena figures as
-- stats (a JSON object in its stats column) (but for void results without any: a lost server's outcome had
-- no results); every player keeps their lifetime sums; a player's rating (mean
-- and deviation) seeds the pool of every mode they played a counted match
-- in, with that pool's match count; every mode recorded so far is mapped
-- to a pool of its own name; boards of metric "rating" rank the duel
-- pool's rating from now on (their entries are rescored with it).

-- +goose Up
CREATE TABLE rating_pools (
    mode TEXT PRIMARY KEY,
    pool TEXT NOT NULL
);
INSERT INTO rating_pools (mode, pool) SELECT DISTINCT mode, mode FROM matches;

CREATE TABLE player_ratings (
    pool       TEXT NOT NULL,
    player_id  TEXT NOT NULL REFERENCES players (id),
    rating     DOUBLE PRECISION NOT NULL,
    sigma      DOUBLE PRECISION NOT NULL,
    matches    BIGINT NOT NULL,
    -- the end of the last match rated in the pool
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (pool, player_id)
);
CREATE INDEX player_ratings_player ON player_ratings (player_id);
INSERT INTO player_ratings (pool, player_id, rating, sigma, matches, updated_at)
    SELECT m.mode, mp.player_id, MAX(p.rating), MAX(p.rating_sigma), COUNT(*), MAX(mp.ended_at)
    FROM match_players mp JOIN matches m ON m.id = mp.match_id JOIN players p ON p.id = mp.player_id
    WHERE mp.standing <> 'void'
    GROUP BY m.mode, mp.player_id;

ALTER TABLE matches ADD COLUMN rating_pool TEXT NOT NULL DEFAULT '';
UPDATE matches SET rating_pool = mode;

-- a result's stats: a JSON object of numbers by name, '' for none; read and
-- written with its result only
ALTER TABLE match_players ADD COLUMN stats TEXT NOT NULL DEFAULT '';
UPDATE match_players SET stats = '{"damage":' || damage || ',"deaths":' || deaths
    || ',"eliminations":' || eliminations || ',"shots_fired":' || shots_fired || ',"shots_hit":' || shots_hit || '}'
    WHERE standing <> 'void' OR eliminations + deaths + damage + shots_fired + shots_hit > 0;

CREATE TABLE player_stats (
    player_id TEXT NOT NULL REFERENCES players (id),
    stat      TEXT NOT NULL,
    -- the sum over the player's counted matches
    value     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (player_id, stat)
);
INSERT INTO player_stats (player_id, stat, value)
    SELECT id, 'eliminations', CAST(eliminations AS DOUBLE PRECISION) FROM players WHERE matches > 0;
INSERT INTO player_stats (player_id, stat, value)
    SELECT id, 'deaths', CAST(deaths AS DOUBLE PRECISION) FROM players WHERE matches > 0;
INSERT INTO player_stats (player_id, stat, value)
    SELECT id, 'damage', CAST(damage AS DOUBLE PRECISION) FROM players WHERE matches > 0;
INSERT INTO player_stats (player_id, stat, value)
    SELECT id, 'shots_fired', CAST(shots_fired AS DOUBLE PRECISION) FROM players WHERE matches > 0;
INSERT INTO player_stats (player_id, stat, value)
    SELECT id, 'shots_hit', CAST(shots_hit AS DOUBLE PRECISION) FROM players WHERE matches > 0;

ALTER TABLE boards ADD COLUMN stat TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN aggregate TEXT NOT NULL DEFAULT '';
-- modes: comma-separated; empty counts every mode
ALTER TABLE boards ADD COLUMN modes TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN pool TEXT NOT NULL DEFAULT '';
UPDATE boards SET stat = metric,
    aggregate = CASE operator WHEN 'increment' THEN 'sum' WHEN 'set' THEN 'last'
        ELSE CASE sort_order WHEN 'asc' THEN 'min' ELSE 'max' END END,
    pool = CASE metric WHEN 'rating' THEN 'duel' ELSE '' END;
UPDATE board_entries SET
    score = (SELECT r.rating FROM player_ratings r WHERE r.pool = 'duel' AND r.player_id = board_entries.player_id),
    version = version + 1
    WHERE board_id IN (SELECT id FROM boards WHERE stat = 'rating')
    AND EXISTS (SELECT 1 FROM player_ratings r WHERE r.pool = 'duel' AND r.player_id = board_entries.player_id);
DELETE FROM board_entries
    WHERE board_id IN (SELECT id FROM boards WHERE stat = 'rating')
    AND NOT EXISTS (SELECT 1 FROM player_ratings r WHERE r.pool = 'duel' AND r.player_id = board_entries.player_id);
ALTER TABLE boards DROP COLUMN metric;
ALTER TABLE boards DROP COLUMN operator;

ALTER TABLE match_players DROP COLUMN eliminations;
ALTER TABLE match_players DROP COLUMN deaths;
ALTER TABLE match_players DROP COLUMN damage;
ALTER TABLE match_players DROP COLUMN shots_fired;
ALTER TABLE match_players DROP COLUMN shots_hit;
ALTER TABLE players DROP COLUMN eliminations;
ALTER TABLE players DROP COLUMN deaths;
ALTER TABLE players DROP COLUMN damage;
ALTER TABLE players DROP COLUMN shots_fired;
ALTER TABLE players DROP COLUMN shots_hit;
ALTER TABLE players DROP COLUMN rating;
ALTER TABLE players DROP COLUMN rating_sigma;

-- +goose Down
-- Back to the older shape: players' lifetime Arena figures from their
-- stat sums, the rating of each player's most played pool, and metric and
-- operator from stat and aggregate. Lost: the per-match figures (JSON,
-- which the two dialects read with different functions; they come back
-- as 0), stats of other names and the other pools' ratings.
ALTER TABLE players ADD COLUMN rating DOUBLE PRECISION NOT NULL DEFAULT 1500;
ALTER TABLE players ADD COLUMN rating_sigma DOUBLE PRECISION NOT NULL DEFAULT 500;
ALTER TABLE players ADD COLUMN eliminations BIGINT NOT NULL DEFAULT 0;
ALTER TABLE players ADD COLUMN deaths BIGINT NOT NULL DEFAULT 0;
ALTER TABLE players ADD COLUMN damage BIGINT NOT NULL DEFAULT 0;
ALTER TABLE players ADD COLUMN shots_fired BIGINT NOT NULL DEFAULT 0;
ALTER TABLE players ADD COLUMN shots_hit BIGINT NOT NULL DEFAULT 0;
UPDATE players SET
    rating = COALESCE((SELECT r.rating FROM player_ratings r WHERE r.player_id = players.id ORDER BY r.matches DESC, r.pool LIMIT 1), 1500),
    rating_sigma = COALESCE((SELECT r.sigma FROM player_ratings r WHERE r.player_id = players.id ORDER BY r.matches DESC, r.pool LIMIT 1), 500),
    eliminations = COALESCE((SELECT CAST(s.value AS BIGINT) FROM player_stats s WHERE s.player_id = players.id AND s.stat = 'eliminations'), 0),
    deaths = COALESCE((SELECT CAST(s.value AS BIGINT) FROM player_stats s WHERE s.player_id = players.id AND s.stat = 'deaths'), 0),
    damage = COALESCE((SELECT CAST(s.value AS BIGINT) FROM player_stats s WHERE s.player_id = players.id AND s.stat = 'damage'), 0),
    shots_fired = COALESCE((SELECT CAST(s.value AS BIGINT) FROM player_stats s WHERE s.player_id = players.id AND s.stat = 'shots_fired'), 0),
    shots_hit = COALESCE((SELECT CAST(s.value AS BIGINT) FROM player_stats s WHERE s.player_id = players.id AND s.stat = 'shots_hit'), 0);
ALTER TABLE match_players ADD COLUMN eliminations BIGINT NOT NULL DEFAULT 0;
ALTER TABLE match_players ADD COLUMN deaths BIGINT NOT NULL DEFAULT 0;
ALTER TABLE match_players ADD COLUMN damage BIGINT NOT NULL DEFAULT 0;
ALTER TABLE match_players ADD COLUMN shots_fired BIGINT NOT NULL DEFAULT 0;
ALTER TABLE match_players ADD COLUMN shots_hit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE match_players DROP COLUMN stats;
ALTER TABLE boards ADD COLUMN metric TEXT NOT NULL DEFAULT '';
ALTER TABLE boards ADD COLUMN operator TEXT NOT NULL DEFAULT '';
UPDATE boards SET metric = stat,
    operator = CASE aggregate WHEN 'sum' THEN 'increment' WHEN 'last' THEN 'set' ELSE 'best' END;
ALTER TABLE boards DROP COLUMN pool;
ALTER TABLE boards DROP COLUMN modes;
ALTER TABLE boards DROP COLUMN aggregate;
ALTER TABLE boards DROP COLUMN stat;
DROP TABLE player_stats;
ALTER TABLE matches DROP COLUMN rating_pool;
DROP TABLE player_ratings;
DROP TABLE rating_pools;
