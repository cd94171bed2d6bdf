-- bench/bounce.lua: smtpcode.bounce next to Sisimai (Perl) on the same
-- whole bounce messages, per message; and bounce's cost per byte as a
-- message grows (linear: the ratio stays near 1).
--
--   make bench      (runs this with lua5.4 and luajit)
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/bounce.lua
--
-- Messages: every file under ../shared/corpus/emails/maildir/{bsd,dos,mac}
-- (BENCH_CORPUS sets another emails/ directory). Sisimai runs in a child
-- perl (bench/sisimai-bounce.pl), timed inside Perl (start-up excluded);
-- bounce is timed with os.clock. Both CPU time, best of BENCH_ROUNDS rounds.
local smtpcode = require "smtpcode"
local clock, format, getenv = os.clock, string.format, os.getenv

local ROUNDS = tonumber(getenv("BENCH_ROUNDS") or "") or 3
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local root = here .. "/.."
local emails = getenv("BENCH_CORPUS")
if not emails then
  for _, d in ipairs { root .. "/../shared/corpus/emails", "/work/shared/corpus/emails" } do
    local f = io.open(d .. "/LICENSE", "rb")
    if f then f:close() emails = d break end
  end
end
if not emails then print("bench/bounce.lua: no corpus found, skipped") return end

local paths, msgs, bytes = {}, {}, 0
for _, sub in ipairs { "maildir/bsd", "maildir/dos", "maildir/mac" } do
  local p = io.popen('ls -1 "' .. emails .. "/" .. sub .. '"')
  for name in p:lines() do
    local path = emails .. "/" .. sub .. "/" .. name
    local f = io.open(path, "rb")
    if f then
      local s = f:read("*a")
      f:close()
      paths[#paths + 1] = path
      msgs[#msgs + 1] = s
      bytes = bytes + #s
    end
  end
  p:close()
end

local bounce = smtpcode.bounce
local function run(list)
  local n = 0
  for i = 1, #list do
    if bounce(list[i]) then n = n + 1 end
  end
  return n
end

local function best(fn, minimum)
  local b = math.huge
  for _ = 1, ROUNDS do
    local t, iters = clock(), 0
    repeat fn(); iters = iters + 1 until clock() - t >= (minimum or 0.2)
    local per = (clock() - t) / iters
    if per < b then b = per end
  end
  return b
end

local read = run(msgs)
local t = best(function() run(msgs) end)
local us = t / #msgs * 1e6
print(format("bounce: %d messages (%d read as reports), %.1f KiB; %.2f us per message, %.1f ns per byte"
  .. " (%s, %s backend)", #msgs, read, bytes / 1024, us, t / bytes * 1e9,
  jit and jit.version or _VERSION, smtpcode._BACKEND))

-- Sisimai on the same files
local list = os.tmpname()
local f = assert(io.open(list, "wb"))
f:write(table.concat(paths, "\n"), "\n")
f:close()
local h = io.popen('perl "' .. here .. '/sisimai-bounce.pl" "' .. list .. '" 1 2>/dev/null')
local out = h and h:read("*a") or ""
if h then h:close() end
os.remove(list)
local n, s, v = out:match("messages (%d+) iterations %d+ seconds ([%d.]+) results %d+ version (%S+)")
if n then
  local sus = tonumber(s) / tonumber(n) * 1e6
  print(format("sisimai %s: %.1f us per message; bounce is %.0fx faster", v, sus, sus / us))
else
  print("sisimai: not available (apt-get install libsisimai-perl)")
end

-- linear in size: a Postfix DSN whose recipient groups grow, from 20 to
-- max_recipients (1000); bounce reads every group (fields, diagnostic,
-- classify), so the whole message is read at both sizes
local base
for _, m in ipairs(msgs) do
  if m:find("X-Postfix-Queue-ID", 1, true) and m:find("Diagnostic-Code: smtp;", 1, true)
      and not m:find("\r", 1, true) then
    base = m
    break
  end
end
if not base then print("linear: no Postfix DSN in the corpus, skipped") return end
local ga = base:find("Final-Recipient:", 1, true)
local gb = base:find("\n\n", ga, true)
local group = base:sub(ga, gb + 1)
local addr = group:match("^Final%-Recipient:%s*rfc822;%s*<?([^%s>]+)")
local function grown(k)
  local parts = {}
  for j = 1, k do
    local a = "r" .. j .. "." .. addr
    parts[j] = (group:gsub(addr:gsub("%p", "%%%0"), function() return a end))
  end
  return base:sub(1, ga - 1) .. table.concat(parts) .. base:sub(gb + 2)
end
local others = #assert(bounce(base)).recipients - 1 -- the groups after the first
local function perbyte(k)
  local m = grown(k)
  local b = assert(bounce(m))
  assert(#b.recipients == k + others, "not every recipient read")
  local tt = best(function() bounce(m) end, 0.05)
  return tt / #m, #m
end
local small, sn = perbyte(20)
local big, bn = perbyte(1000 - others)
print(format("linear: %.2f ns/byte at 20 recipients (%d KiB), %.2f ns/byte at 1000 (%d KiB)"
  .. " (ratio %.2f)", small * 1e9, math.floor(sn / 1024), big * 1e9, math.floor(bn / 1024),
  big / small))
