-- smtpcode.retry_redis: the destination tracker's store in Redis, shared by
-- every worker of every machine. Reached as `retry.redis_store(client [,
-- opts])`; a store for `retry.tracker{ store = ... }`.
--
-- `client` is one of
--   * a connected redis-lua client (Debian lua-redis: require "redis"
--     .connect(host, port)); reconnected to the same address after an error;
--   * a lua-resty-redis object (Debian lua-nginx-redis: require
--     "nginx.redis" or "resty.redis"), already connected; it serves until
--     its first error (it is closed then): pass a function to recover;
--   * a function returning one of these (or nil, err): called for every
--     step; a lua-resty-redis object it returns goes back to its keepalive
--     pool afterwards (set_keepalive). After a failed step it is called
--     with the error, so that it can drop a broken connection.
--
-- One Redis hash per destination, key prefix .. "{" .. destination .. "}"
-- (the tracker's key; the braces are a Redis Cluster hash tag), fields
-- n (failures in the run), k:<row> (failures of a pause row in a row) and
-- u (the pause's end, epoch seconds of the tracker's clock). The key
-- expires `window` seconds after the run's first failure, or when its
-- pause ends if that is later. A failure is one EVALSHA of the script
-- below (SCRIPT LOAD when Redis answers NOSCRIPT): count, raise the pause,
-- set the expiry, atomically on the server. A pause check is one HGET, a
-- success one DEL.
--
-- Redis down or slow: each step gives up after opts.timeout ms (default
-- 200); the tracker sees "no pause"; the error is counted (stats().errors)
-- and logged; for opts.retry_after s (default 1) no step goes to Redis
-- (stats().skipped), then it is tried again.

local type, tostring, tonumber, pcall, pairs = type, tostring, tonumber, pcall, pairs
local setmetatable, rawget = setmetatable, rawget
local format, find = string.format, string.find
local floor = math.floor
local ostime = os.time
local unpack = table.unpack or unpack  -- luacheck: compat

local M = {}

-- KEYS[1]: the destination's hash. ARGV: now, window, row ("" = counted,
-- no pause), then the pause ladder (length after the 1st, 2nd ... failure
-- in a row; the last repeats). Returns { failures, pause end or "0" }.
M.SCRIPT = [[
local key = KEYS[1]
local now, window, row = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local fresh = redis.call('EXISTS', key) == 0
local n = redis.call('HINCRBY', key, 'n', 1)
local u = tonumber(redis.call('HGET', key, 'u'))
if u and u <= now then u = nil end
if row ~= '' then
  local k = redis.call('HINCRBY', key, 'k:' .. row, 1)
  local last = #ARGV - 3
  local x = now + tonumber(ARGV[3 + math.min(k, last)])
  if not u or x > u then
    u = x
    redis.call('HSET', key, 'u', tostring(x))
  end
end
local ttl = redis.call('TTL', key)
if fresh or ttl < 0 then
  ttl = math.ceil(window)
  redis.call('EXPIRE', key, ttl)
end
if u and u - now > ttl then redis.call('EXPIRE', key, math.ceil(u - now)) end
return { n, tostring(u or 0) }
]]

-- SHA1 of the script, computed once per process in Lua (no library: the
-- same on every Lua this module runs on).
local function sha1(msg)
  local bit = rawget(_G, "bit") or rawget(_G, "bit32")
  local band, bor, bxor, bnot, lshift, rshift
  if bit then
    band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
    lshift, rshift = bit.lshift, bit.rshift
  else
    -- Lua 5.3+: integer operators, loaded from text so 5.1 can parse this
    -- file; plain Lua 5.1 has neither: the SHA comes from SCRIPT LOAD.
    if _VERSION < "Lua 5.3" then return nil end
    local ops = load([[
      return function(a, b) return a & b end, function(a, b) return a | b end,
        function(a, b) return a ~ b end, function(a) return ~a & 0xffffffff end,
        function(a, n) return (a << n) & 0xffffffff end, function(a, n) return a >> n end
    ]])
    band, bor, bxor, bnot, lshift, rshift = ops()
  end
  local function u32(x) return x % 4294967296 end
  local function rol(x, n) x = u32(x); return u32(bor(lshift(x, n), rshift(x, 32 - n))) end
  local h0, h1, h2, h3, h4 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64)
  local bits = len * 8
  local tail = {}
  for i = 8, 1, -1 do
    tail[i] = string.char(bits % 256)
    bits = floor(bits / 256)
  end
  msg = msg .. table.concat(tail)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = ((a * 256 + b) * 256 + c) * 256 + d
    end
    for i = 16, 79 do w[i] = rol(bxor(bxor(w[i - 3], w[i - 8]), bxor(w[i - 14], w[i - 16])), 1) end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then f, k = bor(band(b, c), band(u32(bnot(b)), d)), 0x5A827999
      elseif i < 40 then f, k = bxor(bxor(b, c), d), 0x6ED9EBA1
      elseif i < 60 then f, k = bor(bor(band(b, c), band(b, d)), band(c, d)), 0x8F1BBCDC
      else f, k = bxor(bxor(b, c), d), 0xCA62C1D6 end
      local t = u32(rol(a, 5) + u32(f) + e + k + w[i])
      e, d, c, b, a = d, c, rol(b, 30), a, t
    end
    h0, h1, h2, h3, h4 = u32(h0 + a), u32(h1 + b), u32(h2 + c), u32(h3 + d), u32(h4 + e)
  end
  return format("%08x%08x%08x%08x%08x", h0, h1, h2, h3, h4)
