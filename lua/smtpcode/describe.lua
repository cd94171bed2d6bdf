--- smtpcode.describe: the registry (what every code means), describe(x)
-- and codes(kind). The tables come from the C core at each call (one
-- source of truth). The front module (lua/smtpcode.lua) re-exports both.

local core = require "smtpcode.core"
local escaped = require("smtpcode.shown").escaped

local type, error = type, error
local floor = math.floor
local format = string.format
local sub = string.sub

local _M = {}

local match = string.match
local tonumber, ipairs, pairs = tonumber, ipairs, pairs

local SEVERITY = { [2] = "success", [3] = "intermediate", [4] = "transient",
  [5] = "permanent" }

local function part(e, code)
  if not e then return nil end
  return { code = code or e.code, title = e.title, description = e.description,
    references = e.references, control = e.control }
end

local function notes_of(list)
  local out = {}
  for i, n in ipairs(list) do
    out[i] = { provider = n.provider, code = n.code, meaning = n.description,
      example = n.example, source = n.source }
  end
  return out
end

local function reply_table(code)
  if code < 200 or code > 599 then
    return nil, "not an SMTP reply code (200-599)", "syntax"
  end
  local d1, d2 = floor(code / 100), floor(code / 10) % 10
  local first, second = core.reply_digit(1, d1), core.reply_digit(2, d2)
  local e = core.reply_info(code)
  local t = {
    kind = "reply", code = format("%d", code), severity = SEVERITY[d1],
    class = part(first, d1 .. "yz"), subject = part(second, "x" .. d2 .. "z"),
    notes = notes_of(core.notes(code, nil, -1, -1)),
  }
  if e then
    t.title, t.description, t.references = e.title, e.description, e.references
    t.standard, t.commands, t.emitted_by = e.standard, e.commands, e.emitted_by
    t.remarks = e.remarks
    local i, uses = 1, {}
    while true do
      local a = core.reply_alt(code, i)
      if not a then break end
      uses[i] = { title = a.title, description = a.description,
        references = a.references, standard = a.standard, commands = a.commands,
        remarks = a.remarks }
      i = i + 1
    end
    t.other_uses = uses
  else
    t.fallback = true
    t.fallback_code = d1 .. "yz"
    t.title = first.title
    t.description = format("%d is not a known reply code; it is described by " ..
      "its first digit: %s", code, first.description)
    t.references = first.references
    t.standard = "non-standard"
    t.other_uses = {}
  end
  return t
end

local function enhanced_table(cls, subject, detail)
  local code = (cls == 0 and "X" or tostring(cls)) .. "." .. subject .. "." .. detail
  local e, fb = core.enhanced_info(cls, subject, detail)
  if not e then
    return nil, code .. " is not a known enhanced status code", "unknown"
  end
  local t = {
    kind = "enhanced", code = code, severity = SEVERITY[cls],
    class = part(core.class_info(cls)), subject = part(core.subject_info(subject)),
    notes = notes_of(core.notes(nil, cls, subject, detail)),
  }
  if fb == nil then
    t.title, t.description, t.references = e.title, e.description, e.references
    t.standard, t.basic_codes, t.class_note = e.standard, e.basic_codes, e.class_note
    t.remarks = e.remarks
  else
    t.fallback = true
    t.fallback_code = e.code
    t.title = e.title
    t.references = "RFC 3463 §2"
    t.standard = "non-standard"
    if fb == "subject" then
      t.description = format("%s is not in the registry; it is described by its " ..
        "subject (%s): %s", code, e.code, e.description)
    else
      t.description = format("%s is not in the registry and its subject is " ..
        "unknown; it is described by its class (%s): %s", code, e.code, e.description)
    end
  end
  return t
end

