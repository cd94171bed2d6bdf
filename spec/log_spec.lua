-- smtpcode.log: mail log lines of Postfix, Exim, qmail-send and Sendmail,
-- as those MTAs write them (spec/fixtures/log-lines.tsv), on every backend.

local smtpcode = require "smtpcode"
local log = require "smtpcode.log"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local ipairs, tostring, pcall = ipairs, tostring, pcall
local rep = string.rep

local function each_backend(fn) return helper.each_backend(smtpcode, fn) end

local CASES = helper.tsv(helper.root .. "/spec/fixtures/log-lines.tsv")
local COLS = { "direction", "status", "queue_id", "recipient", "code", "enhanced", "reason", "text" }

describe("log.read", function()
  it("reads each fixture line as written down (a reader, in file order)", function()
    assert.truthy(#CASES >= 45)
    each_backend(function(b)
      local rd = log.reader()
      for i, row in ipairs(CASES) do
        local r = rd:read(row.line)
        local where = b .. " line " .. i .. ": " .. row.line
        if row.mta == "nil" then
          assert.is_nil(r, where)
        else
          assert.is_table(r, where)
          assert.equal(row.mta, r.mta, where)
          for _, c in ipairs(COLS) do
            local v = r[c]
            assert.equal(row[c], v == nil and "-" or tostring(v), c .. " of " .. where)
          end
        end
      end
    end)
  end)

  it("gives every MTA and both directions among the fixtures", function()
    local seen = {}
    local rd = log.reader()
    for _, row in ipairs(CASES) do
      local r = rd:read(row.line)
      if r then
        seen[r.mta] = true
        seen[r.direction or "-"] = true
      end
    end
    for _, k in ipairs { "postfix", "exim", "qmail", "sendmail", "other", "outbound", "inbound" } do
      assert.truthy(seen[k], k)
    end
  end)

  it("carries the classify verdict's fields and the time as logged", function()
    local line = "Mar 12 10:16:40 mx1 postfix/smtp[20415]: 8D4E2F1A07: to=<dave@example.com>, " ..
      "relay=aspmx.l.example.com[203.0.113.27]:25, delay=1.3, delays=0.1/0/0.62/0.58, dsn=5.1.1, " ..
      "status=bounced (host aspmx.l.example.com[203.0.113.27] said: 550 5.1.1 <dave@example.com>: " ..
      "Recipient address rejected: User unknown (in reply to RCPT TO command))"
    local r = log.read(line)
    assert.same({ "Mar 12 10:16:40", "aspmx.l.example.com[203.0.113.27]:25", "5.1.1", "hard", false,
      "recipient", "permanent" }, { r.time, r.relay, r.dsn, r.bounce, r.retry, r.scope, r.severity })
    -- the time of RFC 3339 syslog stamps and Exim's zone
    r = log.read("2024-03-12T10:16:40.123456+01:00 mx1 postfix/smtp[20415]: 8D4E2F1A07: " ..
      "to=<dave@example.com>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred " ..
      "(connect to mx.example.com[203.0.113.27]:25: Connection refused)")
    assert.equal("2024-03-12T10:16:40.123456+01:00", r.time)
    assert.equal("network", r.reason)
    r = log.read("2024-03-12 10:18:00.123 +0100 1rZqAe-000L02-5C == carol@example.net R=dnslookup " ..
      "T=remote_smtp defer (-44) H=mail.example.net [198.51.100.12]: SMTP error from remote mail " ..
      "server after RCPT TO:<carol@example.net>: 451 4.7.1 Greylisted")
    assert.equal("2024-03-12 10:18:00.123 +0100", r.time)
    assert.equal("1rZqAe-000L02-5C", r.queue_id)
    assert.equal("mail.example.net [198.51.100.12]", r.relay)
  end)

  it("agrees with classify on every delivery line of the sample log", function()
    local n = 0
    for l in io.lines(helper.root .. "/examples/maillog.txt") do
      local r = log.read(l)
      if r then
        n = n + 1
        local c = smtpcode.classify(l)
        for _, k in ipairs { "reason", "severity", "code", "enhanced", "bounce", "retry", "scope" } do
          assert.equal(c[k], r[k], k .. ": " .. l)
        end
      end
    end
    assert.truthy(n > 150)
  end)

  it("searches a line once and classifies from the fields found", function()
    local finds, strings = 0, 0
    local find0, classify0 = smtpcode.find, smtpcode.classify
    smtpcode.find = function(...) finds = finds + 1 return find0(...) end
    local spy = function(x, ...)
      if type(x) == "string" then strings = strings + 1 end
      return classify0(x, ...)
    end
    smtpcode.classify = spy
    package.loaded["smtpcode.log"] = nil
    local ok, err = pcall(function()
      local fresh = require "smtpcode.log"
      local rd, lines = fresh.reader(), 0
      for _, row in ipairs(CASES) do
        local before = finds
        local r = rd:read(row.line)
        assert.truthy(finds - before <= 1, row.line)
        if r then lines = lines + 1 end
      end
      assert.equal(0, strings)
      assert.truthy(lines > 30)
    end)
    smtpcode.find, smtpcode.classify = find0, classify0
    package.loaded["smtpcode.log"] = log
    assert(ok, err)
  end)

  it("calls a delivery the log reports as made a success, reply logged or not", function()
    local r = log.read("2024-03-12 10:15:02 1rZqAb-000Kx2-3F => bob@example.org R=dnslookup " ..
      "T=remote_smtp H=mx.example.org [192.0.2.25]")
    assert.same({ "sent", "success", "" }, { r.status, r.severity, r.text })
    assert.is_nil(r.reason)
    assert.is_nil(r.bounce)
    assert.is_nil(r.code)
  end)

  it("drops the codes repeated on a multi-line reply that the log joined with spaces", function()
    local r = log.read("Mar 12 10:16:40 mx1 postfix/smtp[1]: 8D4E2F1A07: to=<a@example.com>, " ..
      "relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/1/0, dsn=4.2.1, status=deferred " ..
      "(host mx.example.com[192.0.2.1] said: 450-4.2.1 The user you are trying to contact is " ..
      "receiving mail 450-4.2.1 at a rate that prevents additional messages 450 4.2.1 from " ..
      "being delivered. (in reply to RCPT TO command))")
    assert.equal("The user you are trying to contact is receiving mail at a rate that prevents " ..
      "additional messages from being delivered.", r.text)
    -- a number in the text that is not a repeated code stays
    r = log.read("Mar 12 10:16:40 mx1 postfix/smtp[1]: 8D4E2F1A07: to=<a@example.com>, relay=x, " ..
      "dsn=5.2.2, status=bounced (host x said: 552-5.2.2 Quota 552 MB exceeded 552 5.2.2 bye " ..
      "(in reply to RCPT TO command))")
    assert.equal("Quota 552 MB exceeded bye", r.text)
    -- without an enhanced code, a two-line reply's "550 " goes too
    r = log.read("Mar 12 10:16:40 mx1 postfix/smtp[1]: 8D4E2F1A07: to=<a@example.com>, relay=x, " ..
      "dsn=5.0.0, status=bounced (host x said: 550-Sorry, no mailbox 550 here by that name " ..
      "(in reply to RCPT TO command))")
    assert.equal("Sorry, no mailbox here by that name", r.text)
  end)

  it("restores qmail-send's text: _ is a space, / a line break", function()
    assert.equal("Remote host said: 550 no\nGiving up.\n",
      log.qmail_text("Remote_host_said:_550_no/Giving_up./"))
    local r = log.read("@400000006654a1b20c8d3e14 delivery 9: failure: x_said:_554-5.7.1_spam_" ..
      "content/554_5.7.1_rejected/")
    assert.equal("spam content rejected", r.text)
    assert.equal("5.7.1", r.enhanced)
  end)

  it("reads qmail-send lines through tai64nlocal and without any label", function()
    local r = log.read("2024-03-12 10:18:00.123456500 delivery 42: failure: " ..
      "192.0.2.7_does_not_like_recipient./Remote_host_said:_550_5.1.1_<bob@example.com>:" ..
      "_Recipient_address_rejected:_User_unknown/Giving_up_on_192.0.2.7./")
    assert.equal("qmail", r.mta)
    assert.equal("2024-03-12 10:18:00.123456500", r.time)
    assert.equal("bounced", r.status)
    assert.equal(550, r.code)
    assert.equal("user_unknown", r.reason)
    r = log.read("delivery 8: deferral: Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/")
    assert.equal("qmail", r.mta)
    assert.equal("deferred", r.status)
    assert.equal("4.4.1", r.enhanced)
    assert.is_nil(log.read("2024-03-12 10:18:00.123456500 status: local 0/10 remote 1/20"))
    local rd = log.reader()
    assert.is_nil(rd:read("2024-03-12 10:18:00.100000000 starting delivery 9: msg 4711 to remote carol@example.org"))
    r = rd:read("2024-03-12 10:18:01.200000000 delivery 9: failure: Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/")
    assert.equal("4711", r.queue_id)
    assert.equal("carol@example.org", r.recipient)
    assert.equal("hard", r.bounce)
  end)

  it("remembers a bounded number of qmail deliveries in progress", function()
    local rd = log.reader()
    local S = "@400000006654a1b20c8d3e14 "
    for i = 1, 3 * log.MAX_PENDING do
      rd:read(S .. "starting delivery " .. i .. ": msg " .. i .. " to remote u" .. i .. "@example.com")
    end
    local n = 0
    for _ in pairs(rd.pending) do n = n + 1 end
    for _ in pairs(rd.old or {}) do n = n + 1 end
    assert.truthy(n <= 2 * log.MAX_PENDING)
    local r = rd:read(S .. "delivery " .. 3 * log.MAX_PENDING .. ": success: ok/Remote_host_said:_250_ok/")
    assert.equal(tostring(3 * log.MAX_PENDING), r.queue_id)
  end)

  it("takes any string and raises a clear error on anything else", function()
    for _, v in ipairs { 1, true, {}, print } do
      assert.has_error(function() log.read(v) end,
        "bad argument #1 to 'read' (string expected, got " .. type(v) .. ")")
    end
    assert.has_error(function() log.read() end, "bad argument #1 to 'read' (string expected, got nil)")
    for _, s in ipairs {
      "", "\0", "Mar 12 10:16:40 mx1 postfix/smtp[1]: \0: to=<\0>, status=\255 (\0",
      "Mar 12 10:16:40 mx1 postfix/smtp[1]: ABC: status=", "2024-03-12 10:18:00 x-y-z ** ",
      "2024-03-12 10:18:00 x-y-z == a@b: ", "2024-03-12 10:18:00 H=", "@4000 delivery",
      "Mar 12 10:16:40 mx1 sm-mta[1]: reject=", "Mar 12 10:16:40 mx1 sm-mta[1]: A: to=<a, stat=",
      "Mar 12 10:16:40 mx1 qmail: 1.2 delivery 1: failure: ",
      "Mar 12 10:16:40 mx1 postfix/smtpd[1]: NOQUEUE: reject: ; from=<",
      "550 " .. rep("\255\192\128", 1000),
    } do
      local ok, r = pcall(log.read, s)
      assert.truthy(ok, r)
      assert.truthy(r == nil or type(r) == "table")
    end
  end)

  it("never raises on lines made of random pieces of the formats it reads", function()
    local PIECES = { "Mar 12 10:16:40 ", "mx1 ", "postfix/smtp[1]: ", "sm-mta[2]: ", "qmail: ", "exim[3]: ",
      "2024-03-12 10:18:00 ", "@400000006654a1b20c8d3e14 ", "1rZqAe-000L02-5C ", "** ", "== ", "=> ", "H=",
      "x [192.0.2.1]", " rejected ", "RCPT <", "a@b", ">", ": ", "NOQUEUE: ", "reject: ", "milter-reject: ",
      "; from=<", "to=<", ", ", "status=", "sent", " (", "(", ")", "dsn=", "5.1.1", "550", "-", " ",
      "550-5.1.1 ", "delivery 1: ", "failure: ", "success: ", "_", "/", "starting delivery 1: msg 2 to remote a@b",
      "stat=", "Sent", "Deferred: ", "reject=", "ruleset=check_rcpt", "arg1=", "relay=", 'C="', '"', "\0",
      "\255", "\194\155", "\r", "\n", "helo=<", "T", "1", ".", "smtpd[4]: ", "6c1f0a2b3d4e5f60 ",
      "mta delivery evpid=", "smtp failed-command command=\"", "RCPT TO:", '" result="', ' stat="', " stat=",
      "result=Ok", "<13>1 ", "[", "]", "\\", "F=", " H=", "<a>... " }
    local seed = 12345
    local function rand(n) -- a small LCG: the same lines on every Lua
      seed = (seed * 16807) % 2147483647
      return seed % n + 1
    end
    each_backend(function(b)
      local rd = log.reader()
      for _ = 1, 5000 do
        local parts = {}
        for k = 1, rand(25) do parts[k] = PIECES[rand(#PIECES)] end
        local line = table.concat(parts)
        local ok, r = pcall(rd.read, rd, line)
        assert(ok, b .. ": " .. tostring(r) .. " on " .. string.format("%q", line))
        if r then
          assert.is_string(r.text)
          assert.is_string(r.mta)
          assert.is_string(r.severity)
        end
      end
    end)
  end)

  it("reads Exim refusals whatever field comes first, and RCPT addresses without <>", function()
    -- after DATA Exim names the sender first: "F=<a> H=host ... rejected ..."
    local r = log.read("2024-03-12 10:20:01 1rZqB0-000L9a-2x F=<promo@example.net> H=mail.example.net " ..
      "[198.51.100.7]:41234 I=[192.0.2.1]:25 P=esmtp rejected by local_scan(): message looks like spam")
    assert.same({ "exim", "inbound", "rejected", "1rZqB0-000L9a-2x" }, { r.mta, r.direction, r.status, r.queue_id })
    assert.equal("message looks like spam", r.text)
    r = log.read("2024-03-12 10:20:02 [4711] F=<a@example.net> H=(helo) [198.51.100.7] temporarily rejected " ..
      "after DATA: try again later")
    assert.same({ "rejected", "inbound" }, { r.status, r.direction })
    -- the address of "rejected RCPT" as Exim writes it without brackets
    r = log.read("2024-03-12 10:20:03 H=(client) [198.51.100.7]:3755 I=[192.0.2.1]:25 F=a@example.net " ..
      "rejected RCPT bob@example.com: relay not permitted")
    assert.equal("bob@example.com", r.recipient)
    assert.equal("relay not permitted", r.text)
    -- a field list that names no client, and H= only after "rejected", are not refusals
    assert.is_nil(log.read("2024-03-12 10:20:04 1rZqB0-000L9a-2x U=alice P=local rejected nothing"))
    assert.is_nil(log.read("2024-03-12 10:20:05 F=<a@b> rejected RCPT <c@d>: see H=x"))
    assert.is_nil(log.read("2024-03-12 10:20:06 SMTP protocol synchronization error (input sent " ..
      "without waiting for greeting): rejected connection from H=[198.51.100.7]:25936"))
  end)

  it("reads the recipient of a Sendmail milter's refusal", function()
    local r = log.read("Mar 12 10:21:01 mx1 sm-mta[8124]: 2CC3kA9x008124: Milter: to=<grace@example.com>, " ..
      "reject=550 5.7.1 <grace@example.com>... Command rejected")
    assert.same({ "sendmail", "inbound", "reject", "grace@example.com", 550 },
      { r.mta, r.direction, r.status, r.recipient, r.code })
    r = log.read("Mar 12 10:21:02 mx1 sm-mta[8125]: 2CC3kA9x008125: Milter: data, reject=554 5.7.1 Spam detected")
    assert.same({ "reject", 554 }, { r.status, r.code })
    assert.is_nil(r.recipient)
  end)

  it("reads Sendmail's 'QID: <a>... reply text' refusals of a recipient", function()
    local r = log.read("Mar 12 10:21:00 mx1 sm-mta[8123]: 2CC3kA9x008123: <nobody@example.com>... " ..
      "User unknown")
    assert.same({ "sendmail", "inbound", "reject", "2CC3kA9x008123", "nobody@example.com", "user_unknown",
      "User unknown" }, { r.mta, r.direction, r.status, r.queue_id, r.recipient, r.reason, r.text })
    -- not without the "... " Sendmail writes after the address
    assert.is_nil(log.read("Mar 12 10:21:00 mx1 sm-mta[8123]: 2CC3kA9x008123: <a@b> x>... y"))
    assert.is_nil(log.read("Mar 12 10:21:00 mx1 sm-mta[8123]: 2CC3kA9x008123: <a@b"))
  end)

  it("reads Postfix and Sendmail messages without their syslog header", function()
    local r = log.read("3F2A01C0B7: to=<carol@example.org>, relay=mx.example.org[203.0.113.5]:25, " ..
      "delay=2.1, delays=0.1/0/1/1, dsn=5.7.1, status=bounced (host mx.example.org[203.0.113.5] said: " ..
      "554 5.7.1 Message rejected as spam (in reply to end of DATA command))")
    assert.same({ "postfix", "outbound", "bounced", "3F2A01C0B7", "carol@example.org", 554, "spam" },
      { r.mta, r.direction, r.status, r.queue_id, r.recipient, r.code, r.reason })
    assert.is_nil(r.time)
    assert.is_nil(r.program)
    r = log.read("NOQUEUE: reject: RCPT from x.example.net[198.51.100.9]: 550 5.1.1 <dan@example.com>: " ..
      "Recipient address rejected: User unknown in local recipient table; from=<a@example.net> " ..
      "to=<dan@example.com> proto=ESMTP helo=<x>")
    assert.same({ "postfix", "inbound", "reject", "dan@example.com" }, { r.mta, r.direction, r.status, r.recipient })
    r = log.read("2CC3kA9x008123: to=<erin@example.com>, delay=00:00:03, mailer=esmtp, pri=120000, " ..
      "relay=mx.example.com. [203.0.113.8], dsn=4.0.0, stat=Deferred: Connection refused by mx.example.com.")
    assert.same({ "sendmail", "outbound", "deferred", "erin@example.com", "network" },
      { r.mta, r.direction, r.status, r.recipient, r.reason })
    -- the status words of address verification have hyphens
    r = log.read("3F2A01C0B7: to=<x@example.org>, relay=none, delay=0, delays=0/0/0/0, dsn=5.1.1, " ..
      "status=undeliverable-but-not-cached (User unknown in virtual alias table)")
    assert.equal("undeliverable-but-not-cached", r.status)
    assert.equal("User unknown in virtual alias table", r.text)
    -- other messages without a header stay what they were
    assert.is_nil(log.read("3F2A01C0B7: removed"))
    assert.equal("other", log.read("3F2A01C0B7: <a@b>... User unknown").mta)
    r = log.read("error: 550 5.1.1 user unknown")
    assert.same({ "other", 550 }, { r.mta, r.code })
    assert.is_nil(r.direction)
  end)

  it("reads syslog headers with a <PRI>, RFC 5424's, and stamps with fractions of a second", function()
    local MSG = "8D4E2F1A07: to=<dave@example.com>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, " ..
      "status=deferred (connect to mx.example.com[203.0.113.27]:25: Connection refused)"
    local r = log.read("<22>1 2024-03-12T10:16:40.123456+01:00 mx1 postfix/smtp 20415 - - " .. MSG)
    assert.same({ "postfix", "2024-03-12T10:16:40.123456+01:00", "postfix/smtp", "deferred", "dave@example.com",
      "network" }, { r.mta, r.time, r.program, r.status, r.recipient, r.reason })
    -- structured data, with an escaped "]" in a value, and a BOM before the message
    r = log.read('<22>1 2024-03-12T10:16:40Z mx1 postfix/smtp 20415 - [origin ip="192.0.2.1" x="a\\]b"]' ..
      '[meta sequenceId="7"] \239\187\191' .. MSG)
    assert.same({ "postfix", "8D4E2F1A07", "2024-03-12T10:16:40Z" }, { r.mta, r.queue_id, r.time })
    -- no time, no pid
    r = log.read("<22>1 - mx1 sm-mta - - - 2CC3kA9x008123: to=<a@example.com>, relay=x. [192.0.2.9], " ..
      "dsn=5.1.1, stat=User unknown")
    assert.same({ "sendmail", "sm-mta", "bounced" }, { r.mta, r.program, r.status })
    assert.is_nil(r.time)
    -- RFC 3164 with a <PRI>, and journalctl -o short-precise
    r = log.read("<22>Mar 12 10:16:40 mx1 postfix/smtp[20415]: " .. MSG)
    assert.same({ "postfix", "Mar 12 10:16:40" }, { r.mta, r.time })
    r = log.read("Mar 12 10:16:40.123456 mx1 postfix/smtp[20415]: " .. MSG)
    assert.same({ "postfix", "Mar 12 10:16:40.123456", "postfix/smtp" }, { r.mta, r.time, r.program })
    -- structured data never closed, or not followed by a blank: no header
    assert.is_nil(log.read("<22>1 - mx1 postfix/smtp 1 - [a x=\"]\" " .. MSG).program)
  end)

  it("reads OpenSMTPD's delivery results and its refusals of a client's commands", function()
    local H = "Mar 12 10:22:00 mx1 smtpd[45037]: 6c1f0a2b3d4e5f60 "
    local r = log.read(H .. "mta delivery evpid=1a2b3c4d5e6f7081 from=<news@example.net> " ..
      'to=<frank@example.com> rcpt=<-> source="192.0.2.10" relay="203.0.113.25 (mx.example.com)" ' ..
      'delay=2s result="PermFail" stat="550 5.1.1 <frank@example.com>: Recipient address rejected: ' ..
      'User unknown"')
    assert.same({ "opensmtpd", "smtpd", "outbound", "bounced", "1a2b3c4d", "frank@example.com",
      "203.0.113.25 (mx.example.com)", 550, "5.1.1", "user_unknown" },
      { r.mta, r.program, r.direction, r.status, r.queue_id, r.recipient, r.relay, r.code, r.enhanced, r.reason })
    r = log.read(H .. "mta delivery evpid=1a2b3c4d5e6f7081 from=<news@example.net> to=<g@example.org> " ..
      'rcpt=<-> source="192.0.2.10" relay="203.0.113.26 (mx.example.org)" delay=40s ' ..
      'result="TempFail" stat="421 4.7.0 Try again later, closing connection."')
    assert.same({ "deferred", 421 }, { r.status, r.code })
    r = log.read(H .. "mda delivery evpid=1a2b3c4d5e6f7082 from=<news@example.net> to=<h@example.com> " ..
      "user=h delay=0s result=Ok stat=Delivered")
    assert.same({ "sent", "success", "h@example.com", "Delivered" }, { r.status, r.severity, r.recipient, r.text })
    r = log.read(H .. 'smtp failed-command command="RCPT TO:<nobody@example.com> " result="550 Invalid ' ..
      'recipient: <nobody@example.com>"')
    assert.same({ "opensmtpd", "inbound", "reject", "nobody@example.com", 550, "user_unknown" },
      { r.mta, r.direction, r.status, r.recipient, r.code, r.reason })
    assert.is_nil(r.queue_id)
    r = log.read(H .. 'smtp failed-command command="DATA" result="451 4.7.1 Greylisted, please retry"')
    assert.same({ "reject", "greylisted" }, { r.status, r.reason })
    assert.is_nil(r.recipient)
    -- before 6.4
    r = log.read("Mar 12 10:22:01 mx1 smtpd[4503]: relay: TempFail for 1a2b3c4d5e6f7083: " ..
      "session=6c1f0a2b3d4e5f61, from=<news@example.net>, to=<ivy@example.org>, rcpt=<->, " ..
      "source=192.0.2.10, relay=203.0.113.27 (mx.example.org), delay=5m, stat=421 4.7.0 Try again later")
    assert.same({ "opensmtpd", "outbound", "deferred", "1a2b3c4d", "ivy@example.org", 421, "Try again later" },
      { r.mta, r.direction, r.status, r.queue_id, r.recipient, r.code, r.text })
    r = log.read("Mar 12 10:22:02 mx1 smtpd[4503]: delivery: Ok for 1a2b3c4d5e6f7084: from=<news@example.net>, " ..
      "to=<jo@example.com>, user=jo, method=mbox, delay=0s, stat=Delivered")
    assert.same({ "sent", "success", "jo@example.com" }, { r.status, r.severity, r.recipient })
    -- connections, failed logins and the session's other lines are not results
    for _, l in ipairs {
      "smtp connected address=198.51.100.7 host=<unknown>",
      'smtp failed-command command="AUTH LOGIN" result="535 Authentication failed"',
      'smtp bad-input result="500 5.5.1 Invalid command: Pipelining not supported"',
      "smtp message msgid=1a2b3c4d size=1234 nrcpt=1 proto=ESMTP",
      "smtp disconnected reason=quit",
      'mta delivery evpid=1a2b3c4d5e6f7081 to=<a@b> result="Maybe" stat="x"',
    } do
      assert.is_nil(log.read(H .. l), l)
    end
    -- a line of another program called smtpd is read as any other line
    assert.equal("other", log.read("Mar 12 10:22:00 mx1 smtpd[1]: error: 550 5.1.1 no such user").mta)
  end)

  it("reads Exim through syslog with its own stamp, and Postfix instances of any syslog_name", function()
    local r = log.read("Mar 12 10:16:40 mx1 exim[20415]: 2024-03-12 10:16:40.512 +0100 [20415] 1rZqAc-000Kx9-7Q ** " ..
      "dave@example.com R=dnslookup T=remote_smtp H=mx.example.com [203.0.113.27]: SMTP error from remote " ..
      "mail server after RCPT TO:<dave@example.com>: 550 5.1.1 User unknown")
    assert.same({ "exim", "Mar 12 10:16:40", "bounced", "1rZqAc-000Kx9-7Q", "dave@example.com", "user_unknown" },
      { r.mta, r.time, r.status, r.queue_id, r.recipient, r.reason })
    r = log.read("Mar 12 10:16:41 mx1 exim4[20416]: 2024-03-12 10:16:41 H=(x) [198.51.100.7] F=<a@example.net> " ..
      "rejected RCPT <b@example.com>: relay not permitted")
    assert.same({ "exim", "inbound", "b@example.com" }, { r.mta, r.direction, r.recipient })
    r = log.read("Mar 12 10:16:42 mx1 mx-out/smtp[20417]: 8D4E2F1A07: to=<dave@example.com>, relay=none, " ..
      "delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.example.com[203.0.113.27]:25: " ..
      "Connection refused)")
    assert.same({ "postfix", "mx-out/smtp", "deferred" }, { r.mta, r.program, r.status })
    r = log.read("Mar 12 10:16:43 mx1 inbound/smtpd[20418]: NOQUEUE: reject: RCPT from x[198.51.100.7]: 554 5.7.1 " ..
      "<a@example.org>: Relay access denied; from=<b@example.net> to=<a@example.org> proto=ESMTP helo=<x>")
    assert.same({ "postfix", "inbound", "reject", "a@example.org" }, { r.mta, r.direction, r.status, r.recipient })
    -- another program whose tag has a slash is not Postfix
    assert.equal("other", log.read("Mar 12 10:16:44 mx1 app/worker[1]: 550 5.1.1 user unknown").mta)
  end)

  it("answers nil to lines that record no result (docs/log.md says why)", function()
    for _, l in ipairs {
      -- warn_if_reject: the refusal was only tested, the mail was taken
      "Mar 12 10:23:00 mx1 postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from x[198.51.100.7]: 554 5.7.1 " ..
        "<a@example.org>: Relay access denied; from=<b@example.net> to=<a@example.org> proto=ESMTP helo=<x>",
      "Mar 12 10:23:00 mx1 postfix/smtpd[1]: 4F1E2D3C: discard: RCPT from x[198.51.100.7]: <a@example.com>: " ..
        "Recipient address triggers DISCARD action; from=<b@example.net> to=<a@example.com> proto=ESMTP helo=<x>",
      -- the refusal is the "rejected RCPT ...: Sender verify failed" line that follows
      "2024-03-12 10:23:00 H=x.example.net [198.51.100.7] sender verify fail for <b@example.net>: Unrouteable address",
      "2024-03-12 10:23:00 dovecot_login authenticator failed for (x) [198.51.100.7]: 535 Incorrect " ..
        "authentication data",
    } do
      assert.is_nil(log.read(l), l)
    end
  end)

  it("reads the first MAX_LINE bytes of a longer line", function()
    local head = "Mar 12 10:16:40 mx1 postfix/smtp[1]: 8D4E2F1A07: to=<a@example.com>, relay=none, " ..
      "dsn=4.4.1, status=deferred ("
    local r = log.read(head .. rep("x", log.MAX_LINE) .. ")")
    assert.equal("postfix", r.mta)
    assert.equal(log.MAX_LINE - #head, #r.text)
  end)
end)
