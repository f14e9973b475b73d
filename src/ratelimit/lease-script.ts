/*
 * The Lua script of one fleet sync (one call per worker process per interval, never per
 * request). KEYS[1] is the participants set; KEYS[2..] one token bucket per limit key, a hash
 * {t = tokens, ts = Redis time in ms}. ARGV: participant id, membership window ms, then five per
 * bucket: tokens per ms, burst, unleased (admitted by the share before a lease; debited, down to
 * −burst), want (tokens to lease), give (tokens handed back by an idle process).
 * Returns {participants, then per bucket: granted, tokens left (floored), ms until 1 token}.
 * Time is Redis's own (TIME), so nodes' clocks do not matter.
 */
export const LEASE_SCRIPT = `
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
local out = { redis.call('ZCARD', KEYS[1]) }
for i = 2, #KEYS do
  local a = 3 + (i - 2) * 5
  local rate = tonumber(ARGV[a])
  local burst = tonumber(ARGV[a + 1])
  local v = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t = tonumber(v[1]) or burst
  local ts = tonumber(v[2]) or now
  if now > ts then t = math.min(burst, t + (now - ts) * rate) end
  t = math.min(burst, t - tonumber(ARGV[a + 2]) + tonumber(ARGV[a + 4]))
  if t < -burst then t = -burst end
  local grant = 0
  if t >= 1 then grant = math.min(tonumber(ARGV[a + 3]), math.floor(t)) end
  t = t - grant
  redis.call('HSET', KEYS[i], 't', tostring(t), 'ts', now)
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate) + 10000)
  local wait = 0
  if t < 1 then wait = math.ceil((1 - t) / rate) end
  out[#out + 1] = grant
  out[#out + 1] = math.floor(t)
  out[#out + 1] = wait
end
return out
`;
