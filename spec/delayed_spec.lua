-- Delay notices: transient, retried, not a bounce, delayed = true.
local sc = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

-- Written from how the systems word their delay notices.
local DELAYED = {
  "Delivery has been delayed to these recipients or groups: bob@example.org",
  "The server will keep trying to deliver this message for the next 1 days, 19 hours and 53 minutes.",
  "Remote Server returned '400 4.4.7 Message delayed'",
  "Your message could not be delivered for more than 4 hour(s). It will be retried until it is 5 day(s) old.",
  "Warning: could not send message for past 4 hours",
  "Gmail will retry for 47 more hours. You'll be notified if the delivery fails permanently.",
  "Action: delayed",
  "Status: 4.4.7 (delivery delayed)",
  "Subject: Delivery Status Notification (Delay)",
  "This message has not yet been delivered to all recipients. No action is required on your part. Delivery attempts will continue for some time.",
  "Die Zustellung an folgende Empfänger wurde verzögert: bob@example.de",
  "La remise du message a été retardée.",
  "La entrega de su mensaje se ha retrasado.",
  "A entrega da mensagem foi atrasada.",
  "La consegna del messaggio è stata ritardata.",
  "De bezorging van uw bericht is vertraagd.",
  "Доставка сообщения задерживается.",
  "邮件投递延迟",
  "メールの配信が遅延しています",
  -- Exchange's "Delivery is delayed to these recipients or groups" as its
  -- other languages word it (the verb after the subject)
  "Die Zustellung an folgende Empfänger oder Gruppen verzögert sich: bob@example.de",
  "La remise aux destinataires ou groupes suivants est retardée : bob@example.fr",
  "La entrega a estos destinatarios o grupos se está retrasando: bob@example.es",
  "A entrega a estes destinatários ou grupos está atrasada: bob@example.pt",
  "De bezorging bij deze geadresseerden of groepen wordt vertraagd: bob@example.nl",
  "Doręczenie do tych adresatów lub grup jest opóźnione: bob@example.pl",
  "以下收件人或组的传递延迟: bob@example.cn",
}

describe("delay notices", function()
  it("are transient, retried, no bounce, delayed = true, on every backend", function()
    helper.each_line(sc, DELAYED, function(_, line, at)
      for _, into in ipairs { false, true } do
        local v = into and sc.classify(line, nil, { bounce = "soft", delayed = false }) or sc.classify(line)
        assert.equal("transient", v.severity, at)
        assert.is_true(v.retry, at)
        assert.is_nil(v.bounce, at)
        assert.is_true(v.delayed, at)
        assert.are_not.equal("expired", v.reason, at)
      end
    end)
  end)

  it("keep the cause they report", function()
    local v = sc.classify("Warning: could not send message for past 4 hours; Deferred: Connection timed out with mx.example.org")
    assert.equal("network", v.reason)
    assert.is_true(v.delayed)
  end)

  it("a permanent reply stays a failure", function()
    local v = sc.classify("550 5.1.1 user unknown; the message had been delayed")
    assert.equal("permanent", v.severity)
    assert.equal("hard", v.bounce)
    assert.is_nil(v.delayed)
  end)

  it("a failure is not delayed, and into loses delayed", function()
    helper.each_backend(sc, function(b)
      local t = sc.classify("Action: delayed")
      assert.is_true(t.delayed, b)
      sc.classify("450 4.2.2 mailbox full", nil, t)
      assert.is_nil(t.delayed, b)
      assert.equal("soft", t.bounce, b)
    end)
  end)

  it("the retry policy retries and never bounces them", function()
    local policy = require("smtpcode.retry").policy()
    for _, line in ipairs(DELAYED) do
      local d = policy:decide(line, { now = 0 })
      assert.equal("retry", d.action, line)
      assert.is_false(d.suppress, line)
    end
  end)

  it("a user rule keeps delayed and no bounce", function()
    sc.add_rule { reason = "network", match = "wurde verzögert" }
    local v = sc.classify("Die Zustellung wurde verzögert")
    sc.clear_rules()
    assert.equal("network", v.reason)
    assert.is_true(v.delayed)
    assert.is_nil(v.bounce)
  end)
end)

describe("add_rule near", function()
  local smtpcode = require "smtpcode"
  after_each(function() smtpcode.clear_rules() end)
  it("holds when the words are near each other in one sentence, on every backend", function()
    smtpcode.add_rule { reason = "blocklisted", match = { "access", "blocked" }, near = 4 }
    helper.each_backend(smtpcode, function(b)
      assert.equal("blocklisted", smtpcode.classify("550 Access from 192.0.2.7 blocked").reason, b)
      assert.are_not.equal("blocklisted", smtpcode.classify("550 Access granted. Later the sender was blocked").reason, b)
      assert.are_not.equal("blocklisted", smtpcode.classify("550 access one two three four five blocked").reason, b)
      assert.equal("blocklisted", smtpcode.classify("550 access ok. access from 192.0.2.7 is blocked").reason, b)
    end)
  end)
  it("checks near", function()
    assert.has_error(function() smtpcode.add_rule { reason = "spam", match = "x", near = -1 } end,
      "bad argument #1 to 'add_rule' (near must be a number of words (0-20))")
  end)
end)

describe("explain of a delay notice", function()
  it("says the server is still trying", function()
    local text = require("smtpcode").explain("Delivery has been delayed to these recipients: bob@example.org")
    assert.truthy(text:find("delayed: the server is still trying", 1, true))
  end)
end)
