-- smtpcode.find: reply code and enhanced status code in free text.
-- Cases F01-F35 are the free-text catalogue of docs/peers.md section 2c
-- (shared material), with the answer RFC 5321 / RFC 3463 give there.

local smtpcode = require "smtpcode"

local pcall, type, tostring, tonumber, ipairs = pcall, type, tostring, tonumber, ipairs
local format, rep = string.format, string.rep
local open = io.open

local find = smtpcode.find

-- id, text, code, enhanced, extra expectations
local F = {
  { "F01", "550 5.1.1 user unknown (in reply to RCPT TO command) 421", 550, "5.1.1",
    { text = "user unknown" } },
  { "F02", "[221] 2.0.0 Bye", 221, "2.0.0", { text = "Bye" } },
  { "F03", "Jan 10 12:00:01 mx postfix/smtp[1234]: 4ABC123: to=<u@example.com>, "
      .. "relay=mx.example.net[192.0.2.1]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, "
      .. "status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 <u@example.com>: "
      .. "Recipient address rejected: User unknown (in reply to RCPT TO command))",
    550, "5.1.1", { text = "<u@example.com>: Recipient address rejected: User unknown" } },
  { "F04", "Jan 10 12:00:01 mx postfix/smtp[1234]: 4ABC123: to=<u@example.com>, "
      .. "relay=mx.example.net[192.0.2.1]:25, delay=3, delays=0.1/0/2/0.9, dsn=4.7.1, "
      .. "status=deferred (host mx.example.net[192.0.2.1] said: 450 4.7.1 "
      .. "<u@example.com>: Recipient address rejected: Greylisted, see "
      .. "http://postgrey.schweikert.ch/help/example.com.html (in reply to RCPT TO "
      .. "command))",
    450, "4.7.1", { text = "<u@example.com>: Recipient address rejected: Greylisted, see "
        .. "http://postgrey.schweikert.ch/help/example.com.html" } },
  { "F05", "2024-02-10 12:00:00 1rXabc-000abc-AB ** u@example.com R=dnslookup T=remote_smtp "
      .. "H=mx.example.net [192.0.2.1]: SMTP error from remote mail server after RCPT "
      .. "TO:<u@example.com>: 550 5.1.1 User unknown",
    550, "5.1.1", { text = "User unknown" } },
  { "F06", "2024-02-10 12:00:00 1rXabc-000abc-AB == u@example.com R=dnslookup T=remote_smtp "
      .. "defer (-44) H=mx.example.net [192.0.2.1]: SMTP error from remote mail server "
      .. "after RCPT TO:<u@example.com>: 451 4.7.1 Please try again later",
    451, "4.7.1", { text = "Please try again later" } },
  { "F07", "Feb 10 12:00:00 host sm-mta[999]: 41AB: to=<u@example.com>, delay=00:00:01, "
      .. "xdelay=00:00:01, mailer=esmtp, pri=120000, relay=mx.example.net. [192.0.2.1], "
      .. "dsn=5.1.1, stat=User unknown",
    nil, "5.1.1", { how = "status" } },
  { "F08", "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
      .. "not found by SMTP address lookup'",
    550, "5.1.10", { text = "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup" } },
  { "F09", "550-5.1.1 The email account that you tried to reach does not exist. Please "
      .. "try\r\n550-5.1.1 double-checking the recipient's email address for typos "
      .. "or\r\n550 5.1.1 unnecessary spaces. "
      .. "https://support.google.com/mail/?p=NoSuchUser",
    550, "5.1.1", { text = "The email account that you tried to reach does not exist. Please "
        .. "try\ndouble-checking the recipient's email address for typos or\nunnecessary "
        .. "spaces. https://support.google.com/mail/?p=NoSuchUser" } },
  { "F10", "smtplib.SMTPRecipientsRefused: {'u@example.com': (550, b'5.1.1 User unknown')}",
    550, "5.1.1", { text = "User unknown" } },
  { "F11", "Can't send mail - all recipients were rejected: 550 5.1.1 <u@example.com>: Recipient address rejected",
    550, "5.1.1", { text = "<u@example.com>: Recipient address rejected" } },
  { "F12", "Diagnostic-Code: smtp; 550 5.1.1 <u@example.com>... User unknown", 550, "5.1.1",
    { text = "<u@example.com>... User unknown" } },
  { "F13", "Status: 5.1.1", nil, "5.1.1", { how = "status", text = "" } },
  { "F14", "5.7.1 Relaying denied", nil, "5.7.1", { how = "status", text = "Relaying denied" } },
  { "F15", "Server at 5.1.1.1 refused the connection" },
  { "F16", "upgrade to v2.0.1 failed" },
  { "F17", "Meeting on 10.2.2024 at 5.30" },
  { "F18", "550 5.7.1 \226\128\156Message rejected\226\128\157 \226\128\148 see policy", 550, "5.7.1" },
  { "F19", "SMTP error 550: 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org",
    550, "5.7.1", { text = "Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org" } },
  { "F20", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to "
      .. "unexpected volume or user complaints - 4.16.55.1; see "
      .. "https://postmaster.yahooinc.com/error-codes",
    421, "4.7.0" },
  { "F21", "452 4.2.2 The email account that you tried to reach is over quota", 452, "4.2.2" },
  { "F22", "552 5.2.2 Mailbox full", 552, "5.2.2", { text = "Mailbox full" } },
  { "F23", "550 5.7.26 This mail has been blocked because the sender is unauthenticated", 550, "5.7.26" },
  { "F24", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", 554, "5.7.1" },
  { "F25", "550 11.22.33.44 blacklisted see http://www.spamhaus.org/query/bl?ip=11.22.33.44", 550, nil },
  { "F26", "Connection timed out" },
  { "F27", "250 2.0.0 OK 1700000000 abc.123 - gsmtp", 250, "2.0.0" },
  { "F28", "550 4.7.1 Try later", 550, "4.7.1", { mismatch = true } },
  { "F29", "451 5.7.1 Greylisted", 451, "5.7.1", { mismatch = true } },
  { "F30", "421 Service not available, closing transmission channel", 421, nil,
    { text = "Service not available, closing transmission channel" } },
  { "F31", "Mail quota exceeded 5.2.2", nil, "5.2.2", { how = "status", weak = true } },
  { "F32", "  550 5.1.1 leading spaces", 550, "5.1.1", { text = "leading spaces" } },
  { "F33", "450-4.2.1 The user you are trying to contact is receiving mail too "
      .. "quickly\r\n450 4.2.1 Please resend later",
    450, "4.2.1", { text = "The user you are trying to contact is receiving mail too quickly\nPlease resend later" } },
  { "F34", "550 5.1.1000 too long detail", 550, nil },
  { "F35", "550 5.01.001 leading zeros", 550, nil },
}

-- The reply r must point into s where it says it does.
local function check_positions(s, r, what)
  assert.is_true(r.start >= 1 and r.stop <= #s and r.start <= r.stop, what .. ": span inside the text")
  if r.code then
    assert.are.equal(tostring(r.code), s:sub(r.code_pos, r.code_pos + 2), what .. ": code_pos")
    assert.are.equal(r.start, r.code_pos, what .. ": start is the code")
  else
    assert.is_nil(r.code_pos, what)
  end
  if r.enhanced then
    assert.are.equal(r.enhanced, s:sub(r.enhanced_pos, r.enhanced_pos + #r.enhanced - 1), what .. ": enhanced_pos")
    assert.is_true(r.enhanced_pos >= r.start and r.enhanced_pos <= r.stop, what)
  else
    assert.is_nil(r.enhanced_pos, what)
  end
  if r.text ~= "" and not r.text:find("\n", 1, true) then
    local a, b = s:find(r.text, r.start, true)
    assert.is_truthy(a, what .. ": text is inside the span")
    assert.is_true(b <= r.stop, what .. ": text ends inside the span")
  end
end

describe("find", function()
  describe("on the free-text catalogue (peers.md 2c)", function()
    for _, c in ipairs(F) do
      local id, s, code, enh, x = c[1], c[2], c[3], c[4], c[5] or {}
      if code == nil and enh == nil then
        it(id .. " finds no code in " .. format("%q", s), function()
          assert.is_nil(find(s))
        end)
      else
        it(id .. " finds " .. tostring(code) .. " / " .. tostring(enh), function()
          local r = find(s)
          assert.is_table(r)
          assert.are.equal(code, r.code)
          assert.are.equal(enh, r.enhanced)
          assert.are.equal(x.how or "reply", r.how)
          assert.are.equal(x.mismatch, r.mismatch)
          assert.are.equal(x.weak, r.weak)
          if x.text then assert.are.equal(x.text, r.text) end
          if enh then
            local a, b, d = enh:match("^(%d)%.(%d+)%.(%d+)$")
            assert.are.equal(tonumber(a), r.class)
            assert.are.equal(tonumber(b), r.subject)
            assert.are.equal(tonumber(d), r.detail)
          else
            assert.is_nil(r.class)
          end
          check_positions(s, r, id)
        end)
      end
    end
  end)

  describe("never takes numbers that are not codes", function()
    local negatives = {
      "Server at 5.1.1.1 refused the connection",
      "blocked 11.22.33.44 and 203.0.113.250 today",
      "IPv6 peer 2001:db8::250 and ::ffff:192.0.2.1 answered",
      "running v2.0.1 and version 5.1.2 of the filter",
      "scheduled 2024-02-10 12:00:01 and on 10.2.2024 at 5.30",
      "internal code 4.16.55.1 and 5.2.2.0",
      "connect to mx.example.net[192.0.2.1]:25: Connection timed out",
      "submission port :465 and :587, then [192.0.2.1]:250",
      "Jan 10 12:00:01 mx postfix/smtp[450]: 4ABC550: lost connection",
      "2024-02-10 12:00:00.123 [456] 1rXabc-000abc-AB Completed",
      "T=remote_smtp defer (-44): retry time not reached",
      "delay=1.2, delays=0.1/0/0.5/0.6, size=550, nrcpt=250",
      "see https://example.com/help/550/5.1.1?code=421 for more",
      "mail to bob550@example.com and 550.user@example.net failed",
      "host mx550.example.com and 450-mx.example.net unreachable",
      "sent 250 messages to 421 recipients today",
      "Messages 1,250,000 queued; $550 owed; 550% more",
    }
    for _, s in ipairs(negatives) do
      it("in " .. format("%q", s), function()
        local r = find(s)
        assert.is_nil(r, r and format("found %s %s", tostring(r.code), tostring(r.enhanced)))
      end)
    end
  end)

  describe("takes a bare reply code only in a reply-like place", function()
    local cases = {
      { "Delivery failed: 550 Requested action not taken", 550 },
      { "SMTP error 554 from mx.example.net", 554 },
      { "host mx.example.net said: 421 Too many connections", 421 },
      { "Diagnostic-Code: smtp;550 Mailbox unavailable", 550 },
      { "Remote server replied '552 Message too big'", 552 },
      { "status=sent (250 OK id=1rX)", 250 },
      { "did not like our RCPT TO:550 5.7.26 Unauthenticated", 550 },
      { "ResponseCode 421, Host not reachable", 421 },
      { "#550 Mailbox unavailable ##", 550 },
      { "250-PIPELINING", 250 },
    }
    for _, c in ipairs(cases) do
      it(format("%q -> %d", c[1], c[2]), function()
        local r = find(c[1])
        assert.is_table(r)
        assert.are.equal(c[2], r.code)
        check_positions(c[1], r, c[1])
      end)
    end

    it("but not an unknown code in prose ('error 599', 'said: 540')", function()
      assert.is_nil(find("host said: 540 go away"))
      assert.is_nil(find("error 599 happened"))
    end)
  end)

  describe("with a reply quoted inside another", function()
    it("answers the outer reply and reports the inner one", function()
      local s = "450 4.1.1 <u@example.org>: Recipient address rejected: host said: 550 5.1.1 User unknown"
      local r = find(s)
      assert.are.equal(450, r.code)
      assert.are.equal("4.1.1", r.enhanced)
      assert.is_table(r.inner)
      assert.are.equal(550, r.inner.code)
      assert.are.equal("5.1.1", r.inner.enhanced)
      assert.are.equal("User unknown", r.inner.text)
      check_positions(s, r.inner, "inner")
      assert.is_true(r.inner.start > r.start and r.inner.stop <= r.stop)
    end)

    it("reports an angle-bracketed reply as inner and ends it at the bracket", function()
      local s = "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>"
      local r = find(s)
      assert.are.equal(554, r.code)
      assert.is_true(r.mismatch)
      assert.are.equal(421, r.inner.code)
      assert.are.equal("Connection timed out", r.inner.text)
    end)

    it("reports a quoted enhanced code inside a status as inner", function()
      local r = find("5.1.0 - Unknown address error '5.7.1 <x@example.com>... Access denied' (delivery attempts: 0)")
      assert.are.equal("5.1.0", r.enhanced)
      assert.are.equal("status", r.inner.how)
      assert.are.equal("5.7.1", r.inner.enhanced)
      assert.are.equal("<x@example.com>... Access denied", r.inner.text)
    end)

    it("has no inner reply when there is none", function()
      assert.is_nil(find("550 5.1.1 User unknown").inner)
    end)
  end)

  describe("chooses among several codes", function()
    it("prefers the remote reply to Postfix's dsn=", function()
      local r = find("to=<u@example.com>, dsn=4.4.1, status=deferred (host mx[192.0.2.1] said: 451 "
          .. "4.3.0 Try again (in reply to end of DATA command))")
      assert.are.equal(451, r.code)
      assert.are.equal("4.3.0", r.enhanced)
      assert.are.equal("Try again", r.text)
    end)

    it("uses dsn= when the line holds no reply", function()
      local r = find("to=<u@example.com>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect "
          .. "to mx.example.net[192.0.2.1]:25: Connection timed out)")
      assert.is_nil(r.code)
      assert.are.equal("4.4.1", r.enhanced)
      assert.are.equal("status", r.how)
    end)

    it("fills a missing enhanced code from the same reply (qmail '#5.1.1')", function()
      local r = find("550 sorry, no mailbox here by that name (#5.1.1 - chkusr)")
      assert.are.equal(550, r.code)
      assert.are.equal("5.1.1", r.enhanced)
      assert.is_nil(find("Sorry, no mailbox here by that name. (#5.1.1)").code)
      assert.are.equal("5.1.1", find("Sorry, no mailbox here by that name. (#5.1.1)").enhanced)
    end)

    it("prefers a specific enhanced code to X.0.0 in the same reply", function()
      local r = find("550 5.0.0 <bob@example.org>... 5.1.1 User unknown")
      assert.are.equal("5.1.1", r.enhanced)
      assert.are.equal("5.0.0", find("550 5.0.0 <bob@example.org>... Denied 4.1.1").enhanced)
    end)

    it("takes the failure of a transcript or of a multi-line reply whose code changes", function()
      assert.are.equal(421, find("refused to talk to me: 220-laposte 421 4.2.1 Service refuse").code)
      local r = find("Out: 220 mx ESMTP Out: 250 2.1.0 Ok Out: 354 End data Out: 451 4.3.0 Error: "
          .. "queue file write error")
      assert.are.equal(451, r.code)
      assert.are.equal("4.3.0", r.enhanced)
    end)

    it("keeps a Postfix-joined multi-line reply as one reply", function()
      local r = find("said: 550-5.1.1 The email account does not exist. Please try 550-5.1.1 "
          .. "double-checking 550 5.1.1 spaces.")
      assert.are.equal(550, r.code)
      assert.is_nil(r.inner)
    end)

    it("flags a class mismatch between reply code and enhanced code", function()
      assert.is_true(find("host said: 550 4.2.2 Mailbox full").mismatch)
      assert.is_nil(find("host said: 452 4.2.2 Mailbox full").mismatch)
    end)

    it("marks the legacy '#5.1.0' form as non-standard", function()
      local r = find("550 #5.1.0 Address rejected")
      assert.are.equal("5.1.0", r.enhanced)
      assert.is_true(r.nonstandard)
    end)
  end)

  describe("reports the span of the reply", function()
    it("with 1-based positions of each code", function()
      local s = "Jan 10 mx: SMTP error 550: 5.7.1 Denied"
      local r = find(s)
      assert.are.equal(23, r.start)
      assert.are.equal(23, r.code_pos)
      assert.are.equal(28, r.enhanced_pos)
      assert.are.equal(#s, r.stop)
      assert.are.equal("Denied", r.text)
    end)

    it("ending at the closing quote, paren or typographic quote", function()
      assert.are.equal("Greylisting in action",
          find("Server error: \226\128\152451 4.7.1 Greylisting in action\226\128\153 (retry)").text)
      assert.are.equal("User unknown", find("(550, 'User unknown') raised").text)
      assert.are.equal("Can't deliver", find("returned \"550 5.1.1 Can't deliver\" to us").text)
      assert.are.equal("no such user", find("mx said (550 5.1.1 no such user) bye").text)
    end)

    it("ending at the end of the line, not in the next one", function()
      local r = find("Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 No such "
          .. "user\nLast-Attempt-Date: x")
      assert.are.equal(550, r.code)
      assert.are.equal("No such user", r.text)
    end)

    it("of a multi-line reply to its last line", function()
      local s = "421-4.7.0 Too many connections\r\n421 4.7.0 closing\r\nnext line 550 5.1.1"
      local r = find(s)
      assert.are.equal(421, r.code)
      assert.are.equal("Too many connections\nclosing", r.text)
      assert.are.equal(#"421-4.7.0 Too many connections\r\n421 4.7.0 closing", r.stop)
    end)
  end)

  describe("gives the text without the codes repeated on later lines", function()
    it("of a multi-line reply, lines joined with a line break", function()
      local f = assert(smtpcode.find("550-5.7.1 Message rejected\r\n550-5.7.1 see\r\n" ..
        "550 5.7.1 https://example.com/why"))
      assert.are.equal("Message rejected\nsee\nhttps://example.com/why", f.text)
      f = assert(smtpcode.find("451-Try later\n451 Too busy"))
      assert.are.equal("Try later\nToo busy", f.text)
    end)

    it("of a multi-line reply whose lines a log joined with spaces", function()
      local f = assert(smtpcode.find("status=deferred (host mx.example.com[192.0.2.1] said: " ..
        "421-4.7.0 [192.0.2.9] Our system has detected an unusual rate of 421-4.7.0 " ..
        "unsolicited mail originating from your IP address. 421 4.7.0 Please visit " ..
        "https://support.example.com/mail (in reply to end of DATA command))"))
      assert.are.equal("[192.0.2.9] Our system has detected an unusual rate of unsolicited " ..
        "mail originating from your IP address. Please visit https://support.example.com/mail",
        f.text)
      -- without an enhanced code: every "550-" and the last "550 "
      f = assert(smtpcode.find("said: 550-Sorry, no mailbox here 550-by that name 550 Goodbye"))
      assert.are.equal("Sorry, no mailbox here by that name Goodbye", f.text)
      f = assert(smtpcode.find("said: 550-Sorry 550 no"))
      assert.are.equal("Sorry no", f.text)
    end)

    it("keeping other numbers and codes that do not repeat the reply's", function()
      local f = assert(smtpcode.find("552-5.2.2 Quota 552 MB exceeded 552 5.2.2 bye"))
      assert.are.equal("Quota 552 MB exceeded bye", f.text)
      f = assert(smtpcode.find("550 5.1.1 see 550-5.1.1 below"))
      assert.are.equal("see 550-5.1.1 below", f.text)
      f = assert(smtpcode.find("451-4.7.1 wait 451 seconds 451-4.7.2 then retry"))
      assert.are.equal("wait 451 seconds 451-4.7.2 then retry", f.text)
    end)
  end)

  describe("with bad or large input", function()
    it("raises on a non-string argument", function()
      for _, v in ipairs({ 42, true, {} }) do
        local ok, err = pcall(find, v)
        assert.is_false(ok)
        assert.are.equal(format("bad argument #1 to 'find' (string expected, got %s)", type(v)), err)
      end
      local ok, err = pcall(find)
      assert.is_false(ok)
      assert.are.equal("bad argument #1 to 'find' (string expected, got nil)", err)
    end)

    it("returns nil on empty and code-free text, NUL bytes and invalid UTF-8 included", function()
      assert.is_nil(find(""))
      assert.is_nil(find("\0\0\0"))
      assert.is_nil(find("\255\254 \226\128 ok"))
      assert.are.equal(550, find("\0 550 5.1.1 x\0y").code)
    end)

    it("searches only the first 64 KiB", function()
      local pad = rep("x ", 40000)
      assert.is_nil(find(pad .. "said: 550 5.1.1 late"))
      local r = find("said: 550 5.1.1 early " .. pad)
      assert.are.equal(550, r.code)
      assert.is_true(r.stop <= 65536)
      local many = find(rep("said: 550-5.1.1 x ", 8000))
      assert.are.equal(550, many.code)
      assert.is_true(many.stop <= 65536)
    end)
  end)

  describe("on the Sisimai 5 bounce corpus", function()
    local function shared_dir()
      local src = debug.getinfo(1, "S").source:gsub("^@", "")
      local dir = src:match("^(.*)/[^/]*$") or "."
      local root = dir:match("^(.*)/spec$") or (dir == "spec" and ".") or dir .. "/.."
      for _, d in ipairs({ root .. "/../shared", "/work/shared" }) do
        local f = open(d .. "/corpus/sisimai5-bounces.tsv")
        if f then f:close() return d end
      end
    end

    it("recovers the reply codes and real status codes that the diagnostic holds", function()
      local d = shared_dir()
      if not d then pending("shared/corpus not found") return end
      local function esc(x) return (x:gsub("%p", "%%%0")) end
      local nr, okr, ns, oks = 0, 0, 0, 0
      local first = true
      for line in io.lines(d .. "/corpus/sisimai5-bounces.tsv") do
        if first then
          first = false
        else
          local f = {}
          for x in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = x end
          local rc, st, diag = f[4], f[5], f[8] or ""
          local r = find(diag)
          local inner = r and r.inner
          -- a reply code Sisimai reports that stands as a token in the text
          if rc ~= "" and diag:find("%f[%w.]" .. rc .. "%f[^%w]") then
            nr = nr + 1
            if (r and tostring(r.code) == rc) or (inner and tostring(inner.code) == rc) then
              okr = okr + 1
            end
          end
          -- a real status (not a pseudo X.0.9NN) that stands in the text
          if st ~= "" and not st:match("^%d%.0%.9%d%d$")
            and diag:find("%f[%w.]" .. esc(st) .. "%f[^%w.]") then
            ns = ns + 1
            if (r and r.enhanced == st) or (inner and inner.enhanced == st) then
              oks = oks + 1
            end
          end
        end
      end
      print(format("\nfind on sisimai5-bounces.tsv: reply codes %d/%d (%.1f%%), status codes %d/%d (%.1f%%)",
        okr, nr, 100 * okr / nr, oks, ns, 100 * oks / ns))
      assert.is_true(nr > 300 and ns > 300, "the corpus has enough codes")
      assert.is_true(okr / nr >= 0.97, format("reply codes recovered: %d/%d", okr, nr))
      assert.is_true(oks / ns >= 0.97, format("status codes recovered: %d/%d", oks, ns))
    end)
  end)
end)

describe("find on client-library exceptions that quote the expected code", function()
  local cases = {
    -- SwiftMailer / Symfony Mailer
    { [[Expected response code "250" but got code "550", with message "550 5.7.1 Relaying denied".]],
      550, "5.7.1", "Relaying denied" },
    { [[Expected response code "250/251/252" but got code "550", with message "550 5.1.1 <bob@example.com>: ]]
      .. [[Recipient address rejected: User unknown".]],
      550, "5.1.1", "<bob@example.com>: Recipient address rejected: User unknown" },
    { [[Expected response code 354 but got code "554", with message "554 5.5.1 Error: no valid recipients"]],
      554, "5.5.1", "Error: no valid recipients" },
  }
  for _, c in ipairs(cases) do
    it("takes the reply it got, not the code it expected: " .. c[1]:sub(1, 40), function()
      local f = assert(smtpcode.find(c[1]))
      assert.are.equal(c[2], f.code)
      assert.are.equal(c[3], f.enhanced)
      assert.are.equal(c[4], f.text)
    end)
  end

  it("keeps a bare positive code when no failure follows", function()
    local f = assert(smtpcode.find([[Expected response code "250"]]))
    assert.are.equal(250, f.code)
  end)
end)
