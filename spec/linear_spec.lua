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

-- Conversations: a reader fed a byte at a time looks at each byte
-- once (the C core remembers how far it has searched), and format's work
-- follows the text.
describe("smtpcode.reader and smtpcode.format", function()
  local function nlines(n)
    return rep("250-" .. rep("x", 60) .. "\r\n", n - 1) .. "250 end\r\n"
  end

  it("read a reply fed a byte at a time in linear time (worst case of a line loop)", function()
    local function bytewise(s)
      local r = smtpcode.reader({ max_reply = 10 * 1024 * 1024, max_lines = 1000000, max_line = 1000000 })
      local got
      for i = 1, #s do got = r:feed(s:sub(i, i)) end
      return #got
    end
    -- one long line and many lines
    grows_linearly("reader, one line", bytewise, "250 " .. rep("y", 6000) .. "\r\n",
      "250 " .. rep("y", 60000) .. "\r\n")
    grows_linearly("reader, many lines", bytewise, nlines(100), nlines(1000))
  end)

  it("write replies in time linear in the text", function()
    local opts = { max_reply = 100 * 1024 * 1024, max_lines = 1000000 }
    each_backend(function(b)
      for _, unit in ipairs({ "word ", "x", "\0\r\n", "5.1.1 ", " " }) do
        grows_linearly(b .. ": format of " .. format("%q", unit), function(t)
          return smtpcode.format(550, nil, t, opts)
        end, rep(unit, 3000), rep(unit, 30000))
      end
    end)
  end)
end)

describe("classify with words near each other", function()
  after_each(function() smtpcode.clear_rules() end)
  it("a run-time near rule stays linear on many first words", function()
    smtpcode.add_rule { reason = "spam", match = { "ab", "zz" }, near = 3 }
    grows_linearly("near rule", smtpcode.classify,
      "550 " .. rep("ab ", 2000), "550 " .. rep("ab ", 20000))
  end)
  it("the built-in near rules stay linear on their words repeated", function()
    each_backend(function(b)
      grows_linearly(b .. ": built-in near", smtpcode.classify,
        "550 " .. rep("poor one two three four five six ", 150),
        "550 " .. rep("poor one two three four five six ", 1500))
    end)
  end)
end)