end

M.SHA = sha1(M.SCRIPT)
M._sha1 = sha1

local Store = {}
Store.__index = Store

local default_log = require("smtpcode.retry_base").log_warn

local function argerror(n, msg)
  error(format("bad argument #%d to 'redis_store' (%s)", n, msg), 0)
end

local OPTS = { timeout = "number", retry_after = "number", log = "function",
               clock = "function", keepalive_timeout = "number", pool_size = "number" }

--- retry.redis_store(client [, opts]). opts: timeout (ms, default 200),
-- retry_after (s, default 1), log (function(message)), clock (for
-- retry_after; default ngx.now or os.time), keepalive_timeout (ms, default
-- 60000) and pool_size (default 100) for lua-resty-redis objects returned
-- by a client function.
function M.new(client, opts)
  local ct = type(client)
  if ct ~= "table" and ct ~= "userdata" and ct ~= "function" then
    argerror(1, "redis client or function expected, got " .. ct)
  end
  if opts ~= nil and type(opts) ~= "table" then
    argerror(2, "table expected, got " .. type(opts))
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if not OPTS[k] then argerror(2, format("unknown option '%s'", tostring(k))) end
    if type(v) ~= OPTS[k] then
      argerror(2, format("option '%s' must be a %s, got %s", k, OPTS[k], type(v)))
    end
  end
  local timeout = opts.timeout or 200
  if not (timeout > 0 and timeout < 1e9) then argerror(2, "timeout must be a positive number of ms") end
  local ra = opts.retry_after or 1
  if not (ra >= 0 and ra < 1e9) then argerror(2, "retry_after must be a number of seconds >= 0") end
  local ngx = rawget(_G, "ngx")
  local self = setmetatable({
    _fn = ct == "function" and client or nil,
    _client = ct ~= "function" and client or nil,
    _timeout = timeout,
    _retry_after = ra,
    _log = opts.log or default_log,
    _clock = opts.clock or (type(ngx) == "table" and ngx.now) or ostime,
    _ka = opts.keepalive_timeout or 60000,
    _pool = opts.pool_size or 100,
    _down_until = nil,
    _last_log = nil,
    _stats = { errors = 0, skipped = 0, noscript = 0 },
  }, Store)
  if self._client then self:_prepare(self._client) end
  return self
end

-- A lua-resty-redis object holds its cosocket in the field _sock (its
-- methods cannot tell: every unknown name becomes a Redis command).
local function is_resty(c)
  return type(c) == "table" and rawget(c, "_sock") ~= nil
end

function Store:_prepare(c)
  if is_resty(c) then
    c:set_timeout(self._timeout)
  else
    local net = type(c) == "table" and rawget(c, "network")
    local sock = net and net.socket
    if sock and sock.settimeout then
      sock:settimeout(self._timeout / 1000)
      if not self._peer and sock.getpeername then
        local host, port = sock:getpeername()
        if host then self._peer = { host, tonumber(port) } end
      end
    end
  end
end

function Store:_error(err)
  local st = self._stats
  st.errors = st.errors + 1
  local now = self._clock()
  self._down_until = now + self._retry_after
  -- a log line for each new kind of error, then at most one per 10 s
  local kind = tostring(err):sub(1, 40)
  if not self._last_log or now - self._last_log >= 10 or kind ~= self._last_kind then
    self._last_log, self._last_kind = now, kind
    self._log(format("smtpcode.retry redis_store: %s (errors: %d); no pause assumed for %g s",
      tostring(err), st.errors, self._retry_after))
  end
end

-- Get a client for one step: nil when Redis is known down.
function Store:_get()
  if self._down_until then
    if self._clock() < self._down_until then
      self._stats.skipped = self._stats.skipped + 1
      return nil
    end
    self._down_until = nil
  end
  if self._fn then
    local ok, c, err = pcall(self._fn, self._failed)
    self._failed = nil
    if not ok or not c then
      self:_error("client function: " .. tostring(ok and err or c))
      return nil
    end
    self:_prepare(c)
    return c
  end
  local c = self._client
  if self._broken then
    -- a redis-lua client whose connection failed: connect again
    local peer = self._peer
    local ok, redis = pcall(require, "redis")
    if not (peer and ok) then
      self:_error("connection lost and no address to reconnect to")
      return nil
    end
    local ok2, fresh = pcall(redis.connect, { host = peer[1], port = peer[2],
      timeout = self._timeout / 1000 })
    if not ok2 then
      self:_error(fresh)
      return nil
    end
    self._client, self._broken, c = fresh, nil, fresh
    self:_prepare(c)
  end
  return c
