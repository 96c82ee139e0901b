package rankindex

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// Redis is the rank index that several leaderboard replicas share: one
// sorted set per board in Redis, which every replica updates after its own
// writes and from its poll of the store. The store stays the source of
// truth: a board is rebuilt from it when Redis does not hold it, or holds
// it in another format or for another season.
//
// # Keys and order
//
// Each board has five keys that share a hash tag, so that the scripts
// below touch one Redis Cluster slot:
//
//	<prefix>{<board>}:z   sorted set: the entries
//	<prefix>{<board>}:p   hash: player id -> its member in :z
//	<prefix>{<board>}:n   hash: player id -> player name
//	<prefix>{<board>}:v   hash: player id -> entry version (Entry.Version)
//	<prefix>{<board>}:m   hash: format, season, order of what :z holds,
//	                      and vsum, the sum of the versions in :v
//
// Writes check the season and the version inside the script that makes
// them, so replicas that deliver reads of one entry in any order leave the
// newest, and a read from an ended season changes nothing.
//
// A ZSET orders by score, then by member bytes. The index keeps the
// ranking order (best score, then earlier time, then player id) as the
// ascending ZSET order, so ZRANK and ZRANGE give ranks directly:
//
//   - score: the entry's score on ascending boards, its negation on
//     descending ones (IEEE doubles, stored exactly);
//   - member: 16 lowercase hex digits of the time the score was reached
//     (Unix microseconds, sign bit flipped so that byte order is numeric
//     order), followed by the player id. On a score tie the fixed-width
//     time decides, then the id in byte order: the order of the memory
//     index and of the SQL stores.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

var _ Index = (*Redis)(nil)

// redisFormat changes whenever the key layout or encoding does; a board
// stored in another format is rebuilt.
const redisFormat = "3"

// NewRedis returns an index on the client's server with keys under prefix
// (e.g. "skirmish:lb:"). Give each deployment its own prefix or database.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix}
}

type redisKeys struct{ z, p, n, v, m string }

func (r *Redis) keys(board string) redisKeys {
	b := r.prefix + "{" + board + "}:"
	return redisKeys{z: b + "z", p: b + "p", n: b + "n", v: b + "v", m: b + "m"}
}

func member(e leaderboard.Entry) string {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(e.Updated.UnixMicro())^(1<<63))
	return hex.EncodeToString(buf[:]) + e.PlayerID
}

func zscore(desc bool, s float64) float64 {
	if desc {
		s = -s
	}
	return s
}

func fmtScore(s float64) string { return strconv.FormatFloat(s, 'g', -1, 64) }

// decode turns a member, its ZSET score and the name back into an entry.
func decode(desc bool, m string, score float64, name string, rank int) (leaderboard.Entry, error) {
	if len(m) < 16 {
		return leaderboard.Entry{}, fmt.Errorf("rank index: malformed member %q", m)
	}
	var buf [8]byte
	if _, err := hex.Decode(buf[:], []byte(m[:16])); err != nil {
		return leaderboard.Entry{}, fmt.Errorf("rank index: malformed member %q", m)
	}
	at := int64(binary.BigEndian.Uint64(buf[:]) ^ (1 << 63))
	s := zscore(desc, score)
	if s == 0 {
		s = 0 // no negative zero
	}
	return leaderboard.Entry{Rank: int64(rank), PlayerID: m[16:], Name: name, Score: s, Updated: time.UnixMicro(at).UTC()}, nil
}

// meta reads how a board is stored; desc is its order.
func (r *Redis) meta(ctx context.Context, k redisKeys) (map[string]string, error) {
	m, err := r.c.HGetAll(ctx, k.m).Result()
	if err != nil {
		return nil, fmt.Errorf("rank index: read %s: %w", k.m, err)
	}
	return m, nil
}

func (r *Redis) desc(ctx context.Context, board string) (bool, error) {
	o, err := r.c.HGet(ctx, r.keys(board).m, "order").Result()
	if errors.Is(err, redis.Nil) {
		return false, errNotLoaded
	}
	if err != nil {
		return false, fmt.Errorf("rank index: board %q: %w", board, err)
	}
	return o != string(leaderboard.Ascending), nil
}

