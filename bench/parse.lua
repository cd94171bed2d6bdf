-- bench/parse.lua: smtpcode against the pure-Lua parsers a user would write.
--
--   make bench      (runs this with lua5.4 and luajit)
--   LUA_PATH='lua/?.lua;bench/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/parse.lua [LINES]
--
-- Contenders, all over the same deterministic corpus (bench/corpus.lua,
-- ~50k lines of single and multi-line replies):
--   lua string.match   idiomatic: gmatch lines, match code/sep/enhanced,
--                      build {code=, enhanced=, severity=, text=, lines=}
--   lua string.byte    hand-written byte scanner building the same table
--   smtpcode.parse     whole replies -> table
--   smtpcode.parse+into  same, reusing one result table
--   smtpcode.scan      line by line -> code, severity, enhanced, text, continued
-- Prints ns per line and the speed ratio to the idiomatic parser.
-- Environment: BENCH_ROUNDS (default 5), BENCH_BACKEND=capi|ffi (LuaJIT).

local smtpcode = require "smtpcode"
local corpus = require "corpus"

local byte, sub, find, gmatch = string.byte, string.sub, string.find, string.gmatch
local concat, floor, clock, format = table.concat, math.floor, os.clock, string.format
local tonumber = tonumber

if os.getenv("BENCH_BACKEND") and smtpcode._set_backend then
  smtpcode._set_backend(os.getenv("BENCH_BACKEND"))
end

local userparse = require "userparse"
local SEV = userparse.SEV

-- (i) What most people write: patterns and a result table
-- (bench/userparse.lua), line by line with gmatch.
local function parse_match(reply)
  local add = userparse.reply()
  for line in gmatch(reply, "([^\n]*)\n") do
    if byte(line, -1) == 13 then line = sub(line, 1, -2) end
    local r, err = add(line)
    if r then return r end
    if r == nil then return nil, err end
  end
  return nil, "incomplete"
end

-- (ii) A hand-written byte scanner.
local function digits(s, p, last)
  local q = p
  local b = byte(s, q)
  while q <= last and b and b >= 48 and b <= 57 do
    q = q + 1
    b = byte(s, q)
  end
  return q, q - p
end

local function parse_bytes(reply)
  local pos, n = 1, #reply
  local code, enhanced, lines = nil, nil, {}
  while pos <= n do
    local eol = find(reply, "\n", pos, true)
    if not eol then return nil, "incomplete" end
    local last = eol - 1
    if byte(reply, last) == 13 then last = last - 1 end
    local d1, d2, d3, sep = byte(reply, pos, pos + 3)
    if not (d1 and d1 >= 48 and d1 <= 57 and d2 and d2 >= 48 and d2 <= 57
            and d3 and d3 >= 48 and d3 <= 57) then
      return nil, "syntax"
    end
    local c = (d1 - 48) * 100 + (d2 - 48) * 10 + (d3 - 48)
    if code and c ~= code then return nil, "inconsistent" end
    code = c
    local t = pos + 3
    if sep == 32 or sep == 45 then t = t + 1 end
    local e1 = byte(reply, t)
    if (e1 == 50 or e1 == 52 or e1 == 53) and byte(reply, t + 1) == 46 then
      local p, len = digits(reply, t + 2, last)
      if len >= 1 and len <= 3 and byte(reply, p) == 46 then
        local q, len2 = digits(reply, p + 1, last)
        if len2 >= 1 and len2 <= 3 and (q > last or byte(reply, q) == 32) then
          enhanced = enhanced or sub(reply, t, q - 1)
          t = q > last and q or q + 1
        end
      end
    end
    lines[#lines + 1] = sub(reply, t, last)
    pos = eol + 1
    if sep ~= 45 then
      return { code = code, enhanced = enhanced, severity = SEV[floor(code / 100)] or "unknown",
               text = concat(lines, "\n"), lines = lines }
    end
  end
  return nil, "incomplete"
end

-- Runners: each returns a checksum so nothing can be optimised away.
local function run_replies(fn, replies)
  local sum = 0
  for i = 1, #replies do
    local r = fn(replies[i])
    sum = sum + r.code
  end
  return sum
end

local parse = smtpcode.parse
local function run_parse(replies)
  local sum = 0
  for i = 1, #replies do
    sum = sum + parse(replies[i]).code
  end
  return sum
end

local function run_parse_into(replies)
  local sum, into = 0, {}
  for i = 1, #replies do
    sum = sum + parse(replies[i], nil, into).code
  end
  return sum
end

local scan = smtpcode.scan
local function run_scan(lines)
  local sum = 0
  for i = 1, #lines do
    local code = scan(lines[i])
    sum = sum + code
  end
  return sum
end

-- Check that every contender agrees before timing anything.
local function verify(replies, lines)
  local li = 0
  for i = 1, #replies do
    local a = assert(parse_match(replies[i]))
    local b = assert(parse_bytes(replies[i]))
    local c = assert(parse(replies[i]))
    if a.code ~= b.code or a.code ~= c.code or a.enhanced ~= b.enhanced or a.enhanced ~= c.enhanced
       or a.text ~= b.text or #a.lines ~= #c.lines then
      error(format("contenders disagree on reply %d: %q (%s/%s/%s %s/%s/%s)", i, replies[i],
        a.code, b.code, c.code, tostring(a.enhanced), tostring(b.enhanced), tostring(c.enhanced)))
    end
    for _ = 1, #a.lines do
      li = li + 1
      local code = scan(lines[li])
      if code ~= a.code then error(format("scan disagrees on line %d: %q", li, lines[li])) end
    end
  end
  assert(li == #lines)
end

local nlines_wanted = tonumber(arg and arg[1]) or 50000
local rounds = tonumber(os.getenv("BENCH_ROUNDS")) or 5
local replies, nlines = corpus.replies(nlines_wanted)
local lines = corpus.lines(replies)
verify(replies, lines)

-- Best of `rounds`, each round at least 0.1 s of work.
local function time(fn, arg1)
  local reps = 1
  local t0 = clock()
  fn(arg1)
  local once = clock() - t0
  if once < 0.1 then reps = floor(0.1 / math.max(once, 1e-6)) + 1 end
  local best = math.huge
  for _ = 1, rounds do
    collectgarbage()
    t0 = clock()
    for _ = 1, reps do fn(arg1) end
    local dt = (clock() - t0) / reps
    if dt < best then best = dt end
  end
  return best * 1e9 / nlines
end

local results = {
  { "lua string.match (idiomatic)", time(function(r) return run_replies(parse_match, r) end, replies) },
  { "lua string.byte scanner", time(function(r) return run_replies(parse_bytes, r) end, replies) },
  { "smtpcode.parse", time(run_parse, replies) },
  { "smtpcode.parse (reused table)", time(run_parse_into, replies) },
  { "smtpcode.scan (per line)", time(run_scan, lines) },
}

local base = results[1][2]
print(format("%s%s, smtpcode %s, backend %s: %d replies, %d lines, best of %d",
  _VERSION, jit and (" (" .. jit.version .. (jit.status() and ", JIT on" or ", JIT off") .. ")") or "",
  tostring(smtpcode._VERSION), tostring(smtpcode._BACKEND), #replies, nlines, rounds))
for _, r in ipairs(results) do
  print(format("  %-32s %8.1f ns/line  %6.2fx", r[1], r[2], base / r[2]))
end
