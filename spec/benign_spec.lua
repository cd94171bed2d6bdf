-- Lines that report no failure: a bare word,
-- a header name, a MIME type or a DSN field name never decides a failure.
local sc = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

-- Log lines and header lines as the programs write them; none reports a
-- failure of delivery.
local BENIGN = {
  "Dec  7 10:00:01 mx policyd-spf[1234]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=mail.example.com; envelope-from=a@example.com; receiver=<UNKNOWN>",
  "Received-SPF: pass (example.org: domain of a@example.com designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1;",
  "Dec  7 10:00:01 mx opendkim[555]: 4BCD12345: DKIM-Signature field added (s=mail, d=example.com)",
  "Dec  7 10:00:02 mx opendkim[555]: 4BCD12345: s=mail d=example.com SSL",
  "Dec  7 10:00:01 ns named[777]: client @0x7f3a 192.0.2.1#53000 (1.2.0.192.in-addr.arpa): query: 1.2.0.192.in-addr.arpa IN PTR + (127.0.0.1)",
  "Dec  7 10:00:01 mx amavis[888]: (08888-01) Passed CLEAN {RelayedInbound}, [192.0.2.1]:4444 <a@example.com> -> <b@example.org>, Message-ID: <x@y>, mail_id: abc, Hits: -1.2, size: 2345, queued_as: 4BCD, 1234 ms",
  "Message-Id: <a@b>",
  "Message-ID: <20261207100001.4BCD12345@mx.example.com>",
  "Final-Recipient: rfc822; bob@example.com",
  "Original-Recipient: rfc822;bob@example.com",
  "Content-Type: message/delivery-status",
  "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"",
  "Reporting-MTA: dns; mx.example.com",
  "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; dmarc=pass",
  "X-Spam-Status: No, score=-0.1 required=5.0 tests=DKIM_SIGNED,DKIM_VALID,SPF_PASS",
  "Dec  7 10:00:03 mx rspamd[99]: <4bcd12>; task; rspamd_task_write_log: id: <x@y>, qid: <4BCD>, ip: 192.0.2.1, from: <a@example.com>, (default: F (no action): [-1.20/15.00] [R_SPF_ALLOW(-0.20){+ip4:192.0.2.0/24;},DKIM_TRACE(0.00){example.com:+;}])",
  -- Postfix anvil's statistics: a measured peak, no limit hit (batch O)
  "Dec  7 10:00:04 mx postfix/anvil[1200]: statistics: max connection rate 3/60s for (smtp:192.0.2.80) at Dec  7 09:58:01",
  "Dec  7 10:00:04 mx postfix/anvil[1200]: statistics: max connection count 2 for (smtp:192.0.2.80) at Dec  7 09:58:01",
  "Dec  7 10:00:04 mx postfix/anvil[1200]: statistics: max message rate 5/60s for (smtp:192.0.2.80) at Dec  7 09:58:01",
  -- Postfix smtpd: a client went away (the receiver's own log)
  "Dec  7 10:00:05 mx postfix/smtpd[2400]: lost connection after RCPT from unknown[192.0.2.81]",
  "Dec  7 10:00:06 mx postfix/smtpd[2400]: timeout after DATA (0 bytes) from unknown[192.0.2.81]",
  "Dec  7 10:00:06 mx postfix/smtpd[2400]: timeout after END-OF-MESSAGE from unknown[192.0.2.81]",
}

describe("benign lines", function()
  it("are not failures: no reason, retry not decided, on every backend", function()
    helper.each_line(sc, BENIGN, function(_, line, at)
      local v = sc.classify(line)
      assert.equal("unknown", v.reason, at .. " -> " .. tostring(v.matched))
      assert.is_nil(v.retry, at)
      assert.is_nil(v.bounce, at)
      assert.is_nil(v.matched, at)
    end)
  end)

  it("are not bounced by the retry policy", function()
    local retry = require "smtpcode.retry"
    local policy = retry.policy()
    for _, line in ipairs(BENIGN) do
      local d = policy:decide(line, { now = 0 })
      assert.are_not.equal("bounce", d.action, line)
      assert.is_false(d.suppress, line)
    end
  end)

  it("still let a bare word refine a failure a code reports", function()
    assert.equal("sender_auth", sc.classify("550 5.7.1 SPF").reason)
    assert.equal("blocklisted", sc.classify("554 5.7.1 Service unavailable; client blocked by RBL").reason)
    assert.equal("spam", sc.classify("550 UBE rejected").reason)
  end)

  it("words that say a failure still decide without a code", function()
    assert.equal("network", sc.classify("Error: connect ECONNREFUSED 192.0.2.10:587").reason)
    assert.equal("user_unknown", sc.classify("procmail: Couldn't create \"/var/spool/mail/ann\": No such user").reason)
  end)

  it("on random bytes, no bare word decides a failure", function()
    -- 2 MB of pseudo-random bytes (a fixed LCG, so the run is the same
    -- everywhere), cut into lines of 1-300 bytes; half of them drawn from
    -- letters, digits and punctuation so that short words occur often.
    local seed = 12345
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local alpha = "abcdefghijklmnopqrstuvwxyz    ...,;:-=<>@0123456789SPFRBLPTRUBE"
    local lines, total, bad = 0, 0, {}
    while total < 2 * 1024 * 1024 do
      local n, t = 1 + rnd(300), {}
      local letters = rnd(2) == 0
      for i = 1, n do
        if letters then
          local k = rnd(#alpha) + 1
          t[i] = alpha:sub(k, k)
        else
          t[i] = string.char(rnd(256))
        end
      end
      local line = table.concat(t)
      total, lines = total + n, lines + 1
      local v = sc.classify(line)
      if v.code == nil and v.enhanced == nil and v.matched ~= nil then
        local rule = v.matched:match('^rule %d+: "(.*)"$')
        if rule and not rule:find(" ", 1, true) then
          bad[#bad + 1] = v.matched .. " <- " .. string.format("%q", line)
        end
      end
    end
    assert.is_true(lines > 10000)
    assert.same({}, bad)
  end)
end)

describe("a bare word after a failure word", function()
  it("names the cause of a code-less line once another rule says it failed", function()
    -- an Exim rejection logged without a code: "rejected" says it failed,
    -- "spam" says why (it used to be generic policy)
    local v = sc.classify("H=mail.example.net [198.51.100.3] rejected after DATA: "
      .. "Your message scored 14.2 spam points and was rejected")
    assert.equal("spam", v.reason)
    -- the bare word alone still decides nothing
    assert.is_nil(sc.classify("Your message scored 14.2 spam points").bounce)
  end)
end)
