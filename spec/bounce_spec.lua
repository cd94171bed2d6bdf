-- bounce_spec.lua: smtpcode.bounce(message [, opts]), on
-- messages written from how Postfix and qmail lay out their reports.
local smtpcode = require "smtpcode"

local postfix = table.concat({
  "Return-Path: <>",
  "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
  "Subject: Undelivered Mail Returned to Sender",
  "Content-Type: multipart/report; report-type=delivery-status; boundary=\"AB12.1700000000/mx.example.net\"",
  "",
  "--AB12.1700000000/mx.example.net",
  "Content-Description: Notification",
  "Content-Type: text/plain; charset=us-ascii",
  "",
  "This is the mail system at host mx.example.net.",
  "",
  "<ann@example.org>: host mail.example.org[192.0.2.20] said: 550 5.1.1",
  "    <ann@example.org>: Recipient address rejected: User unknown (in reply",
  "    to RCPT TO command)",
  "",
  "--AB12.1700000000/mx.example.net",
  "Content-Description: Delivery report",
  "Content-Type: message/delivery-status",
  "",
  "Reporting-MTA: dns; mx.example.net",
  "X-Postfix-Queue-ID: AB12",
  "Arrival-Date: Tue,  4 Mar 2025 10:15:02 +0100 (CET)",
  "",
  "Final-Recipient: rfc822; ann@example.org",
  "Original-Recipient: rfc822;ann@example.org",
  "Action: failed",
  "Status: 5.1.1",
  "Remote-MTA: dns; mail.example.org",
  "Diagnostic-Code: smtp; 550 5.1.1 <ann@example.org>: Recipient address",
  "    rejected: User unknown",
  "",
  "Final-Recipient: rfc822; bob@example.com",
  "Action: failed",
  "Status: 5.2.2",
  "Diagnostic-Code: X-Postfix; mailbox full",
  "",
  "--AB12.1700000000/mx.example.net",
  "Content-Description: Undelivered Message Headers",
  "Content-Type: text/rfc822-headers",
  "",
  "Message-ID: <x1@news.example.com>",
  "From: News <news@example.com>",
  "To: ann@example.org",
  "X-Campaign: spring-7",
  "Subject: =?ISO-8859-1?Q?Caf=E9?=",
  "",
  "--AB12.1700000000/mx.example.net--",
  "" }, "\r\n")

