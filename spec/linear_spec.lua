-- Work and memory grow linearly with the input, and the limits cap memory
-- whatever the input.
--
-- What is counted:
--   * bytes consumed (parse's `length`) and lines returned;
--   * memory allocated during a call: collectgarbage("count") growth with
--     the collector stopped, i.e. every byte the call allocated;
--   * time only as a ratio between a 10x larger input and the base input,
--     each measured over enough repetitions, against a generous factor
--     (linear gives about 10, quadratic about 100; the bound is 30). No
--     absolute time is ever compared.

local smtpcode = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local rep, format = string.rep, string.format
local clock = os.clock
local collect = collectgarbage

local function each_backend(fn) return helper.each_backend(smtpcode, fn) end

-- KB allocated by f(...) (collector stopped), and f's first result.
local function allocated(f, ...)
  collect("collect")
  collect("collect")
  collect("stop")
  local m0 = collect("count")
  local r = f(...)
  local m1 = collect("count")
  collect("restart")
  return m1 - m0, r
end

-- Seconds per call of f(x): repeat until 20 ms have passed, best of 3
-- (one trial when a single call is already slow).
local function cost(f, x)
  local best = math.huge
  for _ = 1, 3 do
    local n, t0 = 0, clock()
    local t
    repeat
      for _ = 1, 1 + n do f(x) end
      n = n + 1 + n
      t = clock() - t0
    until t >= 0.02
    if t / n < best then best = t / n end
    if t > 0.25 then break end
  end
  return best
end

local RATIO = 30 -- generous: 10 when linear, 100 when quadratic

local function grows_linearly(name, f, small, big)
  f(small) -- warm up (JIT, interning)
  local a, b = cost(f, small), cost(f, big)
  local r = b / a
  assert(r < RATIO, format("%s: 10x larger input took %.1fx the time (%.3g s vs %.3g s)",
    name, r, b, a))
end

local function lines(n, last)
  return rep("250-ok\r\n", n - 1) .. "250 " .. (last or "end") .. "\r\n"
end

describe("parse", function()
  local BIG = { max_lines = 200000, max_reply = 4 * 1024 * 1024 }

  it("consumes ten times the bytes and returns ten times the lines for a 10x reply",
    function()
      each_backend(function(b)
        local s1, s2 = lines(10000), lines(100000)
        local r1 = smtpcode.parse(s1, BIG)
        local r2 = smtpcode.parse(s2, BIG)
        assert.are.equal(#s1, r1.length, b)
        assert.are.equal(#s2, r2.length, b)
        assert.are.equal(10 * #r1.lines, #r2.lines, b)
      end)
    end)

  it("allocates about ten times the memory for a 10x reply", function()
    each_backend(function(b)
      local s1, s2 = lines(10000), lines(100000)
      smtpcode.parse(s1, BIG)
      local k1 = allocated(smtpcode.parse, s1, BIG)
      local k2 = allocated(smtpcode.parse, s2, BIG)
      local r = k2 / k1
      assert(r > 5 and r < 20, format("%s: %.0f KB vs %.0f KB, ratio %.1f", b, k2, k1, r))
    end)
  end)

  it("takes about ten times the time for a 10x reply (generous factor)", function()
    each_backend(function(b)
      grows_linearly("parse " .. b, function(s) return smtpcode.parse(s, BIG) end,
        lines(2000), lines(20000))
    end)
  end)

  it("returns too_long for a 10 MB reply with default limits without building big tables",
    function()
      local huge = {
        rep("250-ok\r\n", 10 * 131072),                  -- 10 MB of lines, no end
        "550 " .. rep("x", 10 * 1024 * 1024) .. "\r\n",   -- one 10 MB line
        lines(1300000),                                   -- 1.3 M complete lines
      }
      each_backend(function(b)
        for i, s in ipairs(huge) do
          local kb, r = allocated(function(x)
            local t, _, code = smtpcode.parse(x)
            return t or code
          end, s)
          assert.are.equal("too_long", r, b .. " input " .. i)
          assert(kb < 64, format("%s input %d: %.1f KB allocated", b, i, kb))
        end
      end)
    end)

  it("allocates no more for a 10 MB reply than for a 1 MB one under default limits",
    function()
      each_backend(function(b)
        local k1 = allocated(smtpcode.parse, rep("250-ok\r\n", 131072))
        local k2 = allocated(smtpcode.parse, rep("250-ok\r\n", 10 * 131072))
        assert(k2 <= k1 + 1, format("%s: %.1f KB vs %.1f KB", b, k2, k1))
      end)
    end)
end)

describe("scan", function()
  it("allocates the same for a 10 MB line as for a 1 MB line (too_long)", function()
    each_backend(function(b)
      local k1, c1 = allocated(function(x) return select(3, smtpcode.scan(x)) end,
        "550 " .. rep("x", 1024 * 1024))
      local k2, c2 = allocated(function(x) return select(3, smtpcode.scan(x)) end,
        "550 " .. rep("x", 10 * 1024 * 1024))
      assert.are.equal("too_long", c1, b)
      assert.are.equal("too_long", c2, b)
      assert(k2 <= k1 + 1, format("%s: %.1f KB vs %.1f KB", b, k2, k1))
    end)
  end)
end)

-- Free-text functions read a bounded prefix (SMTPCODE_MAX_TEXT and
-- SMTPCODE_MAX_CLASSIFY, 64 KB): on larger texts their memory stays flat,
-- below it their work grows linearly.
local TEXT = "Jan 10 12:00:01 mx postfix/smtp[1234]: 4ABC123: to=<u@example.com>, "
  .. "relay=mx.example.net[192.0.2.1]:25, dsn=4.7.1, status=deferred (host "
  .. "mx.example.net[192.0.2.1] said: 450 4.7.1 <u@example.com>: Recipient "
  .. "address rejected: Greylisted (in reply to RCPT TO command)\n"

local function textof(bytes, filler)
  return rep(filler or "lorem ipsum dolor sit amet ", math.floor(bytes / 27)) .. TEXT
end

for _, name in ipairs { "find", "classify", "describe", "explain" } do
  describe(name, function()
    it("allocates about the same for 10 MB of text as for 1 MB", function()
      local f = smtpcode[name]
      if not f then
        pending("smtpcode." .. name .. " is not there yet")
        return
      end
      local k1 = allocated(f, textof(1024 * 1024))
      local k2 = allocated(f, textof(10 * 1024 * 1024))
      assert(k2 <= k1 * 1.5 + 8, format("%.1f KB vs %.1f KB", k2, k1))
    end)

    it("takes about ten times the time for 10x the text (generous factor)", function()
      local f = smtpcode[name]
      if not f then
        pending("smtpcode." .. name .. " is not there yet")
        return
      end
      for _, filler in ipairs {
        "lorem ipsum dolor sit amet ",   -- prose
        "550-5.1.1 550 5.1.1 said: (((", -- codes and openers everywhere
        "                           ",   -- blanks
        "5.5.5.5.5.5.5.5.5.5.5.5.5.5.",  -- dotted numbers
      } do
        grows_linearly(format("%s, filler %q", name, filler), f,
          "x" .. rep(filler, 40) .. "y", "x" .. rep(filler, 400) .. "y")
      end
    end)
  end)
end

-- {======================================================
-- Issue 10: every Lua pattern of the library run on untrusted text, on its
-- worst case, as time per byte at 1 KB and at 64 KB. Linear work gives a
-- ratio near 1 (or below: a bounded scan); quadratic work gives about 64.
-- No absolute time is compared.
-- =======================================================

local sfind, smatch, sgsub = string.find, string.match, string.gsub
local KB = 1024
local PER_BYTE = 8 -- generous: about 1 when linear, about 64 when quadratic

-- Seconds per call of f(x): repeat until 10 ms have passed, best of 2
-- (one trial when a single call is already slow: it is failing anyway).
local function quick_cost(f, x)
  local best = math.huge
  for _ = 1, 2 do
    local n, t0 = 0, clock()
    local t
    repeat
      for _ = 1, 1 + n do f(x) end
      n = n + 1 + n
      t = clock() - t0
    until t >= 0.01
    if t / n < best then best = t / n end
    if t > 0.2 then break end
  end
  return best
end

-- time per byte of f(make(n)) at 64 KB over the same at 1 KB
local function per_byte_ratio(f, make)
  local small, big = make(KB), make(64 * KB)
  f(small)
  f(big) -- warm up
  return (quick_cost(f, big) / #big) / (quick_cost(f, small) / #small)
end

-- n bytes made of unit, then tail
local function fill(unit, tail)
  return function(n)
    return rep(unit, math.floor(n / #unit)) .. (tail or "")
  end
end

-- Every pattern literal of these files (the files whose code runs on
-- untrusted text; the CLI and its log module have their own entries),
-- how it is applied, and its worst cases. A pattern added to one of the
-- files without an entry here fails the first test.
local FILES = { "lua/smtpcode.lua", "lua/smtpcode/explain.lua", "lua/smtpcode/retry.lua" }
local PATTERNS = {
  -- lua/smtpcode.lua, describe: the whole text is a code?
  [ [==[^%d%d%d$]==] ] = { "match", fill("5"), fill("5", "x") },
  [ [==[^[%dXx]+%.%d+%.%d+$]==] ] = { "match", fill("5"), fill("5.5"), fill("5", ".5.5x"),
    function(n) return "5." .. rep("5", n / 2) .. "." .. rep("5", n / 2) .. "x" end },
  [ [==[^[Xx](%..*)$]==] ] = { "match", fill(".", ""), function(n) return "X" .. rep(".", n) end,
    function(n) return "X." .. rep("\n", n) end },
  -- describe: "[221] 2.0.0 bye"
  [ [==[^%[(%d%d%d)%]%s*(.*)$]==] ] = { "match", function(n) return "[550]" .. rep(" ", n) end,
    function(n) return "[550]" .. rep(" ", n) .. "x" end, fill("[550]") },
  -- describe: the first non-blank byte
  [ [==[[^ \t-\r]]==] ] = { "find", fill(" "), fill("\t\r\n") },
  -- codes: the bad kind escaped for the error message (of 40 bytes)
  [ [==[.]==] ] = { "gsub", fill("\255"), fill("a") },
  -- lua/smtpcode/explain.lua: on enhanced codes
  [ [==[^%d%.0%.0$]==] ] = { "find", fill("5"), function(n) return "5.0.0" .. rep("0", n) end },
  [ [==[^%d%.(%d+%.%d+)$]==] ] = { "match", function(n) return "5." .. rep("5", n) end,
    function(n) return "5.5." .. rep("5", n) .. "x" end,
    function(n) return "5." .. rep("5", n / 2) .. "." .. rep("5", n / 2) .. "x" end },
  -- explain: was it a text rule? (plain)
  [ [==[rule]==] ] = { "plain", fill("rul"), fill("r") },
}

-- The pattern literals of a Lua file: the first string literal of each
-- call of find / match / gmatch / gsub (and their local aliases) on a
-- line that is not a comment.
local function literals(path)
  local out = {}
  local f = assert(io.open(helper.root .. "/" .. path, "rb"))
  for line in f:lines() do
    if not line:find("^%s*%-%-") then
      local code = line:gsub("%s%-%-%s.*$", "")
      for rest in code:gmatch("[%w_]*[fF]ind%s*(%(.*)") do out[#out + 1] = rest end
      for rest in code:gmatch("[%w_]*[mM]atch%s*(%(.*)") do out[#out + 1] = rest end
      for rest in code:gmatch("gsub%s*(%(.*)") do out[#out + 1] = rest end
    end
  end
  f:close()
  local pats = {}
  for _, rest in ipairs(out) do
    local lit = rest:match('^[^"]-"(.-[^\\])"') or rest:match('^[^"]-"()"') and ""
    if lit and lit ~= "" then pats[lit] = true end
  end
  return pats
end

describe("the Lua patterns of the library", function()
  it("each has its worst cases listed here", function()
    local missing = {}
    for _, path in ipairs(FILES) do
      for lit in pairs(literals(path)) do
        if not PATTERNS[lit] then missing[#missing + 1] = path .. ": " .. lit end
      end
    end
    table.sort(missing)
    assert.are.same({}, missing)
  end)

  it("each takes linear time on its worst cases (time per byte, 64 KB vs 1 KB)", function()
    for lit, entry in pairs(PATTERNS) do
      -- the source text of the literal, read as Lua reads it
      local pat = assert(loadstring or load)("return \"" .. lit .. "\"")()
      local how = entry[1]
      local f
      if how == "match" then
        f = function(s) return smatch(s, pat) end
      elseif how == "find" then
        f = function(s) return sfind(s, pat) end
      elseif how == "plain" then
        f = function(s) return sfind(s, pat, 1, true) end
      else
        f = function(s) return sgsub(s, pat, function() end) end
      end
      for i = 2, #entry do
        local r = per_byte_ratio(f, entry[i])
        if os.getenv("SMTPCODE_SHOW_RATIOS") then
          io.stderr:write(format("%-24s case %d: %.2f\n", lit, i - 1, r))
        end
        assert(r < PER_BYTE, format("pattern %q, worst case %d: time per byte x%.1f at 64 KB",
          lit, i - 1, r))
      end
    end
  end)
end)

describe("the public functions on their worst cases", function()
  local retry = require "smtpcode.retry"
  local policy = retry.policy()

  local FILLERS = {
    fill(" "), fill("5"), fill("5."), fill("[550]"), fill("X.5."), fill("\0"),
    fill("said: 550 5.1.1 ((("), fill("550-5.1.1 "), fill("\255\254\192"),
    function(n) return rep(" ", n - 3) .. "550" end,
    function(n) return "550 5.1.1 " .. rep("a", n) end,
  }
  local FUNCS = {
    describe = smtpcode.describe,
    explain = smtpcode.explain,
    classify = smtpcode.classify,
    ["policy:decide"] = function(s) return policy:decide(s, { attempts = 1, first_attempt = 0, now = 0 }) end,
  }

  for name, f in pairs(FUNCS) do
    it(name .. " takes linear time per byte (64 KB vs 1 KB, every filler)", function()
      each_backend(function(b)
        for i, make in ipairs(FILLERS) do
          local r = per_byte_ratio(f, make)
          if os.getenv("SMTPCODE_SHOW_RATIOS") then
            io.stderr:write(format("%s %s filler %d: %.2f\n", name, b, i, r))
          end
          assert(r < PER_BYTE, format("%s %s filler %d: time per byte x%.1f at 64 KB", name, b, i, r))
        end
      end)
    end)
  end

  it("classify with run-time rules takes linear time per byte", function()
    finally(function() smtpcode.clear_rules() end)
    smtpcode.add_rule { reason = "blocklisted", match = { "aaaaaaaaaaaaaaab", "listed" } }
    smtpcode.add_rule { reason = "spam", match = "rul" }
    each_backend(function(b)
      for i, make in ipairs { fill("a"), fill("aaaaaaaaaaaaaaab"), fill("rulru"),
        function(n) return "550 5.7.1 " .. rep("a", n) end } do
        local r = per_byte_ratio(smtpcode.classify, make)
        assert(r < PER_BYTE, format("%s filler %d: time per byte x%.1f at 64 KB", b, i, r))
      end
    end)
    smtpcode.clear_rules()
  end)
end)

describe("the FFI verdict cache", function()
  it("keeps the heap flat over 240,000 distinct CODE C.S.D replies", function()
    -- every reply code 200-599 with enhanced classes 2, 4 and 5, subjects
    -- 0-1 and details 0-99: 240,000 distinct codes, each a new key to a
    -- cache keyed by the codes (before the bound: +7 MB on LuaJIT)
    each_backend(function(b)
      smtpcode.classify("550 5.1.1 warm up")
      collect("collect")
      collect("collect")
      local k0 = collect("count")
      local n = 0
      for code = 200, 599 do
        for _, c in ipairs { 2, 4, 5 } do
          for sj = 0, 1 do
            for d = 0, 99 do
              smtpcode.classify(format("%d %d.%d.%d x", code, c, sj, d))
              n = n + 1
            end
          end
        end
      end
      collect("collect")
      collect("collect")
      local grown = collect("count") - k0
      assert.are.equal(240000, n)
      assert(grown < 1024, format("%s: the heap grew by %.0f KB", b, grown))
    end)
  end)
end)

-- }======================================================
