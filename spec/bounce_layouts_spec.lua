-- bounce_layouts_spec.lua: report layouts bounce() reads (Zoho, James, Sendmail V5,
-- Exim, fml, m-FILTER, SES), on messages written from how those systems phrase
-- their reports (../shared/docs/bounces.md), not copied from the corpus.
local smtpcode = require "smtpcode"

local function msg(lines) return table.concat(lines, "\r\n") .. "\r\n" end

local function dsn(fields)
  local l = {
    "From: Mail Delivery System <MAILER-DAEMON@mta.example.net>",
    "To: <ann@example.com>",
    "Subject: Delivery Notification: Delivery has failed",
    "MIME-Version: 1.0",
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"",
    "",
    "--b1",
    "Content-Type: text/plain",
    "",
    "This report relates to a message you sent.",
    "",
    "--b1",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns;mta.example.net",
    "",
  }
  for _, f in ipairs(fields) do l[#l + 1] = f end
  l[#l + 1] = ""
  l[#l + 1] = "--b1--"
  return msg(l)
end

describe("bounce layouts", function()
  it("finds a start phrase at any offset and with its words wrapped or spaced out", function()
    -- qmail's report; the same words re-wrapped by a forwarder, indented, or
    -- spaced with tabs: a space of a phrase matches any run of blanks and
    -- line breaks, and the phrase may start at any byte
    local function qmail(hi)
      return msg {
        "From: MAILER-DAEMON@mx.example.org",
        "To: ann@example.com",
        "Subject: failure notice",
        "",
        hi .. "-send program at mx.example.org.",
        "I'm afraid I wasn't able to deliver your message to the following addresses.",
        "This is a permanent error; I've given up. Sorry it didn't work out.",
        "",
        "<bob@example.net>:",
        "192.0.2.7 does not like recipient.",
        "Remote host said: 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
        "Giving up on 192.0.2.7.",
        "",
        "--- Below this line is a copy of the message.",
        "",
        "From: ann@example.com",
        "To: bob@example.net",
        "Subject: hello",
      }
    end
    for _, hi in ipairs {
      "Hi. This is the qmail",
      " Hi. This is the qmail",
      "  Hi.  This is the qmail",
      "   Hi.\tThis is\r\n\tthe   qmail",
      "Hi.\r\n This\r\n is the\r\n qmail",
      "> Hi. This  is  the  qmail",
    } do
      local b = assert(smtpcode.bounce(qmail(hi)))
      assert.are.equal("text", b.format, hi)
      assert.are.equal("qmail", b.mta, hi)
      assert.are.equal(1, #b.recipients, hi)
      assert.are.equal("bob@example.net", b.recipients[1].recipient, hi)
      assert.are.equal(550, b.recipients[1].code, hi)
      assert.are.equal("5.1.1", b.recipients[1].status, hi)
    end
  end)

  it("takes the Original-Recipient when the Final-Recipient is source-routed to a bare host", function()
    local b = assert(smtpcode.bounce(dsn {
      "Original-recipient: rfc822;carl@example.org",
      "Final-recipient: rfc822;@smtp.example.org:carl@store01",
      "Action: failed",
      "Status: 5.2.0",
      "Diagnostic-code: smtp;522 5.2.0 Delivery failed: Over quota",
    }))
    assert.are.equal(1, #b.recipients)
    assert.are.equal("carl@example.org", b.recipients[1].recipient)
    assert.are.equal("5.2.0", b.recipients[1].status)
    assert.are.equal(522, b.recipients[1].code)
    -- the same with the fields the other way round
    b = assert(smtpcode.bounce(dsn {
      "Final-Recipient: rfc822; @mx.example.org",
      "Original-Recipient: rfc822; dora@example.org",
      "Action: failed",
      "Status: 5.1.2",
    }))
    assert.are.equal("dora@example.org", b.recipients[1].recipient)
  end)

  it("takes the Original-Recipient when the Final-Recipient is of another address type", function()
    -- an X.400 gateway (RFC 3464 address-type "x400") reporting on an
    -- Internet address
    local b = assert(smtpcode.bounce(dsn {
      "Original-Recipient: rfc822; gus@example.ac.uk",
      "Final-Recipient: x400; /S=gus/OU=physics/PRMD=AC.UK/ADMD= /C=GB/",
      "Action: failed",
      "Diagnostic-Code: Reason 1 (Unable-To-Transfer); Diagnostic 5 (Maximum-Time-Expired)",
      "Status: 4.4.7",
    }))
    assert.are.equal("gus@example.ac.uk", b.recipients[1].recipient)
    assert.are.equal("4.4.7", b.recipients[1].status)
  end)

  it("answers not_bounce, not syntax, when the returned message of an unread notice is no message", function()
    -- a notice in a layout bounce() does not know, from MAILER-DAEMON, whose
    -- message/rfc822 part holds a line of text in place of the returned
    -- message (list software strips it): the inner read fails, the outer
    -- message is still a well-formed message that is no report
    local b, _, code = smtpcode.bounce(msg {
      "From: MAILER-DAEMON@mx.example.cn",
      "To: list-bounces@example.org",
      "Subject: failure",
      "MIME-Version: 1.0",
      "Content-Type: multipart/mixed; boundary=\"zz\"",
      "",
      "--zz",
      "Content-Type: text/plain",
      "",
      "mx.example.cn.",
      "",
      "<ann@example.cn>:",
      "",
      "--zz",
      "Content-Type: message/rfc822",
      "",
      "Message removed",
      "",
      "--zz--",
    })
    assert.is_nil(b)
    assert.are.equal("not_bounce", code)
  end)

  it("keeps a Final-Recipient at a bare host that an alias led to", function()
    local b = assert(smtpcode.bounce(dsn {
      "Final-Recipient: rfc822; eve@mailhub0",
      "Original-Recipient: rfc822;eve.smith@example.org",
      "Action: failed",
      "Status: 5.2.0",
      "Diagnostic-Code: x-unix; procmail: Lock failure",
    }))
    assert.are.equal("eve@mailhub0", b.recipients[1].recipient)
  end)

  it("reads Zoho's bracketed status line under its fatal-errors heading", function()
    local b = assert(smtpcode.bounce(msg {
      "From: mailer-daemon@mail.zoho.com",
      "To: fred@zoho.example.com",
      "Subject: Undelivered Mail Returned to Sender",
      "Content-Type: multipart/mixed; boundary=\"zz\"",
      "",
      "--zz",
      "Content-Type: text/plain; charset=\"UTF-8\"",
      "",
      "This message was created automatically by mail delivery system.",
      "",
      "THIS IS A WARNING MESSAGE ONLY.",
      "",
      "The original message was received at Mon, 3 Mar 2025 09:10:11 -0800",
      "from fred@zoho.example.com [fred@zoho.example.com]",
      "",
      "----- The following addresses had fatal errors -----",
      "[Status: Error, Address: <gina@example.org>, ResponseCode 421, , Host not reachable.]",
      "",
      "Message will be retried for 4 more day(s)",
      "",
      "----- Transcript of session follows -----",
      "",
      "From:\"Fred\" <fred@zoho.example.com>",
      "To:<gina@example.org>",
      "Subject:Hello",
      "--zz--",
    }))
    assert.are.equal("text", b.format)
    assert.are.equal("zoho", b.mta)
    assert.are.equal(1, #b.recipients)
    assert.are.equal("gina@example.org", b.recipients[1].recipient)
    assert.are.equal(421, b.recipients[1].code)
    assert.are.equal("delayed", b.recipients[1].action)
  end)

  it("takes the recipient from the RCPT TO of Apache James's message details", function()
    local b = assert(smtpcode.bounce(msg {
      "From: postmaster@james.example.net",
      "To: hal@example.com",
      "Subject: Delivery failure",
      "Content-Type: text/plain; charset=us-ascii",
      "",
      "Error: Invalid user address",
      "",
      "Error message below:",
      "550 - Requested action not taken: no such user here",
      "",
      "Message details:",
      "  Subject: Lunch",
      "  Sent date: Mon Mar 03 10:00:00 GMT 2025",
      "  MAIL FROM: hal@example.com",
      "  RCPT TO: ivy@sms.example.org",
      "  From: Hal <hal@example.com>",
      "  Size (in bytes): 120",
    }))
    assert.are.equal(1, #b.recipients)
    assert.are.equal("ivy@sms.example.org", b.recipients[1].recipient)
    assert.are.equal(550, b.recipients[1].code)
    assert.are.equal("user_unknown", b.recipients[1].reason)
  end)

  it("takes the recipient from the original's headers quoted after the section", function()
    local b = assert(smtpcode.bounce(msg {
      "From: postmaster@mms.example.net",
      "To: jo@example.com",
      "Subject: Undeliverable Message",
      "Content-Type: text/plain; charset=US-ASCII",
      "",
      "Message could not be delivered to mobile.",
      "Error: No valid recipients for this MM",
      "",
      "",
      "Original Message:",
      "From: Jo <jo@example.com>",
      "To: 5550100@mms.example.net",
      "Subject: photo",
      "Date: Mon, 3 Mar 2025 10:00:00 +0000",
    }))
    assert.are.equal(1, #b.recipients)
    assert.are.equal("5550100@mms.example.net", b.recipients[1].recipient)
    assert.are.equal("photo", b.original.subject)
  end)

  it("gives a Sendmail summary line the remote reply of the transcript above it", function()
    local b = assert(smtpcode.bounce(msg {
      "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>",
      "To: kim@example.net",
      "Subject: Returned mail: Remote protocol error",
      "",
      "   ----- Transcript of session follows -----",
      "While talking to mx.example.org:",
      ">>> MAIL From:<kim@example.net>",
      "<<< 550 Relaying denied for your host",
      "554 <lee@example.org>... Remote protocol error",
      "While talking to mx.example.com:",
      ">>> RCPT To:<max@example.com>",
      "<<< 451 Try again later",
      "554 <max@example.com>... 550 Host unknown (Authoritative answer from name server)",
      "",
      "   ----- Unsent message follows -----",
      "Subject: hi",
    }))
    assert.are.equal(2, #b.recipients)
    assert.are.equal("lee@example.org", b.recipients[1].recipient)
    assert.are.equal(550, b.recipients[1].code)
    -- a reply quoted on the summary line itself wins
    assert.are.equal("max@example.com", b.recipients[2].recipient)
    assert.are.equal(550, b.recipients[2].code)
    assert.are.equal("host_unknown", b.recipients[2].reason)
  end)

  it("reads Exim's notice of a malformed recipient address, the bracketed address", function()
    local b = assert(smtpcode.bounce(msg {
      "From: Mail Delivery System <Mailer-Daemon@mx.example.net>",
      "To: nat@example.net",
      "Subject: Mail failure - malformed recipient address",
      "Auto-Submitted: auto-replied",
      "",
      "A message that you sent contained one or more recipient addresses that were",
      "incorrectly constructed:",
      "",
      "  olga@example.com <pat@example.org>: malformed address: <pat@example.org> may not follow olga@example.com",
      "",
      "This address has been ignored. The other addresses in the message were",
      "syntactically valid and have been passed on for an attempt at delivery.",
      "",
      "------ This is a copy of your message, including all the headers. ------",
      "",
      "To: olga@example.com <pat@example.org>",
      "Subject: hello",
    }))
    assert.are.equal("exim", b.mta)
    assert.are.equal(1, #b.recipients)
    assert.are.equal("pat@example.org", b.recipients[1].recipient)
    assert.are.equal("failed", b.recipients[1].action)
  end)

  it("reads fml's notices to a poster: not a member, a duplicated Message-ID", function()
    local head = {
      "From: cats-admin@lists.example.org",
      "To: quin@example.com",
      "X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]",
    }
    local function with(lines)
      local l = {}
      for _, x in ipairs(head) do l[#l + 1] = x end
      for _, x in ipairs(lines) do l[#l + 1] = x end
      return msg(l)
    end
    local b = assert(smtpcode.bounce(with {
      "Subject: You quin@example.com are not member (cats ML)",
      "",
      "You are not a member of this mailing list <cats@lists.example.org>.",
      "",
      "If you know the general guide of this list, please send mail with",
      "the mail body",
      "",
      "\tguide",
    }))
    assert.are.equal("fml", b.mta)
    assert.are.equal("cats@lists.example.org", b.recipients[1].recipient)
    b = assert(smtpcode.bounce(with {
      "Subject: Loop Alert: Duplicated Message-ID (cats ML)",
      "",
      "Duplicated Message-ID in <cats@lists.example.org>.",
      "",
      "",
      "Original mail as follows:",
      "",
      "   From: quin@example.com",
      "   To: cats@lists.example.org",
    }))
    assert.are.equal("fml", b.mta)
    assert.are.equal("cats@lists.example.org", b.recipients[1].recipient)
  end)

  it("takes the address listed just above an m-FILTER server message, not the original's sender", function()
    local b = assert(smtpcode.bounce(msg {
      "From: postmaster <postmaster@gw.example.co.jp>",
      "To: rex@example.org",
      "Subject: failure notice",
      "Content-Type: text/plain; charset=\"UTF-8\"",
      "",
      "このメールは「m-FILTER」が自動的に生成して送信しています。",
      "",
      "以下のメールアドレスへの送信に失敗しました。",
      "sam@example.co.jp",
      "",
      "",
      "-------server message",
      "452 4.3.1 Insufficient system resources",
      "",
      "-------SMTP command",
      "DATA",
      "",
      "-------original mail info",
      "From: rex@example.org",
      "Subject: hello",
    }))
    assert.are.equal("mfilter", b.mta)
    assert.are.equal(1, #b.recipients)
    assert.are.equal("sam@example.co.jp", b.recipients[1].recipient)
    assert.are.equal(452, b.recipients[1].code)
  end)

  it("takes the reply code Amazon SES writes outside its quotes", function()
    local b = assert(smtpcode.bounce(dsn {
      "Final-Recipient: rfc822; una@example.jp",
      "Action: failed",
      "Status: 5.0.0 (permanent failure)",
      "Remote-MTA: dns; [192.0.2.9]",
      "Diagnostic-Code: smtp; 5.3.0 - Other mail system problem 550-'Unknown user una@example.jp'"
        .. " (delivery attempts: 0)",
    }))
    assert.are.equal("una@example.jp", b.recipients[1].recipient)
    assert.are.equal(550, b.recipients[1].code)
    assert.are.equal("user_unknown", b.recipients[1].reason)
  end)
  it("reads a notice that gave up after a retry count, whatever the count", function()
    -- Ipswitch IMail (SMTP32) writes one line, "Delivery failed <n>
    -- attempts: <address>", the count being the server's setting; the
    -- message was given up, not refused by the remote
    for _, n in ipairs { "3", "10", "20" } do
      local b = assert(smtpcode.bounce(msg {
        "From: \"Postmaster\" <postmaster@mail.example.org>",
        "To: <ann@example.com>",
        "Subject: Undeliverable Mail",
        "X-Mailer: <SMTP32 v8.15>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Delivery failed " .. n .. " attempts: bob@example.net",
        "",
        "",
        "Original message follows.",
        "",
        "From: ann@example.com",
        "To: bob@example.net",
        "Subject: hello",
        "",
        "hi",
      }))
      assert.are.equal("imailserver", b.mta)
      assert.are.equal("bob@example.net", b.recipients[1].recipient)
      assert.are.equal("expired", b.recipients[1].reason, n)
    end
    -- the same words in a reply line
    assert.are.equal("expired", smtpcode.classify("554 delivery to bob@example.net failed after 5 attempts").reason)
  end)

  it("names Microsoft's delivery reports by their own headers, not by a DSN field every MTA writes", function()
    -- Exchange 2007 and later and Office 365 write "Received-From-MTA: dns;"
    -- in their DSN part as RFC 3464 shows it; Sendmail's "DNS;" is the same
    -- field, so it names Sendmail only when nothing more specific does
    local function ms(header)
      return msg {
        "From: <postmaster@example.no>",
        "To: <ann@example.com>",
        "Subject: Undeliverable: hello",
        header,
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain",
        "",
        "Your message to bob@example.no couldn't be delivered.",
        "",
        "--b1",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns;AM0PR01MB0001.eurprd01.prod.outlook.com",
        "Received-From-MTA: dns;mx.example.com",
        "Arrival-Date: Fri, 13 Oct 2017 11:10:16 +0000",
        "",
        "Final-Recipient: rfc822;bob@example.no",
        "Action: failed",
        "Status: 5.1.10",
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP"
          .. " address lookup",
        "",
        "--b1--",
      }
    end
    local b = assert(smtpcode.bounce(ms("X-MS-Exchange-CrossTenant-OriginalArrivalTime: 13 Oct 2017"
      .. " 11:10:16.7009 (UTC)")))
    assert.are.equal("office365", b.mta)
    assert.are.equal("user_unknown", b.recipients[1].reason)
    b = assert(smtpcode.bounce(ms("X-MS-Exchange-Message-Is-Ndr:")))
    assert.are.equal("exchange", b.mta)
    -- Sendmail's own DSN still names it
    b = assert(smtpcode.bounce(dsn {
      "Received-From-MTA: DNS; localhost",
      "",
      "Final-Recipient: RFC822; bob@example.net",
      "Action: failed",
      "Status: 5.1.1",
      "Diagnostic-Code: SMTP; 550 5.1.1 <bob@example.net>... User unknown",
    }))
    assert.are.equal("sendmail", b.mta)
  end)
  it("answers not_bounce to a challenge-response request dressed as a DSN", function()
    -- Boxbe holds a message until its sender joins the recipient's guest
    -- list and says so from its own domain in a multipart/report with its
    -- own diagnostic type: a request to the sender, not a failed delivery
    local function cr(from, dtype)
      return msg {
        "From: " .. from,
        "To: ann@example.com",
        "Subject: Re: hello (Action Required)",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain",
        "",
        "Hello Ann,",
        "",
        "Your message about \"hello\" is on hold until you confirm you are a person.",
        "",
        "--b1",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; screen.example.net",
        "",
        "Final-Recipient: rfc822; bob@example.net",
        "Action: failed",
        "Status: 4.7.0",
        "Diagnostic-Code: " .. dtype .. "; Sender not approved yet, see the notice above",
        "",
        "--b1--",
      }
    end
    local b, _, code = smtpcode.bounce(cr("noreply@boxbe.com", "X-Boxbe-Notice"))
    assert.is_nil(b)
    assert.are.equal("not_bounce", code)
    -- the same report from another system, with an SMTP diagnostic, is one
    b = assert(smtpcode.bounce(cr("MAILER-DAEMON@example.net", "smtp")))
    assert.are.equal("bob@example.net", b.recipients[1].recipient)
  end)
end)