-- Top level of a whole reply: the pair when it is a known common pair,
-- else the enhanced code, else the reply code; both codes in sub-tables.
local function reply_with_enhanced(code, cls, subject, detail, text)
  local r, msg, err = reply_table(code)
  if not r then return nil, msg, err end
  local en = nil
  if cls then en = enhanced_table(cls, subject, detail) end
  local t = {}
  local p = en and core.pair_info(code, cls, subject, detail)
  if p then
    t.kind, t.code, t.title, t.description = "pair", p.code, p.title, p.description
    t.references, t.standard, t.remarks = p.references, p.standard, p.remarks
    t.severity, t.class, t.subject = r.severity, en.class, en.subject
  else
    for k, v in pairs(en or r) do t[k] = v end
  end
  local notes = {}
  for _, n in ipairs(r.notes) do notes[#notes + 1] = n end
  if en then for _, n in ipairs(en.notes) do notes[#notes + 1] = n end end
  t.notes = notes
  t.reply, t.enhanced, t.text = r, en, text
  if en and cls ~= floor(code / 100) then t.mismatch = true end
  return t
end

-- The core checks the syntax; "X" (any class) is checked as class 2.
local function parse_enhanced(s)
  local rest = match(s, "^[Xx](%..*)$")
  if rest then
    local c, sb, d = core.status("2" .. rest)
    if not c then return nil end
    return 0, sb, d
  end
  return core.status(s)
end

local NOTCODE = "not an SMTP reply code or enhanced status code"

-- Trim blanks in linear time (the pattern "^%s*(.-)%s*$" is quadratic on
-- long runs of blanks) and look at no more than a reply can hold: at
-- most MAXREAD bytes of leading blanks are skipped (more: nil, the text
-- holds no code there), then at most MAXREAD bytes are read.
local sbyte, sfind = string.byte, string.find
local MAXREAD = 65536
local function blank(b) return b == 32 or (b >= 9 and b <= 13) end
local function trim(x)
  local n = #x
  local a = sfind(n > MAXREAD and sub(x, 1, MAXREAD + 1) or x, "[^ \t-\r]")
  if not a then
    if n > MAXREAD then return nil end
    return ""
  end
  local b = n
  if b - a >= MAXREAD then b = a + MAXREAD - 1 end
  while b >= a and blank(sbyte(x, b)) do b = b - 1 end
  return sub(x, a, b)
end

--- Describe a reply code (550, "550"), an enhanced code ("5.1.1",
-- "X.1.1"), a whole reply ("550 5.1.1 User unknown") or a text holding
-- one (a log line, "smtp error [221] 2.0.0 bye": found as find does).
-- Returns a table (see docs/codes.md), or nil, message, code with code
-- "syntax" (not a code) or "unknown" (an enhanced code with nothing known).
function _M.describe(x)
  local tx = type(x)
  if tx == "number" then
    if x ~= floor(x) then return nil, NOTCODE, "syntax" end
    return reply_table(x)
  end
  if tx ~= "string" then
    error(format("bad argument #1 to 'describe' (string expected, got %s)", tx), 0)
  end
  local s = trim(x)
  if not s then return nil, NOTCODE, "syntax" end
  if match(s, "^%d%d%d$") then return reply_table(tonumber(s)) end
  if match(s, "^[%dXx]+%.%d+%.%d+$") then
    local c, sb, d = parse_enhanced(s)
    if not c then return nil, NOTCODE, "syntax" end
    return enhanced_table(c, sb, d)
  end
  -- a log line may put the reply code in brackets: "[221] 2.0.0 bye"
  local code, rest = match(s, "^%[(%d%d%d)%]%s*(.*)$")
  if code then s = code .. " " .. rest end
  local p = core.parse(s, { lenient = true })
  if p then return reply_with_enhanced(p.code, p.class, p.subject, p.detail, p.text) end
  -- free text around a reply ("smtp error [221] 2.0.0 bye", a log line,
  -- "Diagnostic-Code: smtp; 550 ...", "Status: 5.1.1"): what find sees
  local f = core.find(s)
  if f and not f.weak then
    if f.code then
      return reply_with_enhanced(f.code, f.class, f.subject, f.detail, f.text)
    end
    return enhanced_table(f.class, f.subject, f.detail)
  end
  return nil, NOTCODE, "syntax"
end

local KINDS = { reply = "reply", enhanced = "enhanced", pair = "pair" }

--- Iterate over the registry: for code, t in smtpcode.codes("reply") do.
-- kind: "reply" (every reply code with a meaning), "enhanced" (the
-- registry X.s.d entries) or "pair" (the common reply/enhanced pairs).
-- Yields the code string and describe(code).
function _M.codes(kind)
  if type(kind) ~= "string" then
    error(format("bad argument #1 to 'codes' (string expected, got %s)", type(kind)), 0)
  end
  if not KINDS[kind] then
    error(format("bad argument #1 to 'codes' (invalid kind '%s')", escaped(kind)), 0)
  end
  local i, n = 0, core.registry_count(kind)
  return function()
    i = i + 1
    if i > n then return nil end
    local e = core.registry_at(kind, i)
    local t
    if kind == "reply" then
      t = reply_table(e.reply)
    elseif kind == "enhanced" then
      t = enhanced_table(0, e.subject, e.detail)
    else
      t = _M.describe(e.code)
    end
    return e.code, t
  end
end

return _M
