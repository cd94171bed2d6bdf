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

-- Seconds per call of f(x): repeat (doubling) until `long` seconds have
-- passed, best of `trials`; one trial only when it took over `slow` s (a
-- single call is already slow).
local function per_call(f, x, long, trials, slow)
  local best = math.huge
  for _ = 1, trials do
    local n, t0 = 0, clock()
    local t
    repeat
      for _ = 1, 1 + n do f(x) end
      n = n + 1 + n
      t = clock() - t0
    until t >= long
    if t / n < best then best = t / n end
    if t > slow then break end
  end
  return best
end

-- 20 ms, best of 3
local function cost(f, x) return per_call(f, x, 0.02, 3, 0.25) end

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

describe("classify of multi-line replies", function()
  -- src/classify.c joinview: one pass over the text, each line break
  -- followed by at most a reply code, an enhanced code and blanks
  it("stays linear on many continuation lines and on almost-prefixes", function()
    each_backend(function(b)
      grows_linearly(b .. ": continuation lines", smtpcode.classify,
        "550-5.7.1 x\r\n" .. rep("550-5.7.1 x\r\n", 60) .. "550 5.7.1 y",
        "550-5.7.1 x\r\n" .. rep("550-5.7.1 x\r\n", 600) .. "550 5.7.1 y")
      grows_linearly(b .. ": almost prefixes", smtpcode.classify,
        "550 x" .. rep("\r\n550-5.7.", 60), "550 x" .. rep("\r\n550-5.7.", 600))
    end)
  end)
end)

describe("classify of double-encoded text", function()
  -- src/mojibake.c: every "\195" starts a candidate that reads at most
  -- four characters; the repair itself is one pass
  it("stays linear on candidates that almost complete and on text to repair", function()
    each_backend(function(b)
      grows_linearly(b .. ": almost", smtpcode.classify,
        "550 " .. rep("\195\165\194\174x", 100), "550 " .. rep("\195\165\194\174x", 1000))
      grows_linearly(b .. ": repaired", smtpcode.classify,
        "550 " .. rep("\195\144\194\191", 150), "550 " .. rep("\195\144\194\191", 1500))
      grows_linearly(b .. ": lead characters only", smtpcode.classify,
        "550 " .. rep("\195\131", 300), "550 " .. rep("\195\131", 3000))
    end)
  end)
end)

