-- examples/demo.lua: parse the sample replies in examples/replies.txt and
-- print code, enhanced code and severity for each, one per line.
--
--   make demo
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/demo.lua [FILE]

local smtpcode = require "smtpcode"

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local path = arg and arg[1] or (here .. "/replies.txt")

-- Read the file: blocks separated by blank lines, '#' lines are comments.
local function read_replies(file)
  local fh = assert(io.open(file, "rb"))
  local replies, cur = {}, {}
  for line in fh:lines() do
    line = line:gsub("\r$", "")
    if line == "" then
      if #cur > 0 then replies[#replies + 1] = cur; cur = {} end
    elseif line:sub(1, 1) ~= "#" then
      cur[#cur + 1] = line
    end
  end
  if #cur > 0 then replies[#replies + 1] = cur end
  fh:close()
  return replies
end

local function shorten(s, n)
  if #s > n then return s:sub(1, n - 3) .. "..." end
  return s
end

local replies = read_replies(path)
print(string.format("%-3s %-4s %-8s %-12s %-5s %s", "#", "code", "enhanced", "severity", "lines", "notes / first text"))
for i, lines in ipairs(replies) do
  local wire = table.concat(lines, "\r\n") .. "\r\n"
  local r, err, code = smtpcode.parse(wire)
  if r then
    local notes = {}
    if r.mismatch then notes[#notes + 1] = "[mismatch]" end
    if r.nonstandard then notes[#notes + 1] = "[nonstandard]" end
    local first = (r.text or ""):match("^[^\n]*")
    notes[#notes + 1] = shorten(first, 56)
    print(string.format("%-3d %-4d %-8s %-12s %-5d %s", i, r.code, r.enhanced or "-",
      r.severity, r.lines and #r.lines or 1, table.concat(notes, " ")))
  else
    print(string.format("%-3d %-4s %-8s %-12s %-5d error %s: %s", i, "-", "-", "-", #lines, code, err))
  end
end
print(string.format("(%d replies from %s, smtpcode %s, %s backend, %s)", #replies,
  path, smtpcode._VERSION, smtpcode._BACKEND, jit and jit.version or _VERSION))