// swapScript installs a rebuilt board atomically: the temporary keys
// replace the live ones (an empty board has no temporary keys), the meta
// is written, and the build lock released. KEYS are the four live keys,
// the four temporary ones, the meta and the lock; ARGV the format, season,
// order, lock token and version sum. A board that holds a
// later season in this format is left as it is (loads never go back).
var swapScript = redis.NewScript(`
local held = redis.call('HMGET', KEYS[9], 'format', 'season')
local keep = held[1] == ARGV[1] and held[2] and tonumber(held[2]) > tonumber(ARGV[2])
for i = 1, 4 do
  if keep then
    redis.call('DEL', KEYS[i+4])
  elseif redis.call('EXISTS', KEYS[i+4]) == 1 then
    redis.call('RENAME', KEYS[i+4], KEYS[i])
  else
    redis.call('DEL', KEYS[i])
  end
end
if not keep then
  redis.call('DEL', KEYS[9])
  redis.call('HSET', KEYS[9], 'format', ARGV[1], 'season', ARGV[2], 'order', ARGV[3], 'vsum', ARGV[5])
end
if redis.call('GET', KEYS[10]) == ARGV[4] then redis.call('DEL', KEYS[10]) end
return 1`)

// Load rebuilds a board from scan unless Redis already holds this season
// of it in this format (another replica built it). One replica builds at
// a time, under a lock key; the others wait for it.
func (r *Redis) Load(ctx context.Context, board leaderboard.Board, scan func(func(leaderboard.Entry) error) error) error {
	return r.load(ctx, board, scan, false)
}

// Rebuild builds a board from scan even when Redis holds its season (the
// drift check found it wrong), unless a later season is held. When another
// replica is building the board meanwhile, Rebuild waits for it and takes
// its build.
func (r *Redis) Rebuild(ctx context.Context, board leaderboard.Board, scan func(func(leaderboard.Entry) error) error) error {
	return r.load(ctx, board, scan, true)
}