-- {======================================================
-- smtpcode.log and bin/smtpcode: every pattern run on a log line, on its
-- worst case. A remote server's reply is logged verbatim, so an attacker
-- chooses these lines. Time per byte at 64 KB against 1 KB: about 1 when
-- linear, about 64 when quadratic; the bound is 8.
-- =======================================================

local PER_BYTE = 8

local function per_byte_linear(name, f, make)
  local small, big = make(1024), make(65536)
  f(small)
  local a, b = cost(f, small) / #small, cost(f, big) / #big
  local r = b / a
  assert(r < PER_BYTE, format("%s: time per byte at %d bytes is %.1fx that at %d bytes",
    name, #big, r, #small))
end

-- n bytes of s repeated (at least one copy), after head and before tail
local function fill(head, s, n, tail)
  return head .. rep(s, math.max(1, math.floor((n - #head - #(tail or "")) / #s))) .. (tail or "")
end

local SYS = "Mar 12 10:16:40 mx1 "
local PF = SYS .. "postfix/smtp[20415]: 8D4E2F1A07: "
local SM = SYS .. "sm-mta[12345]: 42CAF2Lk012345: "
local EX = "2024-03-12 10:18:00 1rZqAe-000L02-5C "
local QM = "@400000006654a1b20c8d3e14 "
local OS = SYS .. "smtpd[4]: 6c1f0a2b3d4e5f60 "

-- The reported attacks first, then one per pattern of smtpcode.log.
local LOG_ATTACKS = {
  { "64 KB of repeated postfix", function(n) return fill("", "postfix", n) end },
  { "qmail x100 and digits", function(n) return fill(rep("qmail", 100), "1", n) end },
  { "qmail repeated", function(n) return fill("", "qmail", n) end },
  { "qmail[ repeated", function(n) return fill("", "qmail[", n) end },
  { "qmail delivery line of _", function(n) return fill(QM .. "delivery 1: failure: ", "_", n) end },
  { "qmail delivery line of _ and /", function(n) return fill(QM .. "delivery 1: failure: ", "_/", n) end },
  { "syslog qmail stamp of digits", function(n) return fill(SYS .. "qmail: ", "1", n) end },
  { "tai64nlocal stamp, delivery of digits", function(n)
    return fill("2024-03-12 10:18:00.123456500 delivery ", "1", n) end },
  { "bare delivery of digits", function(n) return fill("delivery ", "1", n) end },
  { "bare delivery line of _", function(n) return fill("delivery 1: failure: ", "_", n) end },
  { "repeated status=a (", function(n) return fill(PF .. "to=<a@b>, ", "status=a (", n) end },
  { "status=a ( in the text", function(n)
    return fill(PF .. "to=<a@b>, dsn=4.0.0, status=deferred (", "status=a (", n) end },
  { "repeated , status=", function(n) return fill(PF .. "to=<a@b>", ", status=", n) end },
  { "repeated , dsn=", function(n) return fill(PF .. "to=<a@b>, status=sent", ", dsn=", n) end },
  { "to=< never closed", function(n) return fill(PF .. "to=<", "a", n, ", status=sent (x)") end },
  { "Sendmail line quoting status=a (", function(n)
    return fill(SM .. "to=<a@b>, stat=Deferred: 451 ", "status=a (", n) end },
  { "Sendmail stat=Sent ( never closed", function(n) return fill(SM .. "to=<a@b>, stat=Sent (", "(", n) end },
  { "Sendmail repeated , stat=", function(n) return fill(SM .. "to=<a@b>", ", stat=", n) end },
  { "Sendmail repeated , reject=", function(n) return fill(SM .. "ruleset=check_rcpt", ", reject=", n) end },
  { "Sendmail repeated , arg1=", function(n) return fill(SM .. "ruleset=check_rcpt, reject=550 x", ", arg1=", n) end },
  { "Postfix reject with repeated ; from=<", function(n)
    return fill(SYS .. "postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 ", "; from=<", n) end },
  { "Postfix reject with repeated helo=<", function(n)
    return fill(SYS .. "postfix/smtpd[1]: NOQUEUE: reject: RCPT from x: 554 x; from=<a> to=<b>", " helo=<", n) end },
  { "Exim ** with repeated : ", function(n) return fill(EX .. "** a@b ", "x: ", n) end },
  { "Exim == with repeated H=", function(n) return fill(EX .. "== a@b", " H=x", n) end },
  { "Exim => with repeated C=\"", function(n) return fill(EX .. "=> a@b", ' C="', n) end },
  { "Exim H= with repeated rejected", function(n) return fill("2024-03-12 10:18:00 H=x", " rejected ", n) end },
  { "Exim F= with repeated rejected", function(n) return fill("2024-03-12 10:18:00 F=<a>", " rejected ", n) end },
  { "Exim F= with repeated  H= before rejected", function(n)
    return fill("2024-03-12 10:18:00 F=<a>", " H=x", n, " rejected x") end },
  { "Exim rejected RCPT of a long bare address", function(n)
    return fill("2024-03-12 10:18:00 H=x rejected RCPT ", "a", n) end },
  { "Exim rejected RCPT repeated", function(n) return fill("2024-03-12 10:18:00 H=x", " rejected RCPT ", n) end },
  { "Sendmail <a>... with repeated >", function(n) return fill(SM .. "<", ">", n) end },
  { "Sendmail <a>... never closed", function(n) return fill(SM .. "<", "a", n) end },
  { "no header, repeated , status=", function(n) return fill("8D4E2F1A07: to=<a@b>", ", status=", n) end },
  { "no header, repeated reject: ", function(n) return fill("NOQUEUE: ", "reject: ", n) end },
  { "no header, queue id of letters", function(n) return fill("", "A", n, " x") end },
  { "no header, Sendmail repeated , stat=", function(n) return fill("8D4E2F1A07: to=<a@b>", ", stat=", n) end },
  { "Postfix status word of hyphens", function(n) return fill(PF .. "to=<a@b>, status=a", "-", n) end },
  { "RFC 5424 header of one long field", function(n) return fill("<13>1 ", "a", n) end },
  { "RFC 5424 header of blanks", function(n) return fill("<13>1 ", " ", n) end },
  { "RFC 5424 structured data never closed", function(n) return fill("<13>1 - h postfix/smtp 1 - [a", "a", n) end },
  { "RFC 5424 structured data of escapes", function(n)
    return fill("<13>1 - h postfix/smtp 1 - [a", "\\]", n) end },
  { "RFC 5424 structured data of many elements", function(n)
    return fill("<13>1 - h postfix/smtp 1 - ", "[a]", n) end },
  { "<PRI> and a 3164 stamp of fraction digits", function(n) return fill("<13>Mar 12 10:16:40.", "1", n) end },
  { "OpenSMTPD session id of hex digits", function(n) return fill(SYS .. "smtpd[1]: ", "a", n) end },
  { "OpenSMTPD envelope id of hex digits", function(n) return fill(OS .. "mta delivery evpid=", "a", n) end },
  { "OpenSMTPD repeated result=\"", function(n)
    return fill(OS .. "mta delivery evpid=1a to=<a@b>", ' result="', n) end },
  { "OpenSMTPD repeated result=", function(n) return fill(OS .. "mta delivery evpid=1a", " result=", n) end },
  { "OpenSMTPD repeated to=<", function(n)
    return fill(OS .. "mta delivery evpid=1a", " to=<", n, ' result="Ok" stat="x"') end },
  { "OpenSMTPD repeated stat=\"", function(n)
    return fill(OS .. 'mta delivery evpid=1a result="Ok"', ' stat="', n) end },
  { "OpenSMTPD failed-command never closed", function(n)
    return fill(OS .. 'smtp failed-command command="', "a", n) end },
  { "OpenSMTPD failed-command repeated result=\"", function(n)
    return fill(OS .. 'smtp failed-command command="RCPT TO:<', '" result="', n) end },
  { "Exim through syslog, stamp and dots", function(n) return fill(SYS .. "exim[1]: 2024-03-12 10:16:40", ".", n) end },
  { "syslog tag of slashes", function(n) return fill(SYS, "/", n, "[1]: x") end },
  { "syslog tag of /smtp repeated", function(n) return fill(SYS, "a/smtp", n, "[1]: x") end },
  { "Sendmail Milter: with repeated , to=", function(n)
    return fill(SM .. "Milter: x", ", to=", n, ", reject=550 x") end },
  { "OpenSMTPD before 6.4, envelope id of hex digits", function(n)
    return fill(SYS .. "smtpd[4]: relay: Ok for ", "a", n) end },
  { "OpenSMTPD before 6.4, repeated , stat=", function(n)
    return fill(SYS .. "smtpd[4]: relay: Ok for 1a: to=<a@b>", ", stat=", n) end },
  { "OpenSMTPD before 6.4, a long word", function(n) return fill(SYS .. "smtpd[4]: ", "a", n, ": Ok for 1: x") end },
  { "Exim stamp and dots", function(n) return fill("2024-03-12 10:18:00", ".", n) end },
  { "Exim id of dashes", function(n) return fill("2024-03-12 10:18:00 ", "a-", n) end },
  { "ISO stamp without a blank", function(n) return fill("2024-03-12T", "1", n) end },
  { "syslog host without a blank", function(n) return fill(SYS:sub(1, 16), "h", n) end },
  { "syslog tag without a colon", function(n) return fill(SYS, "t", n) end },
  { "syslog tag of [", function(n) return fill(SYS, "postfix[", n) end },
  { "repeated 550-5.1.1 (codes to drop)", function(n)
    return fill(PF .. "to=<a@b>, status=bounced (", "550-5.1.1 ", n) end },
  { "repeated 550- without an enhanced code", function(n)
    return fill(PF .. "to=<a@b>, status=bounced (", "550-x ", n) end },
  { "repeated 550550", function(n) return fill(PF .. "to=<a@b>, status=bounced (550-", "550", n) end },
  { "blanks", function(n) return fill("", " ", n) end },
  { "blanks after a code", function(n) return fill("550-5.1.1 x", " ", n, "550 5.1.1 y") end },
}

describe("smtpcode.log", function()
  local log = require "smtpcode.log"

  it("reads every attack line in time linear in its length", function()
    for _, a in ipairs(LOG_ATTACKS) do
      per_byte_linear("log.read: " .. a[1], log.read, a[2])
    end
  end)

  it("runs each scanner in linear time on its own worst case", function()
    local S = log._scan
    local unpack = table.unpack or unpack
    local function f2(fn, ...) local args = { ... } return function(x) return fn(x, unpack(args)) end end
    per_byte_linear("field", f2(S.field, "relay", 1), function(n) return fill("", ", relay", n) end)
    per_byte_linear("address", f2(S.address, 1), function(n) return fill("<", "a", n) end)
    per_byte_linear("last", f2(S.last, "; from=<", 1), function(n) return fill("", "; from=<", n) end)
    per_byte_linear("syslog", S.syslog, function(n) return fill("Mar 12 10:16:40 ", "a", n) end)
    per_byte_linear("sd_end", f2(S.sd_end, 1), function(n) return fill("[", "\\]", n) end)
    per_byte_linear("sd_end, elements", f2(S.sd_end, 1), function(n) return fill("", "[a]", n) end)
    per_byte_linear("osmtpd_value", f2(S.osmtpd_value, "stat", 1), function(n) return fill("", " stat", n) end)
    per_byte_linear("osmtpd_value, quoted and last", f2(S.osmtpd_value, "stat", 1, true),
      function(n) return fill(' stat="', '"', n) end)
    -- the repeated codes of a reply whose lines a log joined with spaces
    -- are dropped by find's text (smtpcode_text_next): its worst cases
    local find = smtpcode.find
    per_byte_linear("find's text, joined reply", find,
      function(n) return fill("550-5.1.1 a ", "550-5.1.1 550 ", n) end)
    per_byte_linear("find's text, joined reply without enhanced", find,
      function(n) return fill("550-a ", "550-550 ", n) end)
    per_byte_linear("find's text, a last 550 looked ahead of", find,
      function(n) return fill("550-a ", "550 a ", n) end)
    per_byte_linear("find's text, long gaps between 550", find,
      function(n) return fill("550-a ", "550 " .. rep("b ", 200), n) end)
  end)

  it("makes any bytes printable in linear time", function()
    for _, s in ipairs { "\255", "\194\155", "\195\169", "\1", "\226\128", "\226\128\174", "\240\144\128",
      "\128", " \1" } do
      per_byte_linear(format("printable %q", s), log.printable, function(n) return fill("", s, n) end)
    end
  end)
end)

-- The command line: the same total input (8 MB) as lines of 1 KB and as
-- lines of 64 KB of one attack; the time (user + system, of the whole
-- process) may not grow with the length of the lines.
describe("bin/smtpcode", function()
  local TIME = "/usr/bin/time"
  local LUA = helper.interpreter()
  local q = helper.q

  local function seconds(cmd, path)
    local tm = os.tmpname()
    os.execute(format("%s -o %s -f '%%U %%S' %s bin/smtpcode %s < %s > /dev/null 2>&1",
      TIME, q(tm), q(LUA), cmd, q(path)))
    local fh = assert(io.open(tm, "rb"))
    local out = fh:read("*a")
    fh:close()
    os.remove(tm)
    local u, s = out:match("([%d%.]+) ([%d%.]+)%s*$")
    return tonumber(u) + tonumber(s)
  end

  local function input(make, len, total)
    local path = os.tmpname()
    local fh = assert(io.open(path, "wb"))
    local line = make(len)
    for _ = 1, math.floor(total / (#line + 1)) do fh:write(line, "\n") end
    fh:close()
    return path
  end

  for _, case in ipairs {
    { "explain", "blanks", function(n) return fill("x", " ", n, "y") end },
    { "explain", "a multi-line reply of 550-", function(n) return fill("550-", "5", n) end },
    { "classify", "repeated postfix", LOG_ATTACKS[1][2] },
    { "classify", "qmail x100 and digits", LOG_ATTACKS[2][2] },
    { "classify", "qmail delivery line of _", LOG_ATTACKS[5][2] },
    { "classify", "repeated status=a (", LOG_ATTACKS[8][2] },
    { "classify", "Sendmail line quoting status=a (", LOG_ATTACKS[13][2] },
    { "classify --json", "invalid UTF-8 and C1 controls", function(n) return fill("550 ", "\255\194\155", n) end },
  } do
    it(case[1] .. " takes no longer for long lines than for short ones: " .. case[2], function()
      if not helper.readable(TIME) then
        pending("no " .. TIME .. " (Debian package time)")
        return
      end
      if case[1]:find("json", 1, true) and not pcall(require, "cjson") then
        pending("lua-cjson is not installed for " .. (jit and jit.version or _VERSION))
        return
      end
      local total = 8 * 1024 * 1024
      local short, long = input(case[3], 1024, total), input(case[3], 65536, total)
      local a, b = seconds(case[1], short), seconds(case[1], long)
      os.remove(short)
      os.remove(long)
      -- 10 ms of clock resolution: compare with at least 0.05 s
      local r = b / math.max(a, 0.05)
      assert(r < PER_BYTE, format("%s on %s: %.2f s for 64 KB lines vs %.2f s for 1 KB lines",
        case[1], case[2], b, a))
    end)
  end
end)

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

-- {======================================================
-- Every Lua pattern of the library run on untrusted text, on its
-- worst case, as time per byte at 1 KB and at 64 KB. Linear work gives a
-- ratio near 1 (or below: a bounded scan); quadratic work gives about 64.
-- No absolute time is compared.
-- =======================================================

local sfind, smatch, sgsub = string.find, string.match, string.gsub
local KB = 1024
-- PER_BYTE (8, above) is generous: about 1 when linear, about 64 when quadratic

-- 10 ms, best of 2 (a slow case is failing anyway)
local function quick_cost(f, x) return per_call(f, x, 0.01, 2, 0.2) end

-- time per byte of f(make(n)) at 64 KB over the same at 1 KB
local function per_byte_ratio(f, make)
  local small, big = make(KB), make(64 * KB)
  f(small)
  f(big) -- warm up
  return (quick_cost(f, big) / #big) / (quick_cost(f, small) / #small)
end

-- n bytes made of unit, then tail
local function repeated(unit, tail)
  return function(n)
    return rep(unit, math.floor(n / #unit)) .. (tail or "")
  end
end

-- Every pattern literal of these files (the files whose code runs on
-- untrusted text; the CLI and its log module have their own entries),
-- how it is applied, and its worst cases. A pattern added to one of the
-- files without an entry here fails the first test.
local FILES = { "lua/smtpcode.lua", "lua/smtpcode/explain.lua", "lua/smtpcode/retry.lua",
  "lua/smtpcode/retry_redis.lua", "lua/smtpcode/ffi.lua", "lua/smtpcode/rules.lua",
  "lua/smtpcode/describe.lua", "lua/smtpcode/shown.lua", "lua/smtpcode/retry_base.lua",
  "lua/smtpcode/retry_policy.lua", "lua/smtpcode/retry_store.lua", "lua/smtpcode/retry_tracker.lua" }
local PATTERNS = {
  -- lua/smtpcode/describe.lua: the whole text is a code?
  [ [==[^%d%d%d$]==] ] = { "match", repeated("5"), repeated("5", "x") },
  [ [==[^[%dXx]+%.%d+%.%d+$]==] ] = { "match", repeated("5"), repeated("5.5"), repeated("5", ".5.5x"),
    function(n) return "5." .. rep("5", n / 2) .. "." .. rep("5", n / 2) .. "x" end },
  [ [==[^[Xx](%..*)$]==] ] = { "match", repeated(".", ""), function(n) return "X" .. rep(".", n) end,
    function(n) return "X." .. rep("\n", n) end },
  -- describe: "[221] 2.0.0 bye"
  [ [==[^%[(%d%d%d)%]%s*(.*)$]==] ] = { "match", function(n) return "[550]" .. rep(" ", n) end,
    function(n) return "[550]" .. rep(" ", n) .. "x" end, repeated("[550]") },
  -- describe: the first non-blank byte
  [ [==[[^ \t-\r]]==] ] = { "find", repeated(" "), repeated("\t\r\n") },
  -- lua/smtpcode/shown.lua: a bad value escaped for an error message (of 40 bytes)
  [ [==[.]==] ] = { "gsub", repeated("\255"), repeated("a") },
  -- lua/smtpcode/explain.lua: on enhanced codes
  [ [==[^%d%.0%.0$]==] ] = { "find", repeated("5"), function(n) return "5.0.0" .. rep("0", n) end },
  [ [==[^%d%.(%d+%.%d+)$]==] ] = { "match", function(n) return "5." .. rep("5", n) end,
    function(n) return "5.5." .. rep("5", n) .. "x" end,
    function(n) return "5." .. rep("5", n / 2) .. "." .. rep("5", n / 2) .. "x" end },
  -- explain: classify's complaint made explain's own
  [ [==[^bad argument #1 to 'classify']==] ] = { "gsub", repeated("bad argument #1 to "),
    repeated("b") },
  -- lua/smtpcode/rules.lua, run-time near rules: the gap between two words
  [ [==[[\r\n]]==] ] = { "find", repeated("a"), repeated(" ") },
  [ [==[[%.;!?][ \t]]==] ] = { "find", repeated("."), repeated("a ") },
  [ [==[[^ \t]+]==] ] = { "gsub", repeated("a "), repeated("a"), repeated(" ") },
  -- lua/smtpcode/retry_store.lua: a store's id; retry_tracker.lua: braces in a destination
  [ [==[0x%x+]==] ] = { "match", repeated("0"), repeated("0x", "g"), repeated("x") },
  [ [==[[{}]]==] ] = { "gsub", repeated("{"), repeated("a") },
  -- lua/smtpcode/retry_redis.lua: Redis's error text (plain)
  [ [==[NOSCRIPT]==] ] = { "plain", repeated("NOSCRIP") },
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
    repeated(" "), repeated("5"), repeated("5."), repeated("[550]"), repeated("X.5."), repeated("\0"),
    repeated("said: 550 5.1.1 ((("), repeated("550-5.1.1 "), repeated("\255\254\192"),
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
      for i, make in ipairs { repeated("a"), repeated("aaaaaaaaaaaaaaab"), repeated("rulru"),
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
    -- the texts are made before the first count: 240,000 new strings grow
    -- the interpreter's string table, which is not the cache's doing
    local texts = {}
    for code = 200, 599 do
      for _, c in ipairs { 2, 4, 5 } do
        for sj = 0, 1 do
          for d = 0, 99 do
            texts[#texts + 1] = format("%d %d.%d.%d x", code, c, sj, d)
          end
        end
      end
    end
    each_backend(function(b)
      smtpcode.classify("550 5.1.1 warm up")
      collect("collect")
      collect("collect")
      local k0 = collect("count")
      local n = 0
      for i = 1, #texts do
        smtpcode.classify(texts[i])
        n = n + 1
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
