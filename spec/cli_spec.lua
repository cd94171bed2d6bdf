-- bin/smtpcode: the command line, run with the interpreter that runs busted
-- (lua5.1 .. lua5.4, luajit) from the repository root, on the bundled mail
-- log examples/maillog.txt and on stdin.

local smtpcode = require "smtpcode"

local io, os = io, os
local ipairs, pairs, tonumber, pcall, require = ipairs, pairs, tonumber, pcall, require
local format = string.format

local helper = dofile("spec/helper.lua")

local LOG = "examples/maillog.txt"

-- Run bin/smtpcode with the arguments (a list), an optional stdin text and
-- environment prefix. Returns stdout, stderr, exit status.
local run = helper.cli

local function lines_of(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

local function split_tabs(l)
  local t = {}
  for f in (l .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = f end
  return t
end

local REASON = { ["-"] = true }
for _, r in ipairs(smtpcode._core.reasons()) do REASON[r] = true end
local SEVERITY = { success = true, intermediate = true, transient = true, permanent = true, unknown = true }

-- The lines of the mail log, to look a result's line number up.
local log_lines = {}
for l in io.lines(LOG) do log_lines[#log_lines + 1] = l end

describe("bin/smtpcode classify", function()
  local out, err, status
  setup(function() out, err, status = run({ "classify", LOG }) end)

  it("prints one tab-separated result per delivery line of the log, then a summary", function()
    assert.equal(0, status)
    assert.equal("", err)
    local results, summary = {}, {}
    for _, l in ipairs(lines_of(out)) do
      if l:sub(1, 1) == "#" then summary[#summary + 1] = l
      else results[#results + 1] = l end
    end
    assert.truthy(#results > 100)
    assert.equal("# where\treason\tseverity\tcode\tenhanced\tbounce\tretry\tscope\ttext" ..
      "\ttime\tdirection\tqueue_id\trecipient\tstatus\tmta", summary[1])
    table.remove(summary, 1)
    for _, l in ipairs(results) do
      local f = split_tabs(l)
      assert.equal(15, #f, l)
      local n = tonumber(f[1]:match("^" .. LOG:gsub("%.", "%%.") .. ":(%d+)$"))
      assert.truthy(n, l)
      assert.truthy(REASON[f[2]], l)
      assert.truthy(SEVERITY[f[3]], l)
      assert.truthy(f[4] == "-" or f[4]:match("^[2-5]%d%d$"), l)
      assert.truthy(f[5] == "-" or f[5]:match("^[245]%.%d+%.%d+$"), l)
      assert.truthy(f[6] == "-" or f[6] == "hard" or f[6] == "soft", l)
      assert.truthy(f[7] == "-" or f[7] == "yes" or f[7] == "no", l)
      -- the result agrees with classify on that line of the file
      local c = smtpcode.classify(log_lines[n])
      assert.equal(c.severity, f[3], l)
      assert.equal(c.reason or "-", f[2], l)
      assert.equal(c.code and tostring(c.code) or "-", f[4], l)
      -- time, direction, queue id and recipient as the line has them
      local line = log_lines[n]
      assert.equal(line:sub(1, #f[10]), f[10], l)
      assert.truthy(line:find("^%a%a%a [ %d]%d %d%d:%d%d:%d%d ") and #f[10] == 15
        or line:find("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d ") and #f[10] == 19, l)
      assert.truthy(f[11] == "outbound" or f[11] == "inbound", l)
      if f[12] ~= "-" then
        assert.truthy(line:find(" " .. f[12] .. ": ", 1, true) or line:find(" " .. f[12] .. " ", 1, true), l)
      end
      assert.truthy(f[13] ~= "-" or f[14] == "expired", l)
      if f[13] ~= "-" then assert.truthy(line:find("to=<" .. f[13] .. ">", 1, true)
        or line:find(" " .. f[13], 1, true), l) end
      if line:find("NOQUEUE: reject:", 1, true) then
        assert.equal("inbound", f[11], l)
        assert.equal("-", f[12], l)
        assert.equal("reject", f[14], l)
        -- Postfix's trailer is not part of the text
        assert.falsy(f[9]:find("proto=", 1, true), l)
      end
    end
    assert.truthy(summary[1]:find(format("^# summary: %d lines read, %d results", #log_lines, #results)))
    local total = out:match("\n# total +[%d%- ]- (%d+)\n")
    assert.equal(#results, tonumber(total))
  end)

  it("skips mail log lines that are not about a delivery", function()
    local skipped = 0
    for _, l in ipairs(lines_of(out)) do
      local n = tonumber(l:match("^[^\t]*:(%d+)\t"))
      if n then
        local line = log_lines[n]
        assert.falsy(line:find("connect from", 1, true), line)
        assert.falsy(line:find("message%-id="), line)
        assert.falsy(line:find(" Completed$"), line)
        assert.falsy(line:find(" <= ", 1, true), line)
      end
    end
    for _, l in ipairs(log_lines) do
      if l:find("connect from", 1, true) then skipped = skipped + 1 end
    end
    assert.truthy(skipped > 0)
    assert.truthy(tonumber(out:match("(%d+) skipped")) >= skipped)
  end)

  it("counts each failure reason of the log in the summary", function()
    local counted = {}
    for _, l in ipairs(lines_of(out)) do
      local f = split_tabs(l)
      if #f == 15 and f[2] ~= "-" and l:sub(1, 1) ~= "#" then counted[f[2]] = (counted[f[2]] or 0) + 1 end
    end
    for reason, n in pairs(counted) do
      if reason ~= "unknown" then
        local row = out:match("\n# " .. reason .. " +([^\n]*)")
        assert.truthy(row, reason)
        assert.equal(n, tonumber(row:match("(%d+)$")), reason)
      end
    end
    assert.truthy(counted.user_unknown and counted.greylisted and counted.blocklisted)
  end)

  it("reads qmail-send delivery lines, with their spaces and line breaks restored", function()
    local S = "@4000000065e5c9d41c7a2b3c "
    local log = table.concat({
      S .. "new msg 4711",
      S .. "info msg 4711: bytes 2345 from <bob@example.net> qp 123 uid 89",
      S .. "starting delivery 4713: msg 4711 to remote ann@example.org",
      S .. "delivery 4713: failure: 192.0.2.7_does_not_like_recipient./Remote_host_said:"
        .. "_550_5.1.1_<ann@example.org>:_Recipient_address_rejected:_User_unknown/Giving_up_on_192.0.2.7./",
      S .. "delivery 4714: deferral: Connected_to_192.0.2.7_but_connection_died._(#4.4.2)/",
      S .. "starting delivery 4715: msg 4712 to remote bob@example.org",
      S .. "delivery 4715: success: 192.0.2.7_accepted_message./Remote_host_said:_250_2.0.0_Ok:_queued_as_AB12/",
      S .. "status: local 0/10 remote 1/20",
      S .. "end msg 4711",
      "Mar  4 09:12:01 mail qmail: 1709543521.123456 delivery 4717: failure:"
        .. " 192.0.2.7_does_not_like_recipient./Remote_host_said:_552_5.2.2_Mailbox_full/Giving_up_on_192.0.2.7./",
    }, "\n") .. "\n"
    local o, e, st = run({ "classify" }, log)
    assert.equal(0, st)
    assert.equal("", e)
    local got = {}
    for _, l in ipairs(lines_of(o)) do
      local f = split_tabs(l)
      if f[1]:match("^%-:%d+$") then
        got[#got + 1] = table.concat({ f[1], f[2], f[3], f[4], f[12], f[13], f[14], f[15] }, " ")
      end
    end
    -- deliveries 4713 and 4715 were started on line 3 and 7 (message 4711
    -- and 4712); 4714 and 4717 were not seen starting
    assert.same({ "-:4 user_unknown permanent 550 4711 ann@example.org bounced qmail",
      "-:5 network transient - - - deferred qmail",
      "-:7 - success 250 4712 bob@example.org sent qmail",
      "-:10 mailbox_full permanent 552 - - bounced qmail" }, got)
    assert.truthy(o:find("10 lines read, 4 results, 6 skipped", 1, true))
  end)

  it("reads stdin when no file is given, and for -", function()
    local input = "550 5.1.1 <bob@example.net>: User unknown\r\nhello world\n" ..
      "451 4.7.1 Greylisting in action, please come back later\n"
    for _, args in ipairs({ { "classify" }, { "classify", "-" } }) do
      local o, e, st = run(args, input)
      assert.equal(0, st)
      assert.equal("", e)
      local l = lines_of(o)
      assert.same({ "-:1", "user_unknown", "permanent", "550", "5.1.1", "hard", "no", "recipient",
        "<bob@example.net>: User unknown", "-", "-", "-", "-", "-", "other" }, split_tabs(l[2]))
      assert.equal("-:3", split_tabs(l[3])[1])
      assert.equal("greylisted", split_tabs(l[3])[2])
      assert.truthy(o:find("# summary: 3 lines read, 2 results, 1 skipped", 1, true))
    end
  end)

  it("reports an unreadable file, goes on with the others and exits with status 1", function()
    local o, e, st = run({ "classify", "spec/no-such-file.log", LOG, "spec" })
    assert.equal(1, st)
    assert.truthy(e:find("smtpcode: cannot open spec/no-such-file.log: No such file or directory", 1, true))
    assert.truthy(e:find("smtpcode: cannot read spec: ", 1, true))
    assert.truthy(o:find(format("# summary: %d lines read", #log_lines), 1, true))
    assert.truthy(o:find("2 unreadable", 1, true))
  end)

  it("prints JSON lines with --json, and the summary as the last object", function()
    local ok, cjson = pcall(require, "cjson")
    if not ok then
      pending("lua-cjson is not installed for " .. (jit and jit.version or _VERSION))
      return
    end
    local o, e, st = run({ "classify", "--json", LOG })
    assert.equal(0, st)
    assert.equal("", e)
    local l = lines_of(o)
    local n = 0
    for i = 1, #l - 1 do
      local r = cjson.decode(l[i])
      assert.truthy(SEVERITY[r.severity])
      assert.truthy(r.where:find("^examples/maillog%.txt:%d+$"))
      n = n + 1
    end
    local s = cjson.decode(l[#l]).summary
    assert.equal(#log_lines, s.lines)
    assert.equal(n, s.results)
    assert.equal(s.lines, s.results + s.skipped)
    assert.truthy(s.reasons.user_unknown.permanent > 0)
  end)

  it("says clearly that --json needs lua-cjson when it is missing", function()
    local v = jit and "5_1" or _VERSION:match("%d+%.%d+"):gsub("%.", "_")
    local env = "LUA_CPATH='/nonexistent/?.so' LUA_CPATH_" .. v .. "='/nonexistent/?.so'"
    local o, e, st = run({ "classify", "--json", LOG }, nil, env)
    assert.equal(2, st)
    assert.equal("", o)
    assert.truthy(e:find("--json needs lua-cjson", 1, true))
  end)
end)

describe("bin/smtpcode explain", function()
  it("explains the text given as arguments", function()
    local o, _, st = run({ "explain", "smtp", "error", "[221]", "2.0.0", "bye" })
    assert.equal(0, st)
    assert.equal((smtpcode.explain("smtp error [221] 2.0.0 bye")) .. "\n", o)
    assert.truthy(o:find("not an error", 1, true))
  end)

  it("explains each line of stdin, and a multi-line reply once", function()
    local o, _, st = run({ "explain" }, "554 5.1.8\n\n451 4.7.1 Greylisting in action, please come back later\n")
    assert.equal(0, st)
    assert.equal((smtpcode.explain("554 5.1.8")) .. "\n\n" ..
      (smtpcode.explain("451 4.7.1 Greylisting in action, please come back later")) .. "\n", o)
    o = run({ "explain" }, "550-5.1.1 The email account that you tried to reach does not exist.\r\n" ..
      "550 5.1.1 Please try double-checking the recipient's address.\r\n")
    local _, heads = o:gsub("What it means:", "")
    assert.equal(1, heads)
  end)
end)

describe("bin/smtpcode", function()
  it("describes a code from the registry", function()
    local o, _, st = run({ "describe", "5.7.26" })
    assert.equal(0, st)
    assert.truthy(o:find("^5%.7%.26 %(enhanced%)\n"))
    assert.truthy(o:find(smtpcode.describe("5.7.26").title, 1, true))
    local _, e, st2 = run({ "describe", "hello" })
    assert.equal(1, st2)
    assert.truthy(e:find("^smtpcode: describe: hello: "))
  end)

  it("prints help and version, and refuses unknown commands", function()
    local o, _, st = run({ "--help" })
    assert.equal(0, st)
    assert.truthy(o:find("^usage: smtpcode explain"))
    o, _, st = run({ "--version" })
    assert.equal(0, st)
    assert.truthy(o:find("^smtpcode " .. smtpcode._VERSION:gsub("%p", "%%%0")))
    local _, e, st3 = run({ "frobnicate" })
    assert.equal(2, st3)
    assert.truthy(e:find("unknown command 'frobnicate'", 1, true))
  end)
end)

describe("bin/smtpcode classify, what an operator asks", function()
  -- one message to two recipients: carol deferred twice then delivered,
  -- dave bounced; a second message deferred once; two refusals of
  -- others' mail by our smtpd, one of them for a recipient twice
  local OPLOG = table.concat({
    "Mar 12 10:15:01 mx1 postfix/qmgr[1187]: 3F2A1C0D1B: from=<news@example.com>, size=2318, nrcpt=2 "
      .. "(queue active)",
    "Mar 12 10:15:04 mx1 postfix/smtp[20413]: 3F2A1C0D1B: "
      .. "to=<carol@example.net>, relay=mail.example.net[198.51.100.12]:25, "
      .. "delay=2.1, delays=0.05/0.01/1.2/0.84, dsn=4.2.0, status=deferred (host mail.example.net[198.51.100.12] said: "
      .. "450 4.2.0 <carol@example.net>: Recipient address rejected: Greylisted (in reply to RCPT TO command))",
    "Mar 12 10:15:05 mx1 postfix/smtp[20415]: 3F2A1C0D1B: "
      .. "to=<dave@example.com>, relay=mx.example.com[203.0.113.27]:25, "
      .. "delay=1.3, delays=0.1/0/0.62/0.58, dsn=5.1.1, status=bounced (host mx.example.com[203.0.113.27] said: "
      .. "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
    "Mar 12 10:20:04 mx1 postfix/smtp[20413]: 3F2A1C0D1B: "
      .. "to=<carol@example.net>, relay=mail.example.net[198.51.100.12]:25, "
      .. "delay=302, delays=300/0.01/1.2/0.84, dsn=4.2.0, status=deferred (host mail.example.net[198.51.100.12] said: "
      .. "450 4.2.0 <carol@example.net>: Recipient address rejected: Greylisted (in reply to RCPT TO command))",
    "Mar 12 10:25:04 mx1 postfix/smtp[20413]: 3F2A1C0D1B: "
      .. "to=<carol@example.net>, relay=mail.example.net[198.51.100.12]:25, "
      .. "delay=602, delays=600/0.01/1.2/0.84, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9C1B2A3D4E)",
    "Mar 12 10:26:04 mx1 postfix/smtp[20416]: 5E6F7A8B9C: "
      .. "to=<Carol@example.net>, relay=mail.example.net[198.51.100.12]:25, "
      .. "delay=1, delays=0/0/1/0, dsn=4.2.0, status=deferred (host mail.example.net[198.51.100.12] said: "
      .. "450 4.2.0 <carol@example.net>: Recipient address rejected: Greylisted (in reply to RCPT TO command))",
    "Mar 12 10:40:03 mx1 postfix/smtpd[20700]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: "
      .. "554 5.7.1 Service "
      .. "unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org; from=<promo@example.net> "
      .. "to=<alice@example.com> proto=ESMTP helo=<mail.example.net>",
    "Mar 12 10:41:03 mx1 postfix/smtpd[20701]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: "
      .. "554 5.7.1 Service "
      .. "unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org; from=<promo@example.net> "
      .. "to=<alice@example.com> proto=ESMTP helo=<mail.example.net>",
  }, "\n") .. "\n"

  it("counts attempts, messages and recipients, outbound and inbound apart", function()
    local o, e, st = run({ "classify" }, OPLOG)
    assert.equal(0, st)
    assert.equal("", e)
    local rows = {}
    for dir, status, a, m, r in o:gmatch("\n# (%a+) +(%S+) +(%d+) +([%d%-]+) +([%d%-]+)") do
      rows[#rows + 1] = table.concat({ dir, status, a, m, r }, " ")
    end
    assert.same({
      "outbound bounced 1 1 1", "outbound deferred 3 2 1", "outbound sent 1 1 1", "outbound all 5 - -",
      "inbound reject 2 0 1", "inbound all 2 - -",
    }, rows)
  end)

  it("puts no blank line before the summary: grep -v '^#' leaves the results alone", function()
    local o = run({ "classify" }, OPLOG)
    local results = {}
    for _, l in ipairs(lines_of(o)) do
      assert.truthy(l ~= "", "a blank line in the output")
      if l:sub(1, 1) ~= "#" then results[#results + 1] = l end
    end
    assert.equal(7, #results)
    for _, l in ipairs(results) do assert.equal(15, #split_tabs(l), l) end
  end)

  it("carries time, direction, queue id, recipient and status in JSON, and the summary by direction", function()
    local ok, cjson = pcall(require, "cjson")
    if not ok then
      pending("lua-cjson is not installed for " .. (jit and jit.version or _VERSION))
      return
    end
    local o, _, st = run({ "classify", "--json" }, OPLOG)
    assert.equal(0, st)
    local l = lines_of(o)
    local r = cjson.decode(l[2])
    assert.same({ "Mar 12 10:15:05", "outbound", "3F2A1C0D1B", "dave@example.com", "bounced", "postfix",
      "mx.example.com[203.0.113.27]:25", "5.1.1", "user_unknown" },
      { r.time, r.direction, r.queue_id, r.recipient, r.status, r.mta, r.relay, r.dsn, r.reason })
    r = cjson.decode(l[6])
    assert.same({ "inbound", "alice@example.com", "reject" }, { r.direction, r.recipient, r.status })
    assert.is_nil(r.queue_id)
    assert.falsy(r.text:find("helo=", 1, true))
    local s = cjson.decode(l[#l]).summary
    assert.same({ attempts = 3, messages = 2, recipients = 1 }, s.directions.outbound.deferred)
    assert.same({ attempts = 2, messages = 0, recipients = 1 }, s.directions.inbound.reject)
  end)
end)

describe("bin/smtpcode classify on many distinct messages", function()
  it("stops counting distinct messages and recipients at 200,000, the figures then lower bounds", function()
    local path = os.tmpname()
    local fh = assert(io.open(path, "wb"))
    for i = 1, 110000 do
      fh:write(format("Mar 12 10:15:04 mx1 postfix/smtp[1]: Q%X: to=<u%d@example.net>, relay=none, " ..
        "dsn=4.4.1, status=deferred (connect to mx.example.net[192.0.2.1]:25: Connection refused)\n", i, i))
    end
    fh:close()
    local o, _, st = run({ "classify", path })
    os.remove(path)
    assert.equal(0, st)
    local a, m, r = o:match("\n# outbound  deferred +(%d+) +(%S+) +(%S+)\n")
    assert.equal("110000", a)
    assert.equal("100000+", m)
    assert.equal("100000+", r)
  end)
end)

describe("bin/smtpcode output a terminal or a parser can trust", function()
  -- a reply a remote server chose: C1 CSI as UTF-8 and as a raw byte, a
  -- right-to-left override, an isolate, invalid UTF-8 and an ASCII escape
  local EVIL = "550 5.1.1 <bob@example.org>: x\194\155[31my \155[2J \226\128\174gnp.exe \226\129\166z" ..
    " \255\254 \27[0m User unknown"
  local function trusted(s)
    assert.falsy(s:find("\194[\128-\159]"), "a C1 control (UTF-8)")
    assert.falsy(s:find("\226\128[\170-\174]"), "a bidi override")
    assert.falsy(s:find("\226\129[\166-\169]"), "a bidi isolate")
    assert.falsy(s:find("[%z\1-\8\11-\31\127]"), "an ASCII control")
    -- valid UTF-8 throughout (no raw C1 byte either)
    local i, n = 1, #s
    while i <= n do
      local c = s:byte(i)
      local k = c < 128 and 1 or (c >= 194 and c <= 223) and 2 or (c >= 224 and c <= 239) and 3
        or (c >= 240 and c <= 244) and 4 or nil
      assert.truthy(k, "invalid UTF-8 at byte " .. i)
      for j = i + 1, i + k - 1 do
        local d = s:byte(j)
        assert.truthy(d and d >= 128 and d <= 191, "invalid UTF-8 at byte " .. j)
      end
      i = i + k
    end
  end

  it("replaces invalid UTF-8, C1 and bidi controls in the TSV", function()
    local o, _, st = run({ "classify" }, EVIL .. "\n")
    assert.equal(0, st)
    trusted(o)
    assert.truthy(o:find("\239\191\189gnp.exe", 1, true))
    assert.truthy(o:find("user_unknown", 1, true))
  end)

  it("turns invalid UTF-8 into U+FFFD in JSON, which a JSON reader then accepts", function()
    local ok, cjson = pcall(require, "cjson")
    if not ok then
      pending("lua-cjson is not installed for " .. (jit and jit.version or _VERSION))
      return
    end
    local o = run({ "classify", "--json" }, EVIL .. "\n")
    local r = cjson.decode(lines_of(o)[1])
    trusted(r.text)
    assert.truthy(r.text:find("\239\191\189\239\191\189 ", 1, true))
    -- a file name is printed too
    local name = os.tmpname() .. "\226\128\174"
    local fh = assert(io.open(name, "wb"))
    fh:write(EVIL, "\n")
    fh:close()
    o = run({ "classify", "--json", name })
    os.remove(name)
    r = cjson.decode(lines_of(o)[1])
    trusted(r.where)
  end)

  it("replaces them in what describe and the usage errors echo, and in explain", function()
    local _, e, st = run({ "describe", "\194\155[31m\226\128\174" })
    assert.equal(1, st)
    trusted(e)
    _, e, st = run({ "frob\155[2J" })
    assert.equal(2, st)
    trusted(e)
    local o = run({ "explain" }, EVIL .. "\n")
    trusted(o)
    o = run({ "explain", EVIL })
    trusted(o)
  end)
end)

describe("bin/smtpcode explain on a stream", function()
  it("explains a multi-line reply once among other lines, and each other line alone", function()
    local o, _, st = run({ "explain" }, "hello\n" ..
      "550-5.1.1 The email account that you tried to reach does not exist.\r\n" ..
      "550 5.1.1 Please try double-checking the recipient's address.\r\n\n   \n" ..
      "451 4.7.1 Greylisting in action, please come back later\n")
    assert.equal(0, st)
    local _, heads = o:gsub("What it means:", "")
    assert.equal(3, heads)
    assert.equal((smtpcode.explain("hello")) .. "\n\n" ..
      (smtpcode.explain("550-5.1.1 The email account that you tried to reach does not exist.\r\n" ..
        "550 5.1.1 Please try double-checking the recipient's address.\r\n")) .. "\n\n" ..
      (smtpcode.explain("451 4.7.1 Greylisting in action, please come back later")) .. "\n", o)
  end)

  it("explains the lines of an unfinished multi-line reply each alone", function()
    local o = run({ "explain" }, "550-5.1.1 first\n421 4.3.2 closing\n")
    local _, heads = o:gsub("What it means:", "")
    assert.equal(2, heads)
  end)

  it("says there is no text when stdin has only blanks", function()
    local _, e, st = run({ "explain" }, "  \n\t\n\n")
    assert.equal(2, st)
    assert.truthy(e:find("no text", 1, true))
  end)
end)
