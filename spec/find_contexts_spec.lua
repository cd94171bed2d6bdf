-- Codes not preceded by a space, vendor prefixes, and the outer reply of a
-- deferral (issue 12, families 3 and 6). Each failed before the fix.
local sc = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

describe("find and classify see codes", function()
  it("after Sendmail's reject=", function()
    local line = "Dec  7 10:00:01 mx sm-mta[123]: 0B7A1B2C3: ruleset=check_rcpt, arg1=<bob@example.org>, relay=[192.0.2.1], reject=550 5.1.1 <bob@example.org>... User unknown"
    local f = sc.find(line)
    assert.equal(550, f.code)
    assert.equal("5.1.1", f.enhanced)
    assert.equal("hard", sc.classify(line).bounce)
  end)

  it("in a CSV field (Exchange message tracking)", function()
    local f = sc.find("2026-12-07T10:00:01.000Z,192.0.2.1,mx.example.org,,,FAIL,550 5.1.1 RESOLVER.ADR.RecipNotFound; not found,bob@example.org")
    assert.equal(550, f.code)
    assert.equal("5.1.1", f.enhanced)
    f = sc.find("2026-12-07T10:00:01.000Z,,FAIL,451 4.4.0 DNS query failed,bob@example.org")
    assert.equal(451, f.code)
  end)

  it("but not in a number with thousands separators", function()
    assert.is_nil(sc.find("sent 1,550 messages, 2,421 bytes"))
  end)

  it("in JSON strings of provider webhooks", function()
    local f = sc.find('{"event":"bounced","reason":"550 5.2.2 mailbox full","status":"5.2.2"}')
    assert.equal(550, f.code)
    f = sc.find('{"event":"bounce","message":"5.1.1 The email account that you tried to reach does not exist"}')
    assert.equal("5.1.1", f.enhanced)
  end)

  it("behind a vendor's status and dash", function()
    local v = sc.classify("5.3.0 - Other mail system problem 550-'5.1.1 <bob@example.org>: Recipient address rejected: User unknown'")
    assert.equal(550, v.code)
    assert.equal("5.1.1", v.enhanced)
    assert.equal("user_unknown", v.reason)
    v = sc.classify("5.3.0 - Other mail system problem 554-'Transaction failed: Spam message rejected'")
    assert.equal(554, v.code)
    assert.equal("spam", v.reason)
    v = sc.classify("5.3.0 - Other mail system problem 550-'Mailbox unavailable'")
    assert.equal(550, v.code)
    assert.equal("user_unknown", v.reason)
  end)

  it("on a deferral quoting the remote reply, the outer one wins", function()
    local line = "Dec  7 10:00:01 mx postfix/smtp[1]: 4BCD: to=<bob@example.org>, relay=mx.example.org[192.0.2.2]:25, delay=1, dsn=4.1.1, status=deferred (host mx.example.org[192.0.2.2] said: 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO command))"
    local f, inner = sc.find(line)
    assert.is_nil(f.code)
    assert.equal("4.1.1", f.enhanced)
    helper.each_backend(sc, function(b)
      local v = sc.classify(line)
      assert.equal("transient", v.severity, b)
      assert.is_true(v.retry, b)
      assert.equal("soft", v.bounce, b)
    end)
    -- a bounced line keeps the remote reply
    f = sc.find("dsn=5.1.1, status=bounced (host x said: 550 5.1.1 <b@x.org>: User unknown (in reply to RCPT TO command))")
    assert.equal(550, f.code)
  end)
end)
