--- smtpcode.bouncecli: the `smtpcode bounce` command (bin/smtpcode hands
-- over to main). One line per recipient of every bounce read from files,
-- maildirs (a directory: its files, and those of cur/ and new/) or mbox
-- files (split at "From " lines), then a summary.
--
--   smtpcode bounce [--json] FILE|DIR...
--
-- Columns (tab-separated, "-" when empty):
--   source  recipient  action  reason  status  code  bounce  retry  text
-- source is FILE, FILE#N for the N-th message of an mbox. Messages that are
-- not reports print "source - not_bounce ..." lines only with --all.
local smtpcode = require "smtpcode"

local io, string, table = io, string, table
local ipairs, pairs, tostring, type = ipairs, pairs, tostring, type
local format, concat = string.format, table.concat

local M = {}

local function readfile(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function isdir(p)
  local f = io.open(p .. "/.", "rb")
  if f then f:close() return true end
  return false
end

local function listdir(p)
  local out = {}
  -- single quotes: the shell expands nothing inside them ($, `, \)
  local h = io.popen("ls -1 '" .. p:gsub("'", "'\\''") .. "' 2>/dev/null")
  if h then
    for name in h:lines() do out[#out + 1] = name end
    h:close()
  end
  return out
end

-- The messages of an mbox: split at "From " lines that follow an empty
-- line (or start the file). Linear: plain searches only.
local function mbox(s)
  local out, pos = {}, 1
  local starts = {}
  if s:sub(1, 5) == "From " then starts[1] = 1 end
  while true do
    local i = s:find("\n\nFrom ", pos, true)
    local j = s:find("\n\r\nFrom ", pos, true)
    if j and (not i or j < i) then i = j + 1 end
    if not i then break end
    starts[#starts + 1] = i + 2
    pos = i + 2
  end
  if #starts < 2 then return { s } end
  for k, st in ipairs(starts) do
    out[#out + 1] = s:sub(st, (starts[k + 1] or #s + 2) - 2)
  end
  return out
end

local function jsonstr(v)
  return '"' .. tostring(v):gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return format("\\u%04x", c:byte())
  end) .. '"'
end

local function json(t)
  local parts = {}
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    local e
    if type(v) == "number" or type(v) == "boolean" then e = tostring(v)
    elseif type(v) == "table" then e = json(v)
    else e = jsonstr(v) end
    parts[#parts + 1] = jsonstr(k) .. ":" .. e
  end
  return "{" .. concat(parts, ",") .. "}"
end

local function field(v)
  if v == nil then return "-" end
  if v == true then return "yes" elseif v == false then return "no" end
  return (tostring(v):gsub("[%c]+", " "))
end

--- main(args): run `smtpcode bounce` with the command's arguments (after
-- the word `bounce`); prints to stdout and returns the exit status.
function M.main(args)
  local asjson, all, inputs = false, false, {}
  for _, a in ipairs(args) do
    if a == "--json" then asjson = true
    elseif a == "--all" then all = true
    elseif a:sub(1, 2) == "--" then
      io.stderr:write("smtpcode: bounce: unknown option ", a, "\n")
      return 2
    else inputs[#inputs + 1] = a end
  end
  if #inputs == 0 then
    io.stderr:write("usage: smtpcode bounce [--json] [--all] FILE|DIR...\n")
    return 2
  end
  local status, nmsg, nb, nrc = 0, 0, 0, 0
  local byreason, byerr = {}, {}
  local out = io.stdout
  local function one(source, msg)
    nmsg = nmsg + 1
    if nmsg % 1000 == 0 then io.stderr:write(format("smtpcode: bounce: %d messages\r", nmsg)) end
    local b, err, code = smtpcode.bounce(msg)
    if not b then
      byerr[code] = (byerr[code] or 0) + 1
      if all then
        if asjson then out:write(json { source = source, error = code, message = err }, "\n")
        else out:write(concat({ source, "-", code, "-", "-", "-", "-", "-", err }, "\t"), "\n") end
      end
      return
    end
    nb = nb + 1
    for _, r in ipairs(b.recipients) do
      nrc = nrc + 1
      local key = (r.action or "-") .. " " .. (r.reason or "-")
      byreason[key] = (byreason[key] or 0) + 1
      if asjson then
        local o = { source = source, format = b.format, mta = b.mta }
        for k, v in pairs(r) do o[k] = v end
        out:write(json(o), "\n")
      else
        out:write(concat({ source, field(r.recipient), field(r.action), field(r.reason), field(r.status),
          field(r.code), field(r.bounce), field(r.retry), field(r.diagnostic) }, "\t"), "\n")
      end
    end
  end
  local function file(p, label)
    local s = readfile(p)
    if not s then
      io.stderr:write("smtpcode: bounce: cannot read ", p, "\n")
      status = 1
      return
    end
    local msgs = s:sub(1, 5) == "From " and mbox(s) or { s }
    if #msgs == 1 then one(label, msgs[1])
    else for i, m in ipairs(msgs) do one(label .. "#" .. i, m) end end
  end
  for _, p in ipairs(inputs) do
    if isdir(p) then
      local subs = { p }
      if isdir(p .. "/cur") then subs = { p .. "/cur", p .. "/new" } end
      for _, d in ipairs(subs) do
        for _, name in ipairs(listdir(d)) do
          if not isdir(d .. "/" .. name) then file(d .. "/" .. name, d .. "/" .. name) end
        end
      end
    else
      file(p, p)
    end
  end
  if nmsg >= 1000 then io.stderr:write("\n") end
  if asjson then
    out:write(json { summary = { messages = nmsg, bounces = nb, recipients = nrc,
      by_reason = byreason, not_read = byerr } }, "\n")
  else
    out:write(format("# %d messages, %d reports, %d recipients\n", nmsg, nb, nrc))
    local keys = {}
    for k in pairs(byreason) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return byreason[a] > byreason[b] or (byreason[a] == byreason[b] and a < b) end)
    for _, k in ipairs(keys) do out:write(format("# %6d  %s\n", byreason[k], k)) end
    for k, n in pairs(byerr) do out:write(format("# %6d  %s\n", n, k)) end
  end
  return status
end

return M
