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

-- The largest message read: smtpcode.bounce's default max_size, from the core.
local MAX_SIZE = require("smtpcode.core")._constants.BOUNCE_MAX_SIZE

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

-- The messages of a file, one at a time, in bounded memory: a file that
-- starts with "From " is an mbox, split at "From " lines that start the
-- file or follow an empty line; any other file is one message. each(msg,
-- i) is called per message; a message over max bytes is not kept and
-- each(nil, i) is called instead. The file is read in 64 KiB chunks and
-- every byte is looked at a bounded number of times (plain searches).
-- Returns nil, message when the file cannot be read.
local CHUNK = 65536

local function messages(path, max, each)
  local f = io.open(path, "rb")
  if not f then return nil, "cannot read" end
  local first = f:read(5) or ""
  if first ~= "From " then
    -- one message: refuse it unread past the limit
    local size = f:seek("end")
    if size and size > max then
      f:close()
      each(nil, 1)
      return true
    end
    f:seek("set", 0)
    local s = f:read("*a") or ""
    f:close()
    each(s, 1)
    return true
  end
  local parts, size, over, n = { first }, 5, false, 0
  local blank = false      -- the last complete line was empty
  local atstart = false    -- the next byte starts a line
  local function flush()
    n = n + 1
    if over then each(nil, n) else each(concat(parts), n) end
    parts, size, over = {}, 0, false
  end
  local function add(piece)
    if over then return end
    size = size + #piece
    if size > max then over, parts = true, {} return end
    parts[#parts + 1] = piece
  end
  local carry = ""         -- the start of a line too short to judge yet
  while true do
    local chunk = f:read(CHUNK)
    if not chunk then break end
    local s = carry .. chunk
    carry = ""
    local pos, len = 1, #s
    while pos <= len do
      if atstart then
        -- a line starts here: is it a boundary?
        if len - pos + 1 < 5 and not s:find("\n", pos, true) then
          carry = s:sub(pos)
          break
        end
        if blank and s:sub(pos, pos + 4) == "From " then flush() end
        atstart = false
        local c = s:byte(pos)
        blank = c == 10 or (c == 13 and s:byte(pos + 1) == 10)
      end
      local nl = s:find("\n", pos, true)
      if not nl then
        add(s:sub(pos))
        blank = false
        break
      end
      local line = s:sub(pos, nl)
      add(line)
      if #line > 2 or (#line == 2 and line ~= "\r\n") then blank = false end
      atstart = true
      pos = nl + 1
    end
  end
  if carry ~= "" then add(carry) end
  f:close()
  if size > 0 or over then flush() end
  return true
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
    local b, err, code
    if msg then b, err, code = smtpcode.bounce(msg)
    else err, code = "message exceeds max_size", "too_long" end
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
    local pending -- an mbox's first message, named once a second one shows
    local ok = messages(p, MAX_SIZE, function(msg, i)
      if i == 1 then pending = { msg } return end
      if pending then one(label .. "#1", pending[1]) pending = nil end
      one(label .. "#" .. i, msg)
    end)
    if not ok then
      io.stderr:write("smtpcode: bounce: cannot read ", p, "\n")
      status = 1
      return
    end
    if pending then one(label, pending[1]) end
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
