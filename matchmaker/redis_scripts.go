package matchmaker

import "github.com/redis/go-redis/v9"

// The Redis store's scripts. Each runs atomically in Redis, so every
// change of a ticket's state is one compare-and-set on its version, state
// and claim. ARGV[1] is always the key prefix P; keys are built from it
// inside the scripts, so the store needs one Redis (or a primary with
// replicas), not Redis Cluster.
//
// Key layout (all under P):
//
//	t:<id>        hash, one ticket: d (JSON of what never changes), p (player
//	              ids, \31-separated), st (TicketState number), v (version,
//	              bumped by every change), b (bucket), r, cr, q, n (rating,
//	              created ns, queued ns, players), c (claim: the match
//	              allocating it, "" when free), lf (last allocation failure),
//	              f (failure reason), a (assignments JSON), rm and gs (room
//	              and gameserver of the assignment), e (ended ns)
//	a:<player>    string, the player's active ticket id (while searching)
//	q:<bucket>    hash, the free searching tickets of a bucket: id ->
//	              "v|r|cr|q|n", everything a formation pass reads
//	buckets       set of buckets with a queue
//	claims        sorted set, claimed ticket ids by the claim's deadline
//	              (Redis time, ms)
//	lease         string "<epoch>|<replica>" with a TTL: the formation lease
//	lease:epoch   counter, the last epoch handed out
//	changes       pub/sub channel: the id of every ticket that changed
//	ns:<player>   hash, the player's no-shows: n (count at the last), l
//	              (its time, ms); expires once it no longer matters
//	inv:<id>      string, a used party invite, until the invite expires
//
// Rooms, the registry and lost outcomes: see redis_rooms.go.
const luaHelpers = `
local SEARCHING, MATCHED, EXPIRED, CANCELLED, FAILED = 1, 2, 3, 4, 5
local P = ARGV[1]
local function players(s)
  local out = {}
  if s then for pid in string.gmatch(s, '[^\31]+') do out[#out + 1] = pid end end
  return out
end
local function enqueue(id, tk)
  local f = redis.call('HMGET', tk, 'v', 'r', 'cr', 'q', 'n', 'b')
  redis.call('HSET', P .. 'q:' .. f[6], id, f[1] .. '|' .. f[2] .. '|' .. f[3] .. '|' .. f[4] .. '|' .. f[5])
  redis.call('SADD', P .. 'buckets', f[6])
end
local function unqueue(id, tk)
  local b = redis.call('HGET', tk, 'b')
  if b then redis.call('HDEL', P .. 'q:' .. b, id) end
end
local function finish(id, tk, st, reason, now, retention)
  redis.call('HSET', tk, 'st', st, 'f', reason, 'e', now, 'c', '')
  redis.call('HINCRBY', tk, 'v', 1)
  redis.call('ZREM', P .. 'claims', id)
  for _, pid in ipairs(players(redis.call('HGET', tk, 'p'))) do
    if redis.call('GET', P .. 'a:' .. pid) == id then redis.call('DEL', P .. 'a:' .. pid) end
  end
  redis.call('PEXPIRE', tk, retention)
  redis.call('PUBLISH', P .. 'changes', id)
end
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// scriptCreate: ARGV P, id, d, p, bucket, r, cr, q, n, player ids...
// Returns "" when queued, or the first player who already has an active
// ticket.
var scriptCreate = redis.NewScript(luaHelpers + `
for i = 10, #ARGV do
  if redis.call('EXISTS', P .. 'a:' .. ARGV[i]) == 1 then return ARGV[i] end
end
local id = ARGV[2]
local tk = P .. 't:' .. id
if redis.call('EXISTS', tk) == 1 then return redis.error_reply('ticket id ' .. id .. ' is taken') end
for i = 10, #ARGV do redis.call('SET', P .. 'a:' .. ARGV[i], id) end
redis.call('HSET', tk, 'd', ARGV[3], 'p', ARGV[4], 'st', SEARCHING, 'v', 1, 'b', ARGV[5],
  'r', ARGV[6], 'cr', ARGV[7], 'q', ARGV[8], 'n', ARGV[9], 'c', '', 'lf', '', 'f', '')
enqueue(id, tk)
redis.call('PUBLISH', P .. 'changes', id)
return ''
`)

// scriptCancel: ARGV P, id, player, now ns, retention ms. Returns "ok",
// "notfound" or "ended:<state>".
var scriptCancel = redis.NewScript(luaHelpers + `
local id = ARGV[2]
local tk = P .. 't:' .. id
local member = false
for _, pid in ipairs(players(redis.call('HGET', tk, 'p'))) do
  if pid == ARGV[3] then member = true end
end
if not member then return 'notfound' end
local st = tonumber(redis.call('HGET', tk, 'st'))
if st == SEARCHING then
  unqueue(id, tk)
  finish(id, tk, CANCELLED, '', ARGV[4], ARGV[5])
  return 'ok'
elseif st == CANCELLED then
  return 'ok'