describe("bounce", function()
  it("reads a Postfix DSN: one entry per recipient, with the classify verdict", function()
    local b = assert(smtpcode.bounce(postfix))
    assert.are.equal("dsn", b.format)
    assert.are.equal("postfix", b.mta)
    assert.are.equal("mx.example.net", b.reporting_mta)
    assert.are.equal(2, #b.recipients)
    local a = b.recipients[1]
    assert.are.equal("ann@example.org", a.recipient)
    assert.are.equal("ann@example.org", a.original_recipient)
    assert.are.equal("failed", a.action)
    assert.are.equal("5.1.1", a.status)
    assert.are.equal(550, a.code)
    assert.are.equal("user_unknown", a.reason)
    assert.are.equal("hard", a.bounce)
    assert.are.equal("mail.example.org", a.remote_mta)
    assert.are.equal("550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown", a.diagnostic)
    local c = b.recipients[2]
    assert.are.equal("bob@example.com", c.recipient)
    assert.are.equal("5.2.2", c.status)
    assert.is_nil(c.code)
    assert.are.equal("mailbox_full", c.reason)
  end)

  it("returns the original's headers, names lowercased, subject decoded", function()
    local b = assert(smtpcode.bounce(postfix))
    assert.are.equal("<x1@news.example.com>", b.original.message_id)
    assert.are.equal("Caf\195\169", b.original.subject)
    assert.are.equal("spring-7", b.original.headers["x-campaign"])
  end)

  it("keeps each kept result's own original.headers across collections", function()
    -- one result whose block lies in its (small) message, one whose block is
    -- copied (a message over 64 KiB), one read after the other was dropped
    local other = postfix:gsub("spring%-7", "autumn-9"):gsub("x1@news", "x2@news")
    local big = postfix:gsub("X%-Campaign: spring%-7", "X-Campaign: winter-3")
      .. ("padding line of the returned body\r\n"):rep(2500)
    local a = assert(smtpcode.bounce(postfix))
    local c = assert(smtpcode.bounce(big))
    assert(smtpcode.bounce(other))
    collectgarbage()
    collectgarbage()
    local b = assert(smtpcode.bounce(other))
    collectgarbage()
    assert.is_true(#big > 64 * 1024)
    assert.are.equal("spring-7", a.original.headers["x-campaign"])
    assert.are.equal("autumn-9", b.original.headers["x-campaign"])
    assert.are.equal("winter-3", c.original.headers["x-campaign"])
    assert.are.equal("<x2@news.example.com>", b.original.headers["message-id"])
    -- built once and kept in the table; pairs() shows only the fields
    assert.are.equal(a.original.headers, a.original.headers)
    local keys = {}
    for k in pairs(b.original) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "from", "headers", "message_id", "subject", "to" }, keys)
  end)

  it("reads the same message with LF and CR line ends", function()
    for _, eol in ipairs { "\n", "\r" } do
      local b = assert(smtpcode.bounce((postfix:gsub("\r\n", eol))))
      assert.are.equal(2, #b.recipients)
      assert.are.equal("user_unknown", b.recipients[1].reason)
    end
  end)

  it("reads a qmail free-text report", function()
    local m = "From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\n" ..
      "Hi. This is the qmail-send program at mx.example.net.\n" ..
      "I'm afraid I wasn't able to deliver your message to the following addresses.\n" ..
      "This is a permanent error; I've given up. Sorry it didn't work out.\n\n" ..
      "<ann@example.org>:\n192.0.2.20 does not like recipient.\n" ..
      "Remote host said: 550 5.1.1 mailbox unknown\nGiving up on 192.0.2.20.\n\n" ..
      "--- Below this line is a copy of the message.\n\nMessage-ID: <q@example.com>\nTo: ann@example.org\n\nhi\n"
    local b = assert(smtpcode.bounce(m))
    assert.are.equal("text", b.format)
    assert.are.equal("qmail", b.mta)
    assert.are.equal("ann@example.org", b.recipients[1].recipient)
    assert.are.equal("5.1.1", b.recipients[1].status)
    assert.are.equal("user_unknown", b.recipients[1].reason)
    assert.are.equal("<q@example.com>", b.original.message_id)
  end)

  it("gives one stated reason to every recipient of the list after it", function()
    local m = "From: postmaster@example.net\nSubject: Undeliverable Mail: \"hello\"\n\n" ..
      "Your message:\n   From:    news@example.com\n   Subject: hello\n\n" ..
      "Could not be delivered because of\n\n550 5.1.1 User unknown\n\n" ..
      "The following recipients were affected:\n    ann@example.org\n    bob@example.org\n"
    local b = assert(smtpcode.bounce(m))
    assert.are.equal(2, #b.recipients)
    for _, r in ipairs(b.recipients) do
      assert.are.equal("5.1.1", r.status)
      assert.are.equal(550, r.code)
      assert.are.equal("user_unknown", r.reason) -- not the sender named in the lines before
    end
  end)

  it("reads RFC 6533 global DSNs: raw UTF-8 and \\x{HEX} addresses", function()
    local m = "From: MAILER-DAEMON@mx.example.net\r\n" ..
      "Content-Type: multipart/report; report-type=global-delivery-status; boundary=G\r\n\r\n" ..
      "--G\r\nContent-Type: message/global-delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" ..
      "Final-Recipient: utf-8; j\195\182rg@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n" ..
      "Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\nLocalized-Diagnostic: de; Postfach unbekannt\r\n\r\n" ..
      "Final-Recipient: utf-8; j\\x{F6}rn@example.org\r\nOriginal-Recipient: rfc822; user+12@example.org\r\n" ..
      "Action: delayed\r\nStatus: 4.4.1\r\n--G--\r\n"
    local b = assert(smtpcode.bounce(m))
    assert.are.equal("dsn", b.format)
    assert.are.equal("j\195\182rg@example.org", b.recipients[1].recipient)
    assert.are.equal("user_unknown", b.recipients[1].reason)
    assert.are.equal("j\195\182rn@example.org", b.recipients[2].recipient)
    assert.are.equal("user+12@example.org", b.recipients[2].original_recipient)
    assert.are.equal("delayed", b.recipients[2].action)
    assert.are.equal("soft", b.recipients[2].bounce)
  end)

  it("answers not_bounce for ordinary mail and auto-replies", function()
    local b, msg, code = smtpcode.bounce("From: ann@example.org\nSubject: Automatic reply: hello\n" ..
      "Auto-Submitted: auto-replied\n\nI am out of the office until Monday.\n")
    assert.is_nil(b)
    assert.is_string(msg)
    assert.are.equal("not_bounce", code)
  end)

  it("answers too_long past max_size and syntax without a header", function()
    local _, _, code = smtpcode.bounce(postfix, { max_size = 100 })
    assert.are.equal("too_long", code)
    _, _, code = smtpcode.bounce("\n\nbody")
    assert.are.equal("syntax", code)
  end)

  it("keeps at most max_recipients and says so", function()
    local b = assert(smtpcode.bounce(postfix, { max_recipients = 1 }))
    assert.are.equal(1, #b.recipients)
    assert.is_true(b.truncated)
  end)

  it("raises on wrong argument types", function()
    assert.has_error(function() smtpcode.bounce(nil) end,
      "bad argument #1 to 'bounce' (string expected, got nil)")
    assert.has_error(function() smtpcode.bounce({}) end)
    assert.has_error(function() smtpcode.bounce("x", "y") end,
      "bad argument #2 to 'bounce' (table expected, got string)")
    assert.has_error(function() smtpcode.bounce("x", { max_size = "big" }) end)
  end)

  it("takes time linear in the size of a hostile message", function()
    local function per_byte(n)
      local m = "From: x@example.org\nContent-Type: multipart/report; boundary=a\n\n" ..
        string.rep("--a\nContent-Type: text/plain\n\n" .. string.rep("Final-Recipient: x\n", 3), n)
      local t = os.clock()
      for _ = 1, 3 do smtpcode.bounce(m) end
      return (os.clock() - t) / #m
    end
    per_byte(200)
    local small, big = per_byte(500), per_byte(8000)
    assert.is_true(big / small < 4, string.format("ratio %.2f", big / small))
  end)
end)
