--- smtpcode.rules: classify rules added at run time (add_rule, clear_rules).
--
-- The built-in rules are compiled into the C core (data/rules.tsv). Rules
-- added at run time are plain substring tests over the lower-cased text,
-- tried in the order they were added, before the built-in ones; the first
-- that holds gives the reason (and scope), the C core recomputes bounce and
-- retry. opts.user_rules = false skips them. The front module
-- (lua/smtpcode.lua) re-exports add_rule and clear_rules.

local core = require "smtpcode.core"
local shown = require("smtpcode.shown").shown

local type, error = type, error
local floor = math.floor
local concat = table.concat
local sub = string.sub
local format = string.format

local _M = {}

local lower, sfind, gmatch = string.lower, string.find, string.gmatch
local ipairs = ipairs
local REASON, SCOPE = {}, {}
do
  local rs, ss = core.reasons()
  for _, r in ipairs(rs) do REASON[r] = true end
  for _, s in ipairs(ss) do SCOPE[s] = true end
end
local urules = {}
local MAX_CLASSIFY = core._constants.MAX_CLASSIFY
-- at most this many run-time rules: each costs a pass over the text of
-- every failure classified
local MAX_RULES = 1000

-- on_hooked(on): set by the front module, told when rules come to exist
-- (on = true) or are all dropped (false), so that a backend that does not
-- go through the C function (the FFI) sends classify there while rules exist
_M.on_hooked = nil
local function notify(on)
  local f = _M.on_hooked
  if f then f(on) end
end

local function argerror(n, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end

-- near = n: each later phrase starts within n words of the one before,
-- in the same sentence (as "a ~ b" in data/rules.tsv): looked for in
-- the 64 bytes after it only, so the work stays linear in the text.
local function gapok(gap, n)
  if sfind(gap, "[\r\n]") or sfind(gap, "[%.;!?][ \t]") then
    return false
  end
  local words = 0
  for _ in gmatch(gap, "[^ \t]+") do words = words + 1 end
  return words <= n
end

local function holdsnear(u, low)
  local ph, n = u.phrases, u.near
  local start = 1
  while true do
    local a, b = sfind(low, ph[1], start, true)
    if not a then return false end
    local pos, ok = b + 1, true
    for k = 2, #ph do
      local w = sub(low, pos, pos + 63 + #ph[k])
      local c, d = sfind(w, ph[k], 1, true)
      if not c or not gapok(sub(w, 1, c - 1), n) then ok = false break end
      pos = pos + d
    end
    if ok then return true end
    start = a + 1
  end
end

local function holds(u, low, code, class)
  if u.code and code ~= u.code then return false end
  if u.class then
    local c = code and floor(code / 100) or class
    if c ~= u.class then return false end
  end
  if u.near then return holdsnear(u, low) end
  local pos = 1
  for _, p in ipairs(u.phrases) do
    local a, b = sfind(low, p, pos, true)
    if not a then return false end
    pos = b + 1
  end
  return true
end

-- The user rules, tried on a failure that classify is answering: the
-- reason, scope and matched text of the first that holds, or nothing. The
-- C core calls this hook only while rules exist (core._set_hook), so
-- classify costs nothing more without; it settles the verdict it holds
-- with the answer (smtpcode_settle), without classifying again.
-- code, class: the verdict's reply code and enhanced class (or nil).
local function hook(x, code, class)
  local text = x
  if type(x) == "table" then text = rawget(x, "text") end
  if type(text) ~= "string" then return nil end
  -- the same prefix the built-in rules read (SMTPCODE_MAX_CLASSIFY)
  if #text > MAX_CLASSIFY then text = sub(text, 1, MAX_CLASSIFY) end
  local low = lower(text)
  for _, u in ipairs(urules) do
    if holds(u, low, code, class) then
      return u.reason, u.scope, u.matched
    end
  end
  return nil
end



--- add_rule{ reason = "blocklisted", match = "phrase" | {"a", "b"},
-- code = 550?, class = 5?, scope = "destination"?, near = 5? }: a
-- run-time rule that takes precedence over the built-in ones (near: each
-- later phrase within that many words of the one before, in the same
-- sentence, like "a ~ b" in data/rules.tsv). Returns its number.
function _M.add_rule(t)
  if type(t) ~= "table" then
    argerror(1, "add_rule", "table expected, got " .. type(t))
  end
  -- read raw, as every table passed in
  local reason, m, code = rawget(t, "reason"), rawget(t, "match"), rawget(t, "code")
  local class, scope = rawget(t, "class"), rawget(t, "scope")
  local near = rawget(t, "near")
  if type(reason) ~= "string" or not REASON[reason] then
    argerror(1, "add_rule", "reason must be one of the reasons, got " .. shown(reason))
  end
  local phrases = {}
  if type(m) == "string" then m = { m } end
  if type(m) ~= "table" or rawget(m, 1) == nil then
    argerror(1, "add_rule", "match must be a string or a list of strings")
  end
  local i = 1
  while true do
    local p = rawget(m, i)
    if p == nil then break end
    if type(p) ~= "string" or p == "" then
      argerror(1, "add_rule", "match must be a string or a list of strings")
    end
    phrases[i] = lower(p)
    i = i + 1
  end
  if code ~= nil and (type(code) ~= "number" or code % 1 ~= 0
      or code < 200 or code > 599) then
    argerror(1, "add_rule", "code must be a reply code (200-599)")
  end
  if class ~= nil and class ~= 4 and class ~= 5 then
    argerror(1, "add_rule", "class must be 4 or 5")
  end
  if scope ~= nil and (type(scope) ~= "string" or not SCOPE[scope]) then
    argerror(1, "add_rule", "scope must be one of the scopes, got " .. shown(scope))
  end
  if near ~= nil and (type(near) ~= "number" or near % 1 ~= 0
      or near < 0 or near > 20) then
    argerror(1, "add_rule", "near must be a number of words (0-20)")
  end
  local n = #urules + 1
  if n > MAX_RULES then
    argerror(1, "add_rule", format("too many rules (at most %d; clear_rules drops them)",
      MAX_RULES))
  end
  local label = concat(phrases, near and " ~ " or " && ")
  urules[n] = { reason = reason, scope = scope, code = code,
    class = class, phrases = phrases, near = near, label = label,
    matched = format("user rule %d: %q", n, label) }
  core._set_hook(hook)
  notify(true)
  return n
end

--- clear_rules(): drop every rule added with add_rule.
function _M.clear_rules()
  urules = {}
  core._set_hook(nil)
  notify(false)
end

return _M
