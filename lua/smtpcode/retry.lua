-- smtpcode.retry: after each SMTP reply, decide what a sender does next
-- (done, continue, retry at a time, bounce, expire), and remember per
-- destination the failures that should pause all mail for it.
--
--   local retry = require "smtpcode.retry"
--   local policy = retry.policy(opts)                    -- opts optional
--   local d = policy:decide(reply, { attempts = n, first_attempt = t0, now = t })
--   -- d.action  "done" | "continue" | "retry" | "bounce" | "expire"
--   -- d.delay, d.at (retry only), d.suppress, d.reason, d.scope, d.result
--
--   local tracker = retry.tracker{ store = retry.shdict_store(ngx.shared.smtp) }
--   tracker:record("example.net", d)      -- after every reply
--   local wait = tracker:pause("example.net")   -- 0: send now
--
-- Pure Lua (common subset of 5.1-5.4 and LuaJIT). `classify` comes from the
-- front module `smtpcode` and is loaded on first use; a policy can be given
-- its own (opts.classify), which keeps this module usable without the C core.
--
-- Default schedule (RFC 5321 §4.5.4.1 and Postfix's defaults: first retry
-- after `minimal_backoff_time` 300 s, doubling up to `maximal_backoff_time`
-- 4000 s, give up after `maximal_queue_lifetime` 5 days):
--   attempt n failed transiently -> next try after b(n) = min(max, first * factor^(n-1))
--   plus jitter: a share of the gap to b(n+1), so delays never shrink.
-- The schedule of each reason is a row of `retry.schedules` below.

local type, error, tostring, tonumber = type, error, tostring, tonumber
local pairs, ipairs, setmetatable, getmetatable = pairs, ipairs, setmetatable, getmetatable
local pcall, require = pcall, require
local floor, mmin, mmax, huge = math.floor, math.min, math.max, math.huge
local format, lower = string.format, string.lower
local sort = table.sort
local ostime = os.time
local mrandom = math.random

local M = { _VERSION = "smtpcode.retry 0.1" }

