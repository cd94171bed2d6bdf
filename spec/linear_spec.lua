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

describe("bounce", function()
  -- Worst cases of the message walk: a free-text report whose text is one
  -- phrase prefix after another ("The following ..." never completed) with
  -- no end phrase; nested multiparts without end; a DSN of many groups;
  -- blank runs inside a phrase.
  local function text_report(k)
    return "From: MAILER-DAEMON@example.net\nSubject: failure notice\n\n" ..
      "Hi. This is the qmail-send program at example.net.\n" ..
      rep("The following addresses had The following recipient <a@example.org>: 550 x\n", k)
  end
  local function nested(k)
    local t = { "From: x@example.org\n" }
    for i = 1, k do
      t[#t + 1] = "Content-Type: multipart/mixed; boundary=b" .. i .. "\n\n--b" .. i .. "\n"
    end
    return table.concat(t)
  end
  local function dsn(k)
    return "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n" ..
      "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n" ..
      rep("Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n" ..
        "Diagnostic-Code: smtp; 550-5.1.1 no\n 550 5.1.1 such user\n\n", k)
  end
  local function blanks(k)
    return "Subject: Undelivered Mail Returned to Sender\n\n" ..
      rep("the" .. rep(" ", 60) .. "following\t\t\n", k)
  end
  local bounce = function(m) return smtpcode.bounce(m) end

  it("takes about ten times the time for 10x hostile messages (generous factor)", function()
    grows_linearly("bounce text report", bounce, text_report(200), text_report(2000))
    grows_linearly("bounce nested parts", bounce, nested(400), nested(4000))
    grows_linearly("bounce DSN groups", bounce, dsn(100), dsn(1000))
    grows_linearly("bounce blank runs", bounce, blanks(200), blanks(2000))
  end)

  it("allocates at most a few times the message for a 1 MB message", function()
    local m = text_report(14000)
    local kb = allocated(bounce, m)
    assert.is_true(kb < 8 * #m / 1024, format("%.0f KB for a %.0f KB message", kb, #m / 1024))
  end)
end)

describe("bounce with many recipients", function()
  -- X-Failed-Recipients naming many addresses over a long text with none of
  -- them on a line of its own; and a DSN of many recipients without
  -- diagnostics beside a long text: the per-recipient look-ups are bounded.
  local function xfailed(k)
    local a = {}
    for i = 1, 800 do a[i] = "u" .. i .. "@example.org" end
    return "From: Mailer-Daemon@example.net\nSubject: Mail delivery failed\n" ..
      "X-Failed-Recipients: " .. table.concat(a, ",\n ") .. "\n\n" ..
      "The following address(es) failed:\n" .. rep("  the error text goes on and on\n", k)
  end
  local function dsn_text(k)
    local g = {}
    for i = 1, 800 do g[i] = "Final-Recipient: rfc822; u" .. i .. "@example.org\nAction: failed\nStatus: 5.0.0\n" end
    return "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n" ..
      "--B\nContent-Type: text/plain\n\nThis is the mail system at host x.\n" ..
      rep("<nobody@example.net>: no reply here\n", k) ..
      "--B\nContent-Type: message/delivery-status\n\n" .. table.concat(g, "\n") .. "--B--\n"
  end
  local bounce = function(m) return smtpcode.bounce(m) end
  it("takes about ten times the time for 10x text", function()
    grows_linearly("bounce X-Failed-Recipients", bounce, xfailed(500), xfailed(5000))
    grows_linearly("bounce DSN without diagnostics", bounce, dsn_text(500), dsn_text(5000))
  end)
end)