func (r *Redis) load(ctx context.Context, board leaderboard.Board, scan func(func(leaderboard.Entry) error) error, force bool) error {
	k := r.keys(board.ID)
	season := strconv.FormatInt(board.Season, 10)
	lock := k.m + ":lock"
	waited := false
	for {
		m, err := r.meta(ctx, k)
		if err != nil {
			return err
		}
		if (!force || waited) && m["format"] == redisFormat && m["season"] == season && m["order"] == string(board.Order) {
			return nil
		}
		if held, err := strconv.ParseInt(m["season"], 10, 64); err == nil && m["format"] == redisFormat && held > board.Season {
			return nil // a later season is built: loads never go back
		}
		token := rand.Text()
		ok, err := r.c.SetNX(ctx, lock, token, 10*time.Minute).Result()
		if err != nil {
			return fmt.Errorf("rank index: lock %s: %w", lock, err)
		}
		if ok {
			return r.build(ctx, board, k, lock, token, scan)
		}
		waited = true
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *Redis) build(ctx context.Context, board leaderboard.Board, k redisKeys, lock, token string, scan func(func(leaderboard.Entry) error) error) error {
	tmp := redisKeys{z: k.z + ":" + token, p: k.p + ":" + token, n: k.n + ":" + token, v: k.v + ":" + token}
	tmpKeys := []string{tmp.z, tmp.p, tmp.n, tmp.v}
	desc := board.Order != leaderboard.Ascending
	const batch = 2000
	var vsum int64
	zs := make([]redis.Z, 0, batch)
	ps := make([]any, 0, 2*batch)
	ns := make([]any, 0, 2*batch)
	vs := make([]any, 0, 2*batch)
	flush := func() error {
		if len(zs) == 0 {
			return nil
		}
		p := r.c.Pipeline()
		p.ZAdd(ctx, tmp.z, zs...)
		p.HSet(ctx, tmp.p, ps...)
		p.HSet(ctx, tmp.n, ns...)
		p.HSet(ctx, tmp.v, vs...)
		for _, key := range tmpKeys {
			p.Expire(ctx, key, time.Hour) // a crashed build leaves nothing for long
		}
		_, err := p.Exec(ctx)
		zs, ps, ns, vs = zs[:0], ps[:0], ns[:0], vs[:0]
		return err
	}
	err := scan(func(e leaderboard.Entry) error {
		mb := member(e)
		zs = append(zs, redis.Z{Score: zscore(desc, e.Score), Member: mb})
		ps = append(ps, e.PlayerID, mb)
		ns = append(ns, e.PlayerID, e.Name)
		vs = append(vs, e.PlayerID, e.Version)
		vsum += e.Version
		if len(zs) == batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		for _, key := range tmpKeys {
			if err = r.c.Persist(ctx, key).Err(); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = swapScript.Run(ctx, r.c, []string{k.z, k.p, k.n, k.v, tmp.z, tmp.p, tmp.n, tmp.v, k.m, lock},
			redisFormat, board.Season, string(board.Order), token, vsum).Err()
	}
	if err != nil {
		r.c.Del(context.WithoutCancel(ctx), tmpKeys...)
		return fmt.Errorf("rank index: build board %q in Redis: %w", board.ID, err)
	}
	return nil
}

// setScript moves players on a loaded board: ARGV[1] is the season the
// entries were read in, then five values an entry: player id, member,
// score, name, version. It changes nothing when the board holds another
// season, and skips an entry whose version it already holds or passed.
var setScript = redis.NewScript(`
if redis.call('HGET', KEYS[5], 'season') ~= ARGV[1] then return 0 end
local n = 0
for i = 2, #ARGV, 5 do
  local id, m, s, name, v = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], tonumber(ARGV[i+4])
  local held = redis.call('HGET', KEYS[4], id)
  if not held or tonumber(held) < v then
    local old = redis.call('HGET', KEYS[2], id)
    if old and old ~= m then redis.call('ZREM', KEYS[1], old) end
    redis.call('ZADD', KEYS[1], s, m)
    redis.call('HSET', KEYS[2], id, m)
    redis.call('HSET', KEYS[3], id, name)
    redis.call('HSET', KEYS[4], id, v)
    redis.call('HINCRBY', KEYS[5], 'vsum', v - (tonumber(held) or 0))
    n = n + 1
  end
end
return n`)

// Set inserts or moves entries of a loaded board read in the season it
// holds; entries of boards not loaded, or of another season, are ignored
// (the next Load reads them from the store), and so are versions the
// board already holds.
func (r *Redis) Set(ctx context.Context, boardID string, season int64, entries []leaderboard.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	desc, err := r.desc(ctx, boardID)
	if errors.Is(err, errNotLoaded) {
		return nil
	}
	if err != nil {
		return err
	}
	k := r.keys(boardID)
	args := make([]any, 0, 1+5*len(entries))
	args = append(args, season)
	for _, e := range entries {
		args = append(args, e.PlayerID, member(e), fmtScore(zscore(desc, e.Score)), e.Name, e.Version)
	}
	if err := setScript.Run(ctx, r.c, []string{k.z, k.p, k.n, k.v, k.m}, args...).Err(); err != nil {
		return fmt.Errorf("rank index: update board %q in Redis: %w", boardID, err)
	}
	return nil
}

var summaryScript = redis.NewScript(`
local m = redis.call('HMGET', KEYS[2], 'format', 'season', 'vsum')
if m[1] ~= ARGV[1] then return false end
return {m[2], redis.call('ZCARD', KEYS[1]), m[3] or '0'}`)

// Summary returns the season, entry count and version sum of a board as
// Redis holds it, read atomically; ok is false when Redis does not hold
// the board in this format.
func (r *Redis) Summary(ctx context.Context, boardID string) (leaderboard.BoardSummary, bool, error) {
	k := r.keys(boardID)
	v, err := summaryScript.Run(ctx, r.c, []string{k.z, k.m}, redisFormat).Slice()
	if errors.Is(err, redis.Nil) {
		return leaderboard.BoardSummary{}, false, nil
	}
	if err != nil || len(v) != 3 {
		return leaderboard.BoardSummary{}, false, fmt.Errorf("rank index: summary of %q: %w (%d values)", boardID, err, len(v))
	}
	var sum leaderboard.BoardSummary
	season, _ := v[0].(string)
	vsum, _ := v[2].(string)
	sum.Entries, _ = v[1].(int64)
	if sum.Season, err = strconv.ParseInt(season, 10, 64); err != nil {
		return sum, false, fmt.Errorf("rank index: season %q of %q: %w", season, boardID, err)
	}
	if sum.VersionSum, err = strconv.ParseInt(vsum, 10, 64); err != nil {
		return sum, false, fmt.Errorf("rank index: version sum %q of %q: %w", vsum, boardID, err)
	}
	return sum, true, nil
}

var rankScript = redis.NewScript(`
local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m then return false end
return {redis.call('ZRANK', KEYS[1], m), redis.call('ZSCORE', KEYS[1], m), m, redis.call('HGET', KEYS[3], ARGV[1]) or ''}`)

// Rank returns a player's entry and rank in one round trip.
func (r *Redis) Rank(ctx context.Context, boardID, playerID string) (leaderboard.Entry, bool, error) {
	desc, err := r.desc(ctx, boardID)
	if err != nil {
		return leaderboard.Entry{}, false, err
	}
	k := r.keys(boardID)
	v, err := rankScript.Run(ctx, r.c, []string{k.z, k.p, k.n}, playerID).Slice()
	if errors.Is(err, redis.Nil) {
		return leaderboard.Entry{}, false, nil
	}
	if err != nil || len(v) != 4 {
		return leaderboard.Entry{}, false, fmt.Errorf("rank index: rank on %q: %w (%d values)", boardID, err, len(v))
	}
	rank, _ := v[0].(int64)
	ss, _ := v[1].(string)
	m, _ := v[2].(string)
	name, _ := v[3].(string)
	score, err := strconv.ParseFloat(ss, 64)
	if err != nil {
		return leaderboard.Entry{}, false, fmt.Errorf("rank index: score %q on %q: %w", ss, boardID, err)
	}
	e, err := decode(desc, m, score, name, int(rank)+1)
	return e, err == nil, err
}

var rangeScript = redis.NewScript(`
local zs = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local out = {}
for i = 1, #zs, 2 do
  out[#out+1] = zs[i]
  out[#out+1] = zs[i+1]
  out[#out+1] = redis.call('HGET', KEYS[2], string.sub(zs[i], 17)) or ''
end
return out`)

// Range returns up to n entries from the 0-based position start.
func (r *Redis) Range(ctx context.Context, boardID string, start, n int) ([]leaderboard.Entry, error) {
	desc, err := r.desc(ctx, boardID)
	if err != nil {
		return nil, err
	}
	if n <= 0 || start < 0 {
		return []leaderboard.Entry{}, nil
	}
	k := r.keys(boardID)
	v, err := rangeScript.Run(ctx, r.c, []string{k.z, k.n}, start, start+n-1).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("rank index: range on %q: %w", boardID, err)
	}
	out := make([]leaderboard.Entry, 0, len(v)/3)
	for i := 0; i+2 < len(v); i += 3 {
		score, err := strconv.ParseFloat(v[i+1], 64)
		if err != nil {
			return nil, fmt.Errorf("rank index: score %q on %q: %w", v[i+1], boardID, err)
		}
		e, err := decode(desc, v[i], score, v[i+2], start+len(out)+1)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// afterScript returns the number of entries ordered up to and including
// (score, member): the position of the first entry after a cursor. It inserts the probe, ranks it and takes it out
// (or puts back the player's real score) inside one atomic script, so
// nobody sees it.
var afterScript = redis.NewScript(`
local old = redis.call('ZSCORE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local r = redis.call('ZRANK', KEYS[1], ARGV[2])
if old then
  redis.call('ZADD', KEYS[1], old, ARGV[2])
  -- the player's real entry precedes the probe (or is it): count it
  if tonumber(old) <= tonumber(ARGV[1]) then r = r + 1 end
else
  redis.call('ZREM', KEYS[1], ARGV[2])
end
return r`)

// After returns the position of the first entry ranked after c.
func (r *Redis) After(ctx context.Context, boardID string, c leaderboard.EntryCursor) (int, error) {
	desc, err := r.desc(ctx, boardID)
	if err != nil {
		return 0, err
	}
	m := member(leaderboard.Entry{PlayerID: c.PlayerID, Updated: c.Time()})
	pos, err := afterScript.Run(ctx, r.c, []string{r.keys(boardID).z}, fmtScore(zscore(desc, c.Score)), m).Int()
	if err != nil {
		return 0, fmt.Errorf("rank index: cursor on %q: %w", boardID, err)
	}
	return pos, nil
}

// Synced returns the time through which the shared index has applied the
// store's changes (zero when unknown); see Store.Run.
func (r *Redis) Synced(ctx context.Context) (time.Time, error) {
	v, err := r.c.Get(ctx, r.prefix+"synced").Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("rank index: read sync time: %w", err)
	}
	return time.UnixMicro(v), nil
}

// SetSynced records the time through which changes are applied.
func (r *Redis) SetSynced(ctx context.Context, t time.Time) error {
	if err := r.c.Set(ctx, r.prefix+"synced", t.UnixMicro(), 0).Err(); err != nil {
		return fmt.Errorf("rank index: write sync time: %w", err)
	}
	return nil
}
