--- smtpcode.retry_policy: retry.policy and its data (retry.defaults,
-- retry.schedules): what a sender does after each reply, and when to try
-- again. Re-exported by the front module smtpcode.retry (see there).

local type, error, tostring = type, error, tostring
local pairs, ipairs, setmetatable, getmetatable = pairs, ipairs, setmetatable, getmetatable
local pcall, require = pcall, require
local floor, mmin, mmax, huge = math.floor, math.min, math.max, math.huge
local format = string.format
local ostime = os.time
local mrandom = math.random
local B = require "smtpcode.retry_base"
local argerror, typename, isnum = B.argerror, B.typename, B.isnum
local backoff, SCOPE_OF, HARD = B.backoff, B.SCOPE_OF, B.HARD

local _M = {}

-- {======================================================
-- Data: defaults and schedules per reason
-- =======================================================

--- Default options of `retry.policy`.
_M.defaults = {
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
_M.schedules = {
  default = { first = "min_backoff", factor = 2, max = "max_backoff" },
  -- Greylisting: come back soon after the greylisting delay, and keep
  -- coming back within 15 minutes: greylisting servers forget pending
  -- entries (postgrey's retry window), so a long pause would start over.
  greylisted = { first = "greylist_delay", factor = 1.5, max = 900 },
  -- Throttled or refused for reputation: hitting again soon makes it worse.
  rate_limited = { first = { "min_backoff", 3 }, factor = 2, max = { "max_backoff", 2 } },
  blocklisted = { first = { "min_backoff", 6 }, factor = 2, max = { "max_backoff", 4 } },
}

local SEVERITIES = { success = true, intermediate = true, transient = true,
                     permanent = true, unknown = true }

-- }======================================================

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
function _M.policy(opts)
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
  for k, v in pairs(_M.defaults) do o[k] = v end
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
  for name, row in pairs(_M.schedules) do rows[name] = row end
  if opts.reasons then
    for name, row in pairs(opts.reasons) do
      if type(name) ~= "string" then
        argerror(1, "policy", "reasons keys must be reason names")
      end
      checkrow(row, name)
      local merged = {}
      local base = _M.schedules[name] or _M.schedules.default
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

return _M
