--- smtpcode.retry_store: the stores of retry.tracker (retry.memory_store,
-- retry.shdict_store, retry.redis_store and the adapter of get/set/incr
-- stores). Re-exported by the front module smtpcode.retry (see there).

local type, tostring, tonumber = type, tostring, tonumber
local pairs, setmetatable = pairs, setmetatable
local pcall, require = pcall, require
local floor = math.floor
local format = string.format
local ostime = os.time
local mrandom = math.random
local B = require "smtpcode.retry_base"
local argerror, typename, isnum = B.argerror, B.typename, B.isnum
local backoff = B.backoff

local _M = {}

-- {======================================================
-- Stores. What the tracker needs from one, per destination key:
--   store:pause(key, now)                     --> until, or nil
--   store:fail(key, row, ladder, now, window) --> until or nil, failures
--   store:clear(key, rows)                    -- a success: forget it all
--   store:failures(key, now)                  --> failures in the run
-- `fail` is one atomic step where the store allows it: count the failure;
-- when `row` is given, count it in its row too (k-th in a row) and raise
-- the pause's end to at least now + ladder[min(k, #ladder)]. A run is
-- remembered for `window` seconds from its first failure, or until its
-- pause ends when that is later. Errors never raise: a store that cannot
-- keep something counts it in stats() and logs it.
-- A store with only get/set/incr[/delete] (the interface of earlier
-- versions and of ngx.shared.DICT) still works, through `kv_adapter`, with
-- no atomicity between its steps.
-- =======================================================

-- Longest pause ladder: a pause grows for at most this many failures in a
-- row (every default row reaches its cap within 6).
local LADDER_MAX = 64

-- The pause lengths after the 1st, 2nd ... failure in a row of `p`, up to
-- the first that reaches p.max (whole seconds).
local function ladder(p)
  local t = {}
  for k = 1, LADDER_MAX do
    local len = floor(backoff(p.first, p.factor, p.max, k))
    t[k] = len
    if len >= p.max then break end
  end
  return t
end

-- Ladders by row table, checked against the row's numbers (a row changed
-- in place gets a new one): a tracker built per request reuses them.
local LADDERS = setmetatable({}, { __mode = "k" })
local function ladder_of(p)
  local c = LADDERS[p]
  if c and c.first == p.first and c.factor == p.factor and c.max == p.max then
    return c.ladder
  end
  local lad = ladder(p)
  LADDERS[p] = { first = p.first, factor = p.factor, max = p.max, ladder = lad }
  return lad
end

local function step(lad, k)
  local n = #lad
  return lad[k < n and k or n]
end

-- Counting and logging of what a store could not do; a log line for the
-- first of a kind, then at most one per 10 s with the count so far.
local default_log = B.log_warn

local function make_note(name, stats, log, clock)
  local last = {}
  return function(kind, what)
    local n = (stats[kind] or 0) + 1
    stats[kind] = n
    local t = clock()
    if n == 1 or not last[kind] or t - last[kind] >= 10 then
      last[kind] = t
      log(format("smtpcode.retry %s: %s (%s, %d so far)", name, tostring(what), kind, n))
    end
  end
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local Memory = {}
Memory.__index = Memory

-- Two LRU lists: `_free` for keys and destinations that hold no pause,
-- `_held` for destinations whose pause is in force. Eviction takes the
-- least recently used entry of _free, and of _held only when _free is
-- empty.
local function newlist()
  local head = {}
  head.next, head.prev = head, head
  return head
end

local function unlink(node)
  node.prev.next = node.next
  node.next.prev = node.prev
end

local function push_front(head, node)
  node.next = head.next
  node.prev = head
  head.next.prev = node
  head.next = node
end

local function remove(self, node)
  unlink(node)
  self._map[node.key] = nil
  self._n = self._n - 1
end

local function touch(self, node, now)
  unlink(node)
  local u = node.u
  push_front((u and u > now) and self._held or self._free, node)
end

local function evict(self)
  while self._n > self._max do
    local tail = self._free.prev
    if tail == self._free then tail = self._held.prev end
    remove(self, tail)
  end
end

local function live(self, key, now)
  local node = self._map[key]
  if node and node.exp and node.exp <= (now or self._clock()) then
    remove(self, node)
    return nil
  end
  return node
end