-- {======================================================
-- Data: defaults, schedules per reason, destination pauses
-- =======================================================

--- Default options of `retry.policy`.
M.defaults = {
  min_backoff = 300,          -- s; Postfix minimal_backoff_time
  max_backoff = 4000,         -- s; Postfix maximal_backoff_time (about an hour)
  max_lifetime = 5 * 86400,   -- s; Postfix maximal_queue_lifetime, RFC 5321: 4-5 days
  greylist_delay = 300,       -- s; postgrey's --delay: earlier retries are greylisted again
  jitter = 0.25,              -- share of the gap to the next step; 0 disables
  soft_bounce = false,        -- true: permanent failures are retried (Postfix soft_bounce)
}

-- Schedule rows. Each field is a number of seconds, the name of a policy
-- option, or { option, multiplier }. `factor` is the growth per attempt
-- (>= 1). A row may also set `lifetime` (s; default: max_lifetime). A
-- reason without a row uses `default`. A cap below `first` is raised to it.
M.schedules = {
  default = { first = "min_backoff", factor = 2, max = "max_backoff" },
  -- Greylisting: come back soon after the greylisting delay, and keep
  -- coming back within 15 minutes: greylisting servers forget pending
  -- entries (postgrey's retry window), so a long pause would start over.
  greylisted = { first = "greylist_delay", factor = 1.5, max = 900 },
  -- Throttled or refused for reputation: hitting again soon makes it worse.
  rate_limited = { first = { "min_backoff", 3 }, factor = 2, max = { "max_backoff", 2 } },
  blocklisted = { first = { "min_backoff", 6 }, factor = 2, max = { "max_backoff", 4 } },
}

--- Pauses of a whole destination, per reason of a destination-scoped
-- failure (see `retry.tracker`). The pause after the k-th such failure in a
-- row is min(max, first * factor^(k-1)) seconds. `false`: counted, never
-- pauses (greylisting is per sender/recipient/IP triplet: holding other mail
-- would only delay its own first try).
M.pauses = {
  default = { first = 60, factor = 2, max = 900 },
  rate_limited = { first = 300, factor = 2, max = 3600 },
  blocklisted = { first = 1800, factor = 2, max = 4 * 3600 },
  greylisted = false,
}

-- The reason vocabulary of `classify`, from the core's records
-- (smtpcode.reasons(), data/reasons.tsv): the scope used when a result
-- carries none, and whether a permanent failure is "hard". Without the C
-- core (a policy with its own opts.classify) both are empty: results must
-- then carry their scope and bounce.
local SCOPE_OF, HARD = {}, {}
M.reasons = {}
do
  local ok, sc = pcall(require, "smtpcode")
  if ok and type(sc) == "table" and type(sc.reasons) == "function" then
    for _, r in ipairs(sc.reasons()) do
      SCOPE_OF[r.name], HARD[r.name] = r.scope, r.hard
      M.reasons[#M.reasons + 1] = r.name
    end
  end
end
sort(M.reasons)

local SEVERITIES = { success = true, intermediate = true, transient = true,
                     permanent = true, unknown = true }

-- }======================================================

local function argerror(n, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end

local function typename(v)
  return type(v)
end

local function isnum(v)
  return type(v) == "number" and v == v and v > -huge and v < huge
end

-- {======================================================
-- Policy
-- =======================================================

local Policy = {}
Policy.__index = Policy

local OPTION_KEYS = {
  min_backoff = "number", max_backoff = "number", max_lifetime = "number",
  greylist_delay = "number", jitter = "number", soft_bounce = "boolean",
  random = "function", now = "function", classify = "function",
  classify_opts = "table", reasons = "table",
}

local ROW_KEYS = { first = true, factor = true, max = true, lifetime = true }

-- Value of a schedule field: number, option name, or { option, multiplier }.
local function resolve(v, o, what)
  if type(v) == "number" then return v end
  if type(v) == "string" then
    local x = o[v]
    if type(x) ~= "number" then
      argerror(1, "policy", format("%s refers to unknown option '%s'", what, v))
    end
    return x
  end
  if type(v) == "table" and type(v[1]) == "string" and type(v[2]) == "number" then
    return resolve(v[1], o, what) * v[2]
  end
  argerror(1, "policy", format("%s must be a number, an option name or {option, multiplier}", what))
end

local function checkrow(row, name)
  if type(row) ~= "table" then
    argerror(1, "policy", format("reasons.%s must be a table, got %s", name, typename(row)))
  end
  for k in pairs(row) do
    if not ROW_KEYS[k] then
      argerror(1, "policy", format("reasons.%s: unknown field '%s'", name, tostring(k)))
    end
  end
end

-- Turn a schedule row into { first, factor, max, lifetime } numbers.
local function compile(row, base, o, name)
  local first = resolve(row.first ~= nil and row.first or base.first, o, name .. ".first")
  local factor = resolve(row.factor ~= nil and row.factor or base.factor, o, name .. ".factor")
  local max = resolve(row.max ~= nil and row.max or base.max, o, name .. ".max")
  local life = row.lifetime ~= nil and row.lifetime or base.lifetime or "max_lifetime"
  life = resolve(life, o, name .. ".lifetime")
  if not (isnum(first) and first > 0) then
    argerror(1, "policy", format("%s.first must be a positive number", name))
  end
  if not (isnum(factor) and factor >= 1) then
    argerror(1, "policy", format("%s.factor must be a number >= 1", name))
  end
  if not (isnum(max) and max > 0) then
    argerror(1, "policy", format("%s.max must be a positive number", name))
  end
  if not (isnum(life) and life > 0) then
    argerror(1, "policy", format("%s.lifetime must be a positive number", name))
  end
  return { first = first, factor = factor, max = mmax(max, first), lifetime = life }
end

--- Create a retry policy.
-- opts (all optional): min_backoff, max_backoff, max_lifetime,
-- greylist_delay (seconds), jitter (0..1, 0 disables), random (function
-- returning a number in [0, 1), default math.random), now (clock function,
-- default os.time), soft_bounce (boolean), reasons ({ [reason] = { first,
-- factor, max, lifetime } } overriding or adding schedule rows), classify
-- (function used instead of smtpcode.classify) and classify_opts (its 2nd
-- argument). Raises on a wrong type or value.
function M.policy(opts)
  if opts ~= nil and type(opts) ~= "table" then
    argerror(1, "policy", "table expected, got " .. typename(opts))
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    local want = OPTION_KEYS[k]
    if not want then
      argerror(1, "policy", format("unknown option '%s'", tostring(k)))
    end
    if type(v) ~= want then
      argerror(1, "policy", format("option '%s' must be a %s, got %s", k, want, typename(v)))
    end
  end
  local o = {}
  for k, v in pairs(M.defaults) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  for _, k in ipairs({ "min_backoff", "max_backoff", "max_lifetime", "greylist_delay" }) do
    if not (isnum(o[k]) and o[k] > 0) then
      argerror(1, "policy", format("option '%s' must be a positive number", k))
    end
  end
  if o.max_backoff < o.min_backoff then
    argerror(1, "policy", "option 'max_backoff' must not be below 'min_backoff'")
  end
  if not (isnum(o.jitter) and o.jitter >= 0 and o.jitter <= 1) then
    argerror(1, "policy", "option 'jitter' must be a number from 0 to 1")
  end

  local rows = {}
  for name, row in pairs(M.schedules) do rows[name] = row end
  if opts.reasons then
    for name, row in pairs(opts.reasons) do
      if type(name) ~= "string" then
        argerror(1, "policy", "reasons keys must be reason names")
      end
      checkrow(row, name)
      local merged = {}
      local base = M.schedules[name] or M.schedules.default
      for k, v in pairs(base) do merged[k] = v end
      for k, v in pairs(row) do merged[k] = v end
      rows[name] = merged
    end
  end
  local sched = {}
  local default = rows.default
  for name, row in pairs(rows) do
    sched[name] = compile(row, default, o, name)
  end
  -- Smallest first delay: a lower bound of the time between two attempts,
  -- used to bound a message's age from its attempt count (always ends).
  local floor_delay = huge
  for _, s in pairs(sched) do floor_delay = mmin(floor_delay, s.first) end

  return setmetatable({
    options = o,
    schedule = sched,
    _floor = floor_delay,
    _random = o.random or mrandom,
    _now = o.now or ostime,
    _classify = o.classify,
    _classify_opts = o.classify_opts,
  }, Policy)
end

-- Base delay after the n-th failed attempt.
local function base(s, n)
  return mmin(s.max, s.first * s.factor ^ (n - 1))
end

--- Delay (s) after the n-th failed attempt with reason `reason`, before
-- jitter when `r` is nil, or with jitter fraction r in [0, 1].
function Policy:delay(reason, n, r)
  if type(reason) ~= "string" then
    argerror(1, "delay", "string expected, got " .. typename(reason))
  end
  if not isnum(n) or n < 1 or n > 1e6 then
    argerror(2, "delay", "attempt number (1 .. 1e6) expected, got " .. typename(n))
  end
  if r ~= nil and (not isnum(r) or r < 0 or r > 1) then
    argerror(3, "delay", "number in [0, 1] expected, got " .. typename(r))
  end
  n = floor(n)
  local s = self.schedule[reason] or self.schedule.default
  local b = base(s, n)
  local j = self.options.jitter
  if r and j > 0 then
    b = b + j * r * (base(s, n + 1) - b)
  end
  return floor(b)
end

--- The base delays (no jitter) for attempts 1..count of a reason: the
-- schedule as a list, for documentation and tests.
function Policy:delays(reason, count)
  if type(reason) ~= "string" then
    argerror(1, "delays", "string expected, got " .. typename(reason))
  end
  if count ~= nil and (not isnum(count) or count < 0 or count > 10000) then
    argerror(2, "delays", "count (0 .. 10000) expected, got " .. typename(count))
  end
  local t = {}
  for n = 1, count or 10 do t[n] = self:delay(reason, n) end
  return t
end

local classify_fn
local function load_classify()
  if classify_fn then return classify_fn end
  local ok, sc = pcall(require, "smtpcode")
  if ok and type(sc) == "table" and type(sc.classify) == "function" then
    classify_fn = sc.classify
    return classify_fn
  end
  error("smtpcode.retry: smtpcode.classify is not available"
    .. (ok and "" or (": " .. tostring(sc))), 0)
end

-- Get the classify result a decision is made from.
local function toresult(self, reply)
  local t = type(reply)
  local classify = self._classify
  local r
  if t == "string" then
    classify = classify or load_classify()
    r = classify(reply, self._classify_opts)
  elseif t == "table" then
    if reply.reason ~= nil or (reply.severity ~= nil and reply.lines == nil) then
      r = reply
    elseif type(reply.lines) == "table" and reply.code ~= nil then
      classify = classify or load_classify()
      r = classify(reply, self._classify_opts)
    else
      argerror(1, "decide", "classify or parse result expected, got a table without "
        .. "'severity', 'reason' or 'lines'")
    end
  else
    argerror(1, "decide", "string or table expected, got " .. typename(reply))
  end
  if r == nil then
    -- Nothing recognisable (classify found no reply): decided as an
    -- unknown failure, which a later attempt may get past.
    r = { severity = "unknown", reason = "unknown",
          text = t == "string" and reply or nil }
  elseif type(r) ~= "table" then
    error("smtpcode.retry: classify returned a " .. typename(r) .. ", not a table", 0)
  end
  if not SEVERITIES[r.severity] then
    argerror(1, "decide", "result.severity must be one of success, intermediate, "
      .. "transient, permanent, unknown; got " .. tostring(r.severity))
  end
  return r
end

local function getstate(self, state)
  local now, attempts, first
  if state ~= nil then
    if type(state) ~= "table" then
      argerror(2, "decide", "table expected, got " .. typename(state))
    end
    now, attempts, first = state.now, state.attempts, state.first_attempt
  end
  if now == nil then
    now = self._now()
    if not isnum(now) then error("smtpcode.retry: the clock returned a non-number", 0) end
  elseif not isnum(now) then
    argerror(2, "decide", "state.now must be a number, got " .. typename(now))
  end
  if attempts == nil then
    attempts = 1
  elseif not isnum(attempts) then
    argerror(2, "decide", "state.attempts must be a number, got " .. typename(attempts))
  elseif attempts < 1 then
    argerror(2, "decide", "state.attempts must be at least 1 (the attempt that got this reply)")
  end
  attempts = floor(attempts)
  if first ~= nil and not isnum(first) then
    argerror(2, "decide", "state.first_attempt must be a number, got " .. typename(first))
  end
  return now, attempts, first
end

--- Decide what to do after a reply.
-- reply: a string for classify, a classify result or a parse result.
-- state: { attempts = n (>= 1, including this one), first_attempt = t0,
-- now = t } (epoch seconds; all optional). Returns a decision table:
-- action, delay and at (retry only), suppress, reason, scope, destination
-- (true when the failure concerns the whole destination), soft_bounce
-- (true when a permanent failure was retried because of soft_bounce),
-- attempts, age, and result (the classify result decided from).
function Policy:decide(reply, state)
  if getmetatable(self) ~= Policy then
    error("bad argument #1 to 'decide' (policy expected; call it as policy:decide(reply, state))", 0)
  end
  local r = toresult(self, reply)
  local now, attempts, first = getstate(self, state)
  local sev = r.severity
  local d = { result = r, attempts = attempts, suppress = false }
  if sev == "success" then
    d.action = "done"
    return d
  elseif sev == "intermediate" then
    d.action = "continue"
    return d
  end

  local reason = r.reason
  if type(reason) ~= "string" then reason = "unknown" end
  d.reason = reason
  local scope = r.scope
  if type(scope) ~= "string" then scope = SCOPE_OF[reason] or "message" end
  d.scope = scope
  d.destination = scope == "destination"

  local transient
  if sev == "transient" then
    transient = true
  elseif sev == "permanent" then
    transient = false
  else -- unknown: no reply code; classify's retry flag or a retry
    transient = r.retry ~= false
  end

  if not transient then
    if self.options.soft_bounce then
      d.soft_bounce = true
    else
      d.action = "bounce"
      local bounce = r.bounce
      if bounce == nil then bounce = HARD[reason] and "hard" or "soft" end
      d.suppress = bounce == "hard"
      return d
    end
  end

  local s = self.schedule[reason] or self.schedule.default
  -- Age of the message: the clock, but never less than the attempts made
  -- imply (each at least the smallest first delay apart), so a message
  -- ends even when first_attempt is missing or wrong.
  local age = (attempts - 1) * self._floor
  if first ~= nil then age = mmax(age, now - first) end
  d.age = age
  if age >= s.lifetime then
    d.action = "expire"
    return d
  end
  local rnd = nil
  if self.options.jitter > 0 then
    rnd = self._random()
    if not (isnum(rnd) and rnd >= 0 and rnd <= 1) then
      error("smtpcode.retry: opts.random must return a number in [0, 1), got "
        .. tostring(rnd), 0)
    end
  end
  local delay = self:delay(reason, attempts, rnd)
  d.action = "retry"
  d.delay = delay
  d.at = now + delay
  return d
end

-- }======================================================

-- {======================================================
-- Stores: get(key), set(key, value, ttl), incr(key, by, init, ttl),
-- delete(key). Values are numbers; ttl in seconds, nil or 0 = no expiry.
-- =======================================================

local Memory = {}
Memory.__index = Memory

local function unlink(node)
  node.prev.next = node.next
  node.next.prev = node.prev
end

local function push_front(self, node)
  local head = self._head
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

local function live(self, key)
  local node = self._map[key]
  if node and node.exp and node.exp <= self._clock() then
    remove(self, node)
    return nil
  end
  return node
end

--- In-process store, bounded: at most `max_entries` keys (default 10000);
-- when full, the least recently used key is evicted. opts.clock (default
-- os.time) times the TTLs.
function M.memory_store(opts)
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
  local head = {}
  head.next, head.prev = head, head
  return setmetatable({ _map = {}, _n = 0, _max = floor(max), _clock = clock,
                        _head = head }, Memory)
end

function Memory:get(key)
  local node = live(self, key)
  if not node then return nil end
  unlink(node)
  push_front(self, node)
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
    node.value, node.exp = value, exp
    unlink(node)
    push_front(self, node)
    return true
  end
  node = { key = key, value = value, exp = exp }
  self._map[key] = node
  self._n = self._n + 1
  push_front(self, node)
  while self._n > self._max do
    remove(self, self._head.prev)
  end
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
  push_front(self, node)
  return node.value
end

function Memory:delete(key)
  local node = self._map[key]
  if node then remove(self, node) end
  return true
end

--- Number of keys held (expired ones included until touched or evicted).
function Memory:count()
  return self._n
end

--- Adapter for an OpenResty `ngx.shared.DICT` (declared with
-- `lua_shared_dict NAME SIZE;`): every nginx worker sees the same state;
-- the dict's own size bound and LRU eviction apply.
function M.shdict_store(dict)
  local t = type(dict)
  if (t ~= "table" and t ~= "userdata") or dict.get == nil or dict.incr == nil then
    argerror(1, "shdict_store", "ngx.shared.DICT expected, got " .. typename(dict))
  end
  return {
    dict = dict,
    get = function(_, key) return (dict:get(key)) end,
    set = function(_, key, value, ttl) return dict:set(key, value, ttl or 0) end,
    incr = function(_, key, by, init, ttl)
      if ttl and ttl > 0 then return dict:incr(key, by, init, ttl) end
      return dict:incr(key, by, init)
    end,
    delete = function(_, key) return dict:delete(key) end,
  }
end

-- }======================================================

-- {======================================================
-- Tracker: destination pauses
-- =======================================================

local Tracker = {}
Tracker.__index = Tracker

local TRACKER_KEYS = { store = "table", window = "number", pauses = "table",
                       prefix = "string", clock = "function", max_entries = "number" }

--- Create a destination tracker.
-- opts (optional): store (an object with get/set/incr/delete, default a
-- memory_store of max_entries keys), window (s a run of failures is
-- remembered from its first one, default 4 h), pauses ({ [reason] =
-- { first, factor, max } | false } overriding `retry.pauses`), prefix
-- (key prefix, default "smtpcode:"), clock (default os.time).
function M.tracker(opts)
  if opts ~= nil and type(opts) ~= "table" then
    argerror(1, "tracker", "table expected, got " .. typename(opts))
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    local want = TRACKER_KEYS[k]
    if not want then argerror(1, "tracker", format("unknown option '%s'", tostring(k))) end
    if type(v) ~= want and not (k == "store" and type(v) == "userdata") then
      argerror(1, "tracker", format("option '%s' must be a %s, got %s", k, want, typename(v)))
    end
  end
  local clock = opts.clock or ostime
  local store = opts.store or M.memory_store{ max_entries = opts.max_entries, clock = clock }
  for _, m in ipairs({ "get", "set", "incr" }) do
    if store[m] == nil then
      argerror(1, "tracker", format("store has no '%s' method", m))
    end
  end
  local window = opts.window or 4 * 3600
  if not (isnum(window) and window > 0) then
    argerror(1, "tracker", "option 'window' must be a positive number")
  end
  local pauses = {}
  for k, v in pairs(M.pauses) do pauses[k] = v end
  for k, v in pairs(opts.pauses or {}) do
    if v ~= false then
      if type(v) ~= "table" or not (isnum(v.first) and v.first > 0)
        or not (isnum(v.factor or 2) and (v.factor or 2) >= 1)
        or not (isnum(v.max or v.first) and (v.max or v.first) > 0) then
        argerror(1, "tracker", format("pauses.%s must be false or { first > 0, factor >= 1, max > 0 }",
          tostring(k)))
      end
      v = { first = v.first, factor = v.factor or 2, max = mmax(v.max or v.first, v.first) }
    end
    pauses[k] = v
  end
  return setmetatable({ store = store, window = window, pauses = pauses,
                        prefix = opts.prefix or "smtpcode:", _clock = clock }, Tracker)
end

local function destkey(self, dest, fname)
  if type(dest) ~= "string" then
    argerror(1, fname, "string expected, got " .. typename(dest))
  end
  if dest == "" or #dest > 255 then
    argerror(1, fname, "destination must be 1 to 255 bytes")
  end
  return self.prefix .. lower(dest)
end

local function checknow(self, now, n, fname)
  if now == nil then return self._clock() end
  if not isnum(now) then argerror(n, fname, "number expected, got " .. typename(now)) end
  return now
end

--- Seconds to hold all mail for `dest` at time `now` (0 = send), and the
-- time the pause ends (nil when none).
function Tracker:pause(dest, now)
  local key = destkey(self, dest, "pause")
  now = checknow(self, now, 2, "pause")
  local u = tonumber(self.store:get(key .. ":until"))
  if u and u > now then return u - now, u end
  return 0
end

--- Record the outcome of an attempt for `dest`: a decision of
-- `policy:decide` or a classify result. A success clears the destination's
-- failures; a failure with scope "destination" counts and may pause it (the
-- pause grows with the failures of the same pause row in a row); other
-- outcomes change nothing. Returns the pause now in force (seconds, 0 =
-- none) and when it ends.
function Tracker:record(dest, x, now)
  local key = destkey(self, dest, "record")
  if type(x) ~= "table" then
    argerror(2, "record", "decision or classify result expected, got " .. typename(x))
  end
  now = checknow(self, now, 3, "record")
  local r = x.result or x
  local action, sev = x.action, r.severity
  local store = self.store
  if action == "done" or (action == nil and sev == "success") then
    if (tonumber(store:get(key .. ":n")) or 0) > 0 or store:get(key .. ":until") then
      local del = store.delete or function(st, k) return st:set(k, nil) end
      del(store, key .. ":n")
      del(store, key .. ":until")
      for row in pairs(self.pauses) do del(store, key .. ":n:" .. row) end
    end
    return 0
  end
  if action == "continue" or sev == "intermediate" or sev == "success" then
    return self:pause(dest, now)
  end
  local reason = x.reason or r.reason or "unknown"
  local scope = x.scope or r.scope or SCOPE_OF[reason]
  if scope ~= "destination" then
    return self:pause(dest, now)
  end
  store:incr(key .. ":n", 1, 0, self.window)
  local row = self.pauses[reason] ~= nil and reason or "default"
  local p = self.pauses[row]
  if not p then return self:pause(dest, now) end
  local n = tonumber((store:incr(key .. ":n:" .. row, 1, 0, self.window))) or 1
  local len = floor(mmin(p.max, p.first * p.factor ^ (n - 1)))
  local untilt = now + len
  local old = tonumber(store:get(key .. ":until"))
  if not old or old < untilt then
    store:set(key .. ":until", untilt, len)
    return len, untilt
  end
  return old - now, old
end

--- Destination failures counted for `dest` in the current run (0 when
-- none), all reasons together.
function Tracker:failures(dest)
  local key = destkey(self, dest, "failures")
  return tonumber(self.store:get(key .. ":n")) or 0
end

-- }======================================================

return M
