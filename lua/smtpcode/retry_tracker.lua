--- smtpcode.retry_tracker: retry.tracker and its data (retry.pauses):
-- per destination, the failures that should pause all mail for it.
-- Re-exported by the front module smtpcode.retry (see there).

local type, tostring, tonumber = type, tostring, tonumber
local pairs, ipairs, setmetatable = pairs, ipairs, setmetatable
local require = require
local mmax = math.max
local format, lower, find, gsub = string.format, string.lower, string.find, string.gsub
local sort = table.sort
local ostime = os.time
local B = require "smtpcode.retry_base"
local argerror, typename, isnum = B.argerror, B.typename, B.isnum
local SCOPE_OF = B.SCOPE_OF
local S = require "smtpcode.retry_store"
local ladder_of, kv_adapter = S._ladder_of, S._kv_adapter

local _M = {}

--- Pauses of a whole destination, per reason of a destination-scoped
-- failure (see `retry.tracker`). The pause after the k-th such failure in a
-- row is min(max, first * factor^(k-1)) seconds. `false`: counted, never
-- pauses (greylisting is per sender/recipient/IP triplet: holding other mail
-- would only delay its own first try).
_M.pauses = {
  default = { first = 60, factor = 2, max = 900 },
  rate_limited = { first = 300, factor = 2, max = 3600 },
  blocklisted = { first = 1800, factor = 2, max = 4 * 3600 },
  greylisted = false,
}

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
function _M.tracker(opts)
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
  local store = opts.store or S.memory_store{ max_entries = opts.max_entries, clock = clock }
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
  for k, v in pairs(_M.pauses) do pauses[k] = v end
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

return _M