--- In-process store, bounded: at most `max_entries` entries (default
-- 10000), one per destination with failures or pause (plus any keys set
-- with set/incr). When full, a destination that holds no pause goes first
-- (least recently used first); a paused one only when every entry holds a
-- pause. opts.clock (default os.time) times the TTLs of set/incr.
function _M.memory_store(opts)
  if opts ~= nil and type(opts) ~= "table" then
    argerror(1, "memory_store", "table expected, got " .. typename(opts))
  end
  opts = opts or {}
  local max = opts.max_entries or 10000
  if not (isnum(max) and max >= 1) then
    argerror(1, "memory_store", "max_entries must be a number >= 1")
  end
  local clock = opts.clock or ostime
  if type(clock) ~= "function" then
    argerror(1, "memory_store", "clock must be a function, got " .. typename(clock))
  end
  return setmetatable({ _map = {}, _n = 0, _max = floor(max), _clock = clock,
                        _free = newlist(), _held = newlist() }, Memory)
end

function Memory:pause(key, now)
  local node = live(self, key, now)
  if not node then return nil end
  touch(self, node, now)
  local u = node.u
  if u and u > now then return u end
  return nil
end

function Memory:fail(key, row, lad, now, window)
  local node = live(self, key, now)
  if not node or node.value ~= nil then
    if node then remove(self, node) end
    node = { key = key, n = 0, k = {}, exp = now + window }
    self._map[key] = node
    self._n = self._n + 1
    push_front(self._free, node)
  end
  node.n = node.n + 1
  local u = node.u
  if u and u <= now then u = nil end
  if row then
    local k = (node.k[row] or 0) + 1
    node.k[row] = k
    local x = now + step(lad, k)
    if not u or x > u then u = x end
    node.u = u
    if u > node.exp then node.exp = u end
  end
  touch(self, node, now)
  evict(self)
  return u, node.n
end

function Memory:clear(key)
  local node = self._map[key]
  if node then remove(self, node) end
end

function Memory:failures(key, now)
  local node = live(self, key, now)
  return node and node.n or 0
end

function Memory:stats()
  return { entries = self._n, held = self:held() }
end

--- Number of destinations whose pause is in force at `now` (the entries
-- kept ahead of the others).
function Memory:held(now)
  now = now or self._clock()
  local n, node = 0, self._held.next
  while node ~= self._held do
    if node.u and node.u > now then n = n + 1 end
    node = node.next
  end
  return n
end

-- Plain keys (the interface of earlier versions): get, set, incr, delete.
function Memory:get(key)
  local node = live(self, key)
  if not node then return nil end
  unlink(node)
  push_front(self._free, node)
  return node.value
end

function Memory:set(key, value, ttl)
  if value == nil then
    self:delete(key)
    return true
  end
  local exp = nil
  if ttl and ttl > 0 then exp = self._clock() + ttl end
  local node = self._map[key]
  if node then
    node.value, node.exp, node.u = value, exp, nil
    unlink(node)
    push_front(self._free, node)
    return true
  end
  node = { key = key, value = value, exp = exp }
  self._map[key] = node
  self._n = self._n + 1
  push_front(self._free, node)
  evict(self)
  return true
end

function Memory:incr(key, by, init, ttl)
  local node = live(self, key)
  if not node then
    if init == nil then return nil, "not found" end
    local v = init + by
    self:set(key, v, ttl)
    return v
  end
  if type(node.value) ~= "number" then return nil, "not a number" end
  node.value = node.value + by
  unlink(node)
  push_front(self._free, node)
  return node.value
end

function Memory:delete(key)
  local node = self._map[key]
  if node then remove(self, node) end
  return true
end

--- Number of entries held (expired ones included until touched or evicted).
function Memory:count()
  return self._n
end

-- Store over an `ngx.shared.DICT` (every nginx worker of one machine).
local Shdict = {}
Shdict.__index = Shdict

local LOCK_TTL = 0.1    -- s; a lock outlives a worker that died holding it
local LOCK_SPIN = 200   -- tries before waiting with ngx.sleep
local LOCK_WAITS = 100  -- 1 ms waits (phases that may yield), then go on