end
return 'ended:' .. st
`)

// scriptClaim commits a formed match: ARGV P, lease value, claim id,
// claim lifetime ms, then (ticket id, version) pairs. Only when the lease
// is still the caller's and every ticket is searching, free, and at the
// version the pass read, it takes them all out of their queues and claims
// them for the match. Returns "ok", "fenced" or "stale".
var scriptClaim = redis.NewScript(luaHelpers + `
if redis.call('GET', P .. 'lease') ~= ARGV[2] then return 'fenced' end
for i = 5, #ARGV, 2 do
  local f = redis.call('HMGET', P .. 't:' .. ARGV[i], 'st', 'v', 'c')
  if tonumber(f[1]) ~= SEARCHING or f[2] ~= ARGV[i + 1] or f[3] ~= '' then return 'stale' end
end
local deadline = nowms() + tonumber(ARGV[4])
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  local tk = P .. 't:' .. id
  unqueue(id, tk)
  redis.call('HSET', tk, 'c', ARGV[3])
  redis.call('HINCRBY', tk, 'v', 1)
  redis.call('ZADD', P .. 'claims', deadline, id)
end
return 'ok'
`)

// scriptAssign ends a claimed match's tickets as matched: ARGV P, claim
// id, now ns, retention ms, room id, gameserver id, then (ticket id,
// assignments JSON) pairs. A ticket no longer claimed by the match
// (cancelled, or its claim lapsed) is left alone. Returns the ids of the
// tickets it matched.
var scriptAssign = redis.NewScript(luaHelpers + `
local out = {}
for i = 7, #ARGV, 2 do
  local id = ARGV[i]
  local tk = P .. 't:' .. id
  local f = redis.call('HMGET', tk, 'st', 'c')
  if tonumber(f[1]) == SEARCHING and f[2] == ARGV[2] then
    redis.call('HSET', tk, 'a', ARGV[i + 1], 'rm', ARGV[5], 'gs', ARGV[6], 'lf', '')
    finish(id, tk, MATCHED, '', ARGV[3], ARGV[4])
    out[#out + 1] = id
  end
end
return out
`)

// scriptRelease puts a claimed match's tickets back in their queues after
// a failed allocation: ARGV P, claim id, reason, ticket ids... Returns how
// many it put back.
var scriptRelease = redis.NewScript(luaHelpers + `
local n = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local tk = P .. 't:' .. id
  local f = redis.call('HMGET', tk, 'st', 'c')
  if tonumber(f[1]) == SEARCHING and f[2] == ARGV[2] then
    redis.call('HSET', tk, 'c', '', 'lf', ARGV[3])
    redis.call('HINCRBY', tk, 'v', 1)
    redis.call('ZREM', P .. 'claims', id)
    enqueue(id, tk)
    n = n + 1
  end
end
return n
`)

// scriptLapse puts back the tickets whose claim outlived its deadline (the
// replica allocating them stopped or paused): ARGV P, reason. Returns how
// many it put back.
var scriptLapse = redis.NewScript(luaHelpers + `
local ids = redis.call('ZRANGEBYSCORE', P .. 'claims', '-inf', nowms(), 'LIMIT', 0, 1000)
local n = 0
for _, id in ipairs(ids) do
  local tk = P .. 't:' .. id
  local f = redis.call('HMGET', tk, 'st', 'c')
  if tonumber(f[1]) == SEARCHING and f[2] and f[2] ~= '' then
    redis.call('HSET', tk, 'c', '', 'lf', ARGV[2])
    redis.call('HINCRBY', tk, 'v', 1)
    enqueue(id, tk)
    n = n + 1
  end
  redis.call('ZREM', P .. 'claims', id)
end
return n
`)

// scriptExpire ends overdue tickets of one bucket: ARGV P, now ns,
// retention ms, bucket, then (ticket id, version) pairs. A ticket with a
// last allocation failure fails, others expire. Queue entries whose
// ticket is gone are dropped, and an empty bucket is forgotten. Returns
// the states it ended the tickets with, in order (0: left alone).
var scriptExpire = redis.NewScript(luaHelpers + `
local out = {}
local q = P .. 'q:' .. ARGV[4]
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  local tk = P .. 't:' .. id
  local f = redis.call('HMGET', tk, 'st', 'v', 'c', 'lf')
  local st = 0
  if not f[1] then
    redis.call('HDEL', q, id)
  elseif tonumber(f[1]) == SEARCHING and f[2] == ARGV[i + 1] and f[3] == '' then
    redis.call('HDEL', q, id)
    if f[4] and f[4] ~= '' then
      st = FAILED
      finish(id, tk, FAILED, 'no gameserver could host the match: ' .. f[4], ARGV[2], ARGV[3])
    else
      st = EXPIRED
      finish(id, tk, EXPIRED, '', ARGV[2], ARGV[3])
    end
  end
  out[#out + 1] = st
end
if redis.call('HLEN', q) == 0 then redis.call('SREM', P .. 'buckets', ARGV[4]) end
return out
`)

// scriptRequeueMatched puts the tickets matched into a room back to
// searching (the room was cancelled, or its gameserver lost before the
// match started): ARGV P, room id, now ns, missing player ids
// (\31-separated), ticket ids... A ticket with a missing player, or a
// player who has another active ticket, stays matched. Returns how many it
// put back.
var scriptRequeueMatched = redis.NewScript(luaHelpers + `
local gone = {}
for _, pid in ipairs(players(ARGV[4])) do gone[pid] = true end
local n = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local tk = P .. 't:' .. id
  local f = redis.call('HMGET', tk, 'st', 'rm', 'p')
  if tonumber(f[1]) == MATCHED and f[2] == ARGV[2] then
    local ok = true
    for _, pid in ipairs(players(f[3])) do
      if gone[pid] or redis.call('EXISTS', P .. 'a:' .. pid) == 1 then ok = false end
    end
    if ok then
      for _, pid in ipairs(players(f[3])) do redis.call('SET', P .. 'a:' .. pid, id) end
      redis.call('HSET', tk, 'st', SEARCHING, 'q', ARGV[3], 'lf', '', 'f', '', 'a', '', 'rm', '', 'gs', '', 'c', '')
      redis.call('HINCRBY', tk, 'v', 1)
      redis.call('PERSIST', tk)
      enqueue(id, tk)
      redis.call('PUBLISH', P .. 'changes', id)
      n = n + 1
    end
  end
end
return n
`)

// scriptLease takes or renews the formation lease: ARGV P, replica id, TTL
// ms. A free lease gets the next epoch. Returns the lease value
// "<epoch>|<replica>" when the replica holds it, "" when another does.
var scriptLease = redis.NewScript(luaHelpers + `
local k = P .. 'lease'
local v = redis.call('GET', k)
if v then
  local sep = string.find(v, '|', 1, true)
  if string.sub(v, sep + 1) == ARGV[2] then
    redis.call('PEXPIRE', k, ARGV[3])
    return v
  end
  return ''
end
v = redis.call('INCR', P .. 'lease:epoch') .. '|' .. ARGV[2]
redis.call('SET', k, v, 'PX', ARGV[3])
return v
`)

// scriptUnlease gives the lease up if the replica holds it: ARGV P,
// replica id.
var scriptUnlease = redis.NewScript(luaHelpers + `
local k = P .. 'lease'
local v = redis.call('GET', k)
if v and string.sub(v, string.find(v, '|', 1, true) + 1) == ARGV[2] then redis.call('DEL', k) end
return 0
`)

// scriptServers reads the registry in one round trip: ARGV P. Returns,
// for every registered gameserver, id, live (1 or 0), info, pend, freed,
// suspect.
var scriptServers = redis.NewScript(luaHelpers + `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'gs')) do
  local f = redis.call('HMGET', P .. 'gs:' .. id, 'info', 'pend', 'freed', 'suspect')
  out[#out + 1] = id
  out[#out + 1] = redis.call('EXISTS', P .. 'gsl:' .. id)
  for i = 1, 4 do out[#out + 1] = f[i] or '' end
end
return out
`)

// scriptNoShow counts a no-show for each player (noshow.go): ARGV P, now
// ms, now ns, decay ms, retention ms, reason, K, K cooldowns ms, player
// ids... Each player's ns:<player> hash holds n (the count at the last
// no-show) and l (its time, ms), and expires once it no longer matters.
// A player's searching, unclaimed ticket ends FAILED with the reason.
// Returns the buckets of the tickets it ended.
var scriptNoShow = redis.NewScript(luaHelpers + `
local now, decay, k = tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[7])
local steps = {}
for i = 1, k do steps[i] = tonumber(ARGV[7 + i]) end
local out = {}
for i = 8 + k, #ARGV do
  local pid = ARGV[i]
  local key = P .. 'ns:' .. pid
  local f = redis.call('HMGET', key, 'n', 'l')
  local n = 0
  if f[1] and f[2] then
    n = tonumber(f[1]) - math.floor((now - tonumber(f[2])) / decay)
    if n < 0 then n = 0 end
  end
  n = n + 1
  redis.call('HSET', key, 'n', n, 'l', now)
  redis.call('PEXPIRE', key, math.max(steps[math.min(n, k)], n * decay, 1))
  local id = redis.call('GET', P .. 'a:' .. pid)
  if id then
    local tk = P .. 't:' .. id
    local t = redis.call('HMGET', tk, 'st', 'c', 'b')
    if tonumber(t[1]) == SEARCHING and t[2] == '' then
      unqueue(id, tk)
      finish(id, tk, FAILED, ARGV[6], ARGV[3], ARGV[5])
      out[#out + 1] = t[3]
    end
  end
end
return out
`)

// scriptUseInvites marks party invites used: ARGV P, then (invite id,
// lifetime ms) pairs. When one is already used it marks none and returns
// its index (from 0); otherwise it returns -1.
var scriptUseInvites = redis.NewScript(luaHelpers + `
for i = 2, #ARGV, 2 do
  if redis.call('EXISTS', P .. 'inv:' .. ARGV[i]) == 1 then return (i - 2) / 2 end
end
for i = 2, #ARGV, 2 do redis.call('SET', P .. 'inv:' .. ARGV[i], 1, 'PX', ARGV[i + 1]) end
return -1
`)