end

-- Hand a client back after a step (ok: the step worked).
function Store:_put(c, ok, err)
  if is_resty(c) then
    if ok and self._fn then
      c:set_keepalive(self._ka, self._pool)
    elseif not ok then
      pcall(c.close, c)
    end
  elseif not ok then
    if self._fn then
      self._failed = err or "error"
    else
      self._broken = true
      pcall(c.quit, c)
    end
  end
  if not ok then self._failed = err or "error" end
end

-- Run command `cmd` on client c: result, or nil, err (never raises).
local function call(c, cmd, ...)
  local ok, res, err = pcall(c[cmd], c, ...)
  if not ok then return nil, tostring(res) end
  -- lua-resty-redis: nil, err on a socket error, false, err on an error
  -- reply (NOSCRIPT ...), ngx.null for a missing value
  if res == nil or (res == false and err ~= nil) then return nil, err end
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and res == ngx.null then return nil end
  return res
end

-- One step: f(c) -> value, err. Errors are counted and give nil.
function Store:_step(f, ...)
  local c = self:_get()
  if not c then return nil end
  local res, err, fatal = f(self, c, ...)
  if fatal then
    self:_put(c, false, err)
    self:_error(err)
    return nil
  end
  self:_put(c, true)
  return res
end

local function do_hget(_, c, key, field)
  local v, err = call(c, "hget", key, field)
  if v == nil and err then return nil, err, true end
  return v
end

function Store:pause(key, now)
  local u = tonumber((self:_step(do_hget, key, "u")))
  if u and u > now then return u end
  return nil
end

-- The pauses of many destinations in one round trip (a pipeline of HGET).
local function do_hget_many(_, c, keys)
  local n = #keys
  if is_resty(c) then
    c:init_pipeline(n)
    for i = 1, n do c:hget(keys[i], "u") end
    local res, err = c:commit_pipeline()
    if not res then return nil, err, true end
    return res
  end
  local ok, res = pcall(c.pipeline, c, function(p)
    for i = 1, n do p:hget(keys[i], "u") end
  end)
  if not ok then return nil, tostring(res), true end
  return res
end

function Store:pause_many(keys, now)
  local out = {}
  local res = self:_step(do_hget_many, keys)
  for i = 1, #keys do
    local u = res and tonumber(res[i])
    out[i] = (u and u > now) and u or false
  end
  return out
end

function Store:failures(key)
  return tonumber((self:_step(do_hget, key, "n"))) or 0
end

local function do_del(_, c, key)
  local v, err = call(c, "del", key)
  if v == nil and err then return nil, err, true end
  return v
end

function Store:clear(key)
  self:_step(do_del, key)
end

local function num(x)
  if x == floor(x) and x > -1e15 and x < 1e15 then return format("%d", x) end
  return format("%.17g", x)
end

local function do_fail(self, c, key, args)
  local res, err
  if M.SHA then res, err = call(c, "evalsha", M.SHA, 1, key, unpack(args)) end
  if not M.SHA or (res == nil and err and find(err, "NOSCRIPT", 1, true)) then
    if M.SHA then self._stats.noscript = self._stats.noscript + 1 end
    local sha, lerr = call(c, "script", "load", M.SCRIPT)
    if not sha then return nil, "SCRIPT LOAD: " .. tostring(lerr), true end
    M.SHA = sha
    res, err = call(c, "evalsha", sha, 1, key, unpack(args))
    if res == nil and err and find(err, "NOSCRIPT", 1, true) then
      -- a cluster client sent SCRIPT LOAD (which has no key) to another
      -- node: EVAL goes where the key lives
      res, err = call(c, "eval", M.SCRIPT, 1, key, unpack(args))
    end
  end
  if type(res) ~= "table" then return nil, err or "unexpected reply", true end
  return res
end

function Store:fail(key, row, lad, now, window)
  local args = { num(now), num(window), row or "" }
  if row then
    for i = 1, #lad do args[3 + i] = num(lad[i]) end
  end
  local res = self:_step(do_fail, key, args)
  if not res then return nil, 0 end
  local u = tonumber(res[2])
  if u and u <= now then u = nil end
  return u, tonumber(res[1]) or 0
end

--- Counters: errors (failed steps), skipped (steps not tried while Redis
-- was down), noscript (script reloads).
function Store:stats()
  local c = {}
  for k, v in pairs(self._stats) do c[k] = v end
  return c
end

--- Load the script now (optional: the first failure does it otherwise).
function Store:load_script()
  return self:_step(function(_, c)
    local sha, err = call(c, "script", "load", M.SCRIPT)
    if not sha then return nil, err, true end
    return sha
  end)
end

return M