--- Adapter for an OpenResty `ngx.shared.DICT` (declared with
-- `lua_shared_dict NAME SIZE;`): every nginx worker sees the same state.
-- Counters are dict:incr (atomic); a new counter is added with safe_add,
-- which never evicts another key; the pause's end is raised under a
-- per-destination lock taken with dict:safe_add (atomic insert-if-absent,
-- a token of this worker, expiring after 100 ms), held across a get, a
-- check of the token and a set, none of which yields (docs/stores.md: what
-- happens when the lock is lost). A pause that does not fit is stored with
-- set, which may evict
-- the least recently used key. opts: log (function(message)), sleep
-- (function(seconds), default ngx.sleep where the phase allows).
local SHDICT_STORES = setmetatable({}, { __mode = "k" })

function _M.shdict_store(dict, opts)
  local t = type(dict)
  if (t ~= "table" and t ~= "userdata") or dict.get == nil or dict.incr == nil then
    argerror(1, "shdict_store", "ngx.shared.DICT expected, got " .. typename(dict))
  end
  if opts ~= nil and type(opts) ~= "table" then
    argerror(2, "shdict_store", "table expected, got " .. typename(opts))
  end
  -- Without options, one store per dict in this worker (its counters add
  -- up, and a store built per request costs nothing).
  if opts == nil and SHDICT_STORES[dict] then return SHDICT_STORES[dict] end
  local cache = opts == nil
  opts = opts or {}
  local ngx = rawget(_G, "ngx")
  local sleep = opts.sleep
  if sleep == nil and type(ngx) == "table" then sleep = ngx.sleep end
  local clock = (type(ngx) == "table" and ngx.now) or ostime
  local stats = { misses = 0, evictions = 0, lock_waits = 0, lock_timeouts = 0, lock_expired = 0 }
  local id = type(ngx) == "table" and ngx.worker and ngx.worker.pid and ngx.worker.pid()
  local store = setmetatable({
    dict = dict, _stats = stats, _sleep = sleep, _tokens = 0,
    _id = tostring(id or tostring(stats):match("0x%x+") or mrandom(1e9)),
    _note = make_note("shdict_store", stats, opts.log or default_log, clock),
  }, Shdict)
  if cache then SHDICT_STORES[dict] = store end
  return store
end

function Shdict:pause(key, now)
  local u = self.dict:get(key .. ":until")
  if type(u) == "number" and u > now then return u end
  return nil
end

-- incr with init, never evicting: incr; when missing, safe_add (a
-- concurrent add wins: incr again). nil when the dict is full.
local function count(self, k, window)
  local dict = self.dict
  local v, err = dict:incr(k, 1)
  if v then return v end
  local add = dict.safe_add or dict.add
  if err == "not found" and add then
    for _ = 1, 4 do
      local ok, aerr = add(dict, k, 1, window)
      if ok then return 1 end
      err = aerr
      if aerr ~= "exists" then break end
      v, err = dict:incr(k, 1)
      if v then return v end
      if err ~= "not found" then break end
    end
  elseif err == "not found" then
    v, err = dict:incr(k, 1, 0, window)
    if v then return v end
  end
  self._note("misses", "cannot count " .. k .. ": " .. tostring(err))
  return nil
end

-- Take the lock `lk` with a token of this store (so that a lock that
-- expired and was taken by another worker is not released by us): the
-- token, or nil when the lock could not be had.
local function lock(self, lk)
  local dict = self.dict
  local add = dict.safe_add or dict.add   -- a lock never evicts a pause
  if not add then return nil end
  local n = self._tokens + 1
  self._tokens = n
  local token = self._id .. ":" .. n
  local ok, err = add(dict, lk, token, LOCK_TTL)
  if ok then return token end
  if err ~= "exists" then return nil end
  self._stats.lock_waits = self._stats.lock_waits + 1
  for _ = 1, LOCK_SPIN do
    ok, err = add(dict, lk, token, LOCK_TTL)
    if ok then return token end
    if err ~= "exists" then return nil end
  end
  local sleep = self._sleep
  if sleep then
    for _ = 1, LOCK_WAITS do
      if not pcall(sleep, 0.001) then break end  -- a phase that cannot yield
      ok, err = add(dict, lk, token, LOCK_TTL)
      if ok then return token end
      if err ~= "exists" then return nil end
    end
  end
  self._note("lock_timeouts", "lock " .. lk .. " still held; raising the pause without it")
  return nil
end

-- Release the lock if it is still ours.
local function unlock(self, lk, token)
  local dict = self.dict
  if dict:get(lk) == token then dict:delete(lk) end
end

