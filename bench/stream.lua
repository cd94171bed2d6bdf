-- bench/stream.lua: smtpcode.reader against a pure-Lua line-loop reader.
--
--   make bench      (runs this with lua5.4 and luajit, then counts
--                    instructions with callgrind)
--   LUA_PATH='lua/?.lua;bench/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/stream.lua [REPLIES]
--
-- The stream is the bench corpus (bench/corpus.lua, one reply after
-- another with CRLF), cut three ways: in 4096-byte reads (pipelined
-- replies and replies split across reads), one reply per read, and
-- 16-byte reads (every reply split). Contenders, each returning a table
-- per reply (code, enhanced, lines, text):
--   lua line loop    what our examples did: append the read to a buffer,
--                    cut lines at "\n", a reply ends at a line whose 4th
--                    byte is not "-", codes and text by string.match
--   smtpcode.reader  r:feed(chunk)
-- Prints replies per second and the ratio. Environment: BENCH_ROUNDS
-- (default 5); STREAM_ONLY=lua|reader|none runs one contender once over
-- the 4096-byte cut (for callgrind: instructions = that run - "none").

local smtpcode = require "smtpcode"
local corpus = require "corpus"

local find, sub, byte = string.find, string.sub, string.byte
local concat, clock, format = table.concat, os.clock, string.format
local tonumber = tonumber

local userparse = require "userparse"

-- The pure-Lua reader a user writes: lines cut from a buffer, each parsed
-- as bench/userparse.lua does.
local function lua_reader()
  local buf, add = "", userparse.reply()
  return function(chunk)
    buf = buf .. chunk
    local out, pos = {}, 1
    while true do
      local e = find(buf, "\n", pos, true)
      if not e then break end
      local last = e - 1
      if byte(buf, last) == 13 then last = last - 1 end
      local line = sub(buf, pos, last)
      pos = e + 1
      local r, err = add(line)
      if r == nil then return nil, err end
      if r then out[#out + 1] = r end
    end
    buf = sub(buf, pos)
    return out
  end
end

local function smtpcode_reader()
  local r = smtpcode.reader()
  return function(chunk) return r:feed(chunk) end
end

local function run(new, chunks)
  local feed, n, sum = new(), 0, 0
  for i = 1, #chunks do
    local got = feed(chunks[i])
    for j = 1, #got do sum = sum + got[j].code end
    n = n + #got
  end
  return n, sum
end

local function cut(s, size)
  local t = {}
  for i = 1, #s, size do t[#t + 1] = sub(s, i, i + size - 1) end
  return t
end

local want = tonumber(arg and arg[1]) or 20000
local replies = corpus.replies(want)
local stream = concat(replies)
local cuts = {
  { "4096-byte reads", cut(stream, 4096) },
  { "one reply per read", replies },
  { "16-byte reads", cut(stream, 16) },
}

local only = os.getenv("STREAM_ONLY")
if only then
  local n = 0
  if only == "lua" then n = run(lua_reader, cuts[1][2])
  elseif only == "reader" then n = run(smtpcode_reader, cuts[1][2]) end
  print(format("%s: %d replies", only, n))
  return
end

local rounds = tonumber(os.getenv("BENCH_ROUNDS")) or 5
print(format("%s%s, backend %s: %d replies, %d bytes (%.1f bytes per reply), best of %d rounds",
  _VERSION, rawget(_G, "jit") and (" (" .. jit.version .. ")") or "", smtpcode._BACKEND,
  #replies, #stream, #stream / #replies, rounds))
print(format("  %-20s %16s %16s %8s", "stream", "lua line loop", "smtpcode.reader", "ratio"))
for _, c in ipairs(cuts) do
  local best = {}
  local n1, s1 = run(lua_reader, c[2])
  local n2, s2 = run(smtpcode_reader, c[2])
  assert(n1 == #replies and n2 == #replies and s1 == s2, "readers disagree on " .. c[1])
  for _ = 1, rounds do
    for k, new in ipairs({ lua_reader, smtpcode_reader }) do
      collectgarbage()
      local t0 = clock()
      run(new, c[2])
      local dt = clock() - t0
      if not best[k] or dt < best[k] then best[k] = dt end
    end
  end
  local r1, r2 = #replies / best[1], #replies / best[2]
  print(format("  %-20s %11.0f r/s %11.0f r/s %7.2fx", c[1], r1, r2, r2 / r1))
end
