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
local format, lower, find, gsub = string.format, string.lower, string.find, string.gsub
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

-- The back-off formula, the one place it is written: the length after the
-- n-th failure in a row of a schedule or pause row { first, factor, max }.
local function backoff(first, factor, max, n)
  return mmin(max, first * factor ^ (n - 1))
end

-- Base delay after the n-th failed attempt.
local function base(s, n)
  return backoff(s.first, s.factor, s.max, n)
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
local function default_log(msg)
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.log) == "function" and ngx.WARN then
    ngx.log(ngx.WARN, msg)
  else
    io.stderr:write(msg, "\n")
  end
end

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

function M.shdict_store(dict, opts)
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
function M.redis_store(client, opts)
  return require("smtpcode.retry_redis").new(client, opts)
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
-- opts (optional): store (default a memory_store of max_entries
-- destinations; see the interface above), window (s a run of failures is
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
  if store.fail == nil then
    for _, m in ipairs({ "get", "set", "incr" }) do
      if store[m] == nil then
        argerror(1, "tracker", format("store has no '%s' method", m))
      end
    end
    store = kv_adapter(store)
  else
    for _, m in ipairs({ "pause", "clear", "failures" }) do
      if store[m] == nil then
        argerror(1, "tracker", format("store has no '%s' method", m))
      end
    end
  end
  local window = opts.window or 4 * 3600
  if not (isnum(window) and window > 0) then
    argerror(1, "tracker", "option 'window' must be a positive number")
  end
  local prefix = opts.prefix or "smtpcode:"
  if find(prefix, "[{}]") then
    argerror(1, "tracker", "option 'prefix' must not contain '{' or '}' (the hash tag is the destination)")
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
  local ladders, rows = {}, {}
  for k, v in pairs(pauses) do
    ladders[k] = v and ladder_of(v)
    rows[#rows + 1] = k
  end
  sort(rows)
  return setmetatable({ store = store, window = window, pauses = pauses,
                        prefix = prefix, _clock = clock, _ladders = ladders,
                        _rows = rows, _keys = {}, _nkeys = 0 }, Tracker)
end

local BRACES = { ["{"] = "%7B", ["}"] = "%7D" }

-- The key of a destination: prefix .. "{" .. destination .. "}", the
-- braces a Redis Cluster hash tag (all keys of a destination on one slot).
local KEY_CACHE = 1024   -- destinations whose key a tracker remembers

local function destkey(self, dest, fname)
  if type(dest) ~= "string" then
    argerror(1, fname, "string expected, got " .. typename(dest))
  end
  local keys = self._keys
  local key = keys[dest]
  if key then return key end
  local n = #dest
  if n == 0 or n > 255 then
    argerror(1, fname, "destination must be 1 to 255 bytes")
  end
  local d = lower(dest)
  if find(d, "[{}]") then d = gsub(d, "[{}]", BRACES) end
  key = self.prefix .. "{" .. d .. "}"
  if self._nkeys >= KEY_CACHE then
    keys = {}
    self._keys, self._nkeys = keys, 0
  end
  keys[dest] = key
  self._nkeys = self._nkeys + 1
  return key
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
  local u = tonumber((self.store:pause(key, now)))
  if u and u > now then return u - now, u end
  return 0
end

--- Seconds to hold mail for each destination of the list `dests` at time
-- `now` (a list in the same order, 0 = send). One round trip for the
-- whole list with a store that has pause_many (Redis), else one pause
-- check each.
function Tracker:pause_many(dests, now)
  if type(dests) ~= "table" then
    argerror(1, "pause_many", "table of destinations expected, got " .. typename(dests))
  end
  now = checknow(self, now, 2, "pause_many")
  local n, keys, out = #dests, {}, {}
  for i = 1, n do keys[i] = destkey(self, dests[i], "pause_many") end
  local store = self.store
  if store.pause_many then
    local us = store:pause_many(keys, now)
    for i = 1, n do
      local u = tonumber(us[i])
      out[i] = (u and u > now) and u - now or 0
    end
  else
    for i = 1, n do
      local u = tonumber((store:pause(keys[i], now)))
      out[i] = (u and u > now) and u - now or 0
    end
  end
  return out
end

--- Record the outcome of an attempt for `dest`: a decision of
-- `policy:decide` or a classify result. A success clears the destination's
-- failures; a failure with scope "destination" counts and may pause it (the
-- pause grows with the failures of the same pause row in a row); other
-- outcomes change nothing. Returns the pause now in force (seconds, 0 =
-- none) and when it ends. Never raises on a store's trouble (see stats).
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
    store:clear(key, self._rows)
    return 0
  end
  local reason = x.reason or r.reason or "unknown"
  local scope = x.scope or r.scope or SCOPE_OF[reason]
  if action == "continue" or sev == "intermediate" or sev == "success"
    or scope ~= "destination" then
    local u = tonumber((store:pause(key, now)))
    if u and u > now then return u - now, u end
    return 0
  end
  local row = self.pauses[reason] ~= nil and reason or "default"
  local lad = self._ladders[row]
  local u
  if lad then
    u = store:fail(key, row, lad, now, self.window)
  else
    u = store:fail(key, nil, nil, now, self.window)
  end
  u = tonumber(u)
  if u and u > now then return u - now, u end
  return 0
end

--- Destination failures counted for `dest` in the current run (0 when
-- none), all reasons together.
function Tracker:failures(dest)
  local key = destkey(self, dest, "failures")
  return tonumber((self.store:failures(key, self._clock()))) or 0
end

--- The store's counters (what it could not do: misses, errors ...).
function Tracker:stats()
  local st = self.store
  return st.stats and st:stats() or {}
end

-- }======================================================

return M