function Shdict:fail(key, row, lad, now, window)
  local dict = self.dict
  local n = count(self, key .. ":n", window) or 0
  if not row then return self:pause(key, now), n end
  local k = count(self, key .. ":n:" .. row, window) or 1
  local x = now + step(lad, k)
  local ukey = key .. ":until"
  local lk = key .. ":lock"
  local token = lock(self, lk)
  local u
  -- With the lock: read, write if higher, done. Without it (not had, or
  -- expired while this worker was descheduled): read back after writing,
  -- a few rounds, so that a crossing write is seen and raised again.
  for _ = 1, 4 do
    u = dict:get(ukey)
    if type(u) == "number" and u >= x then break end
    if token and dict:get(lk) ~= token then
      self._note("lock_expired", "lock " .. lk .. " expired while held")
      token = nil                        -- read again, then go on without it
    else
      local set = dict.safe_set or dict.set
      local ok, err = set(dict, ukey, x, x - now)
      if not ok and err == "no memory" and dict.safe_set then
        local forcible
        ok, err, forcible = dict:set(ukey, x, x - now)
        if ok and forcible then
          self._note("evictions", "pause of " .. key .. " evicted older keys")
        end
      end
      if not ok then
        self._note("misses", "cannot keep the pause of " .. key .. ": " .. tostring(err))
        break
      end
      u = x
      if token then break end
    end
  end
  if token then unlock(self, lk, token) end
  return u, n
end

function Shdict:clear(key, rows)
  local dict = self.dict
  if dict:get(key .. ":n") == nil and dict:get(key .. ":until") == nil then return end
  dict:delete(key .. ":n")
  dict:delete(key .. ":until")
  for i = 1, #rows do dict:delete(key .. ":n:" .. rows[i]) end
end

function Shdict:failures(key)
  return tonumber((self.dict:get(key .. ":n"))) or 0
end

--- Counters of this worker: misses (the dict was full), evictions,
-- lock_waits, lock_timeouts.
function Shdict:stats()
  return copy(self._stats)
end

-- get/set/incr/delete of a store of earlier versions (or any key-value
-- object with those methods), each step on its own; errors are counted.
local KV = {}
KV.__index = KV

local function kv_adapter(kv)
  local stats = { errors = 0 }
  return setmetatable({ kv = kv, _stats = stats,
    _note = make_note("store", stats, default_log, ostime) }, KV)
end

local function kv_try(self, f, ...)
  local ok, a, b = pcall(f, ...)
  if ok then return a, b end
  self._note("errors", a)
  return nil
end

local function kv_pause(kv, key, now)
  local u = tonumber((kv:get(key .. ":until")))
  if u and u > now then return u end
  return nil
end

local function kv_fail(kv, key, row, lad, now, window)
  local n = tonumber((kv:incr(key .. ":n", 1, 0, window))) or 0
  if not row then return kv_pause(kv, key, now), n end
  local k = tonumber((kv:incr(key .. ":n:" .. row, 1, 0, window))) or 1
  local x = now + step(lad, k)
  local u = tonumber((kv:get(key .. ":until")))
  if not u or u < x then
    kv:set(key .. ":until", x, x - now)
    u = x
  end
  return u, n
end

local function kv_clear(kv, key, rows)
  if (tonumber((kv:get(key .. ":n"))) or 0) > 0 or kv:get(key .. ":until") then
    local del = kv.delete or function(st, k) return st:set(k, nil) end
    del(kv, key .. ":n")
    del(kv, key .. ":until")
    for i = 1, #rows do del(kv, key .. ":n:" .. rows[i]) end
  end
end

function KV:pause(key, now) return kv_try(self, kv_pause, self.kv, key, now) end
function KV:fail(key, row, lad, now, window)
  return kv_try(self, kv_fail, self.kv, key, row, lad, now, window)
end
function KV:clear(key, rows) return kv_try(self, kv_clear, self.kv, key, rows) end
function KV:failures(key)
  return tonumber((kv_try(self, function(kv) return kv:get(key .. ":n") end, self.kv))) or 0
end
function KV:stats() return copy(self._stats) end

--- Store in Redis, shared by every machine (see lua/smtpcode/retry_redis.lua).
function _M.redis_store(client, opts)
  return require("smtpcode.retry_redis").new(client, opts)
end

-- }======================================================

-- for retry_tracker: the pause ladder of a row and the adapter of a
-- get/set/incr store
_M._ladder_of, _M._kv_adapter = ladder_of, kv_adapter

return _M
