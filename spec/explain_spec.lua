-- smtpcode.explain: a short text for a person about a reply or log line,
-- and the classify table it was made from. The common questions are those
-- of shared/reference/README.md (common-codes.tsv paragraph).

local smtpcode = require "smtpcode"
local explain_mod = require "smtpcode.explain"

local pcall, ipairs, pairs, select = pcall, ipairs, pairs, select

local explain = smtpcode.explain

-- The line of the text that starts with `label`.
local function field(text, label)
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:sub(1, #label) == label then return line:sub(#label + 1) end
  end
  return nil
end

-- 5.1.8: the sender's domain was not found; send from a domain that resolves.
local function assert_sender_domain(x)
  local text, c = explain(x)
  assert.equal("sender_rejected", c.reason, x)
  assert.equal("permanent", c.severity, x)
  local meaning = field(text, "What it means: "):lower()
  assert.truthy(meaning:find("domain of the sender address was not found", 1, true), x)
  assert.truthy(field(text, "Who must act: "):find("^you, the sender"), x)
  local todo = field(text, "What to do: "):lower()
  assert.truthy(todo:find("domain exists and resolves", 1, true), x)
end

for _, backend in ipairs(smtpcode._backends()) do
  describe("explain (" .. backend .. " backend)", function()
    setup(function() smtpcode._set_backend(backend) end)

    describe("answers the common questions", function()
      it("says [221] 2.0.0 bye is not an error: the session closed normally", function()
        for _, x in ipairs({ "[221] 2.0.0 bye", "smtp error [221] 2.0.0 bye", "221 2.0.0 Bye" }) do
          local text, c = explain(x)
          assert.equal("success", c.severity)
          assert.equal(221, c.code)
          assert.truthy(text:find("not an error", 1, true), x)
          assert.truthy(field(text, "What it means: "):lower():find("closed the session normally", 1, true))
          assert.equal("nobody.", field(text, "Who must act: "))
          assert.falsy(text:lower():find("retry", 1, true))
        end
      end)

      it("says 5.1.8 means the sender's domain was not found: send from a domain that exists and resolves",
        function()
          for _, x in ipairs({ "554 5.1.8", "553 5.1.8 Sender address domain does not exist",
                               "554 5.1.8 Invalid email domain",
                               "553 5.1.8 <news@example.com>: Sender address rejected: Domain not found" }) do
            assert_sender_domain(x)
          end
        end)

      it("says the same when the sender address is written \"e-mail address\"", function()
        -- the wording of the public code list: "5.1.8 Sender e-mail address domain does not exist"
        assert_sender_domain("5.1.8 Sender e-mail address domain does not exist")
        assert_sender_domain("553 5.1.8 Sender email address domain does not exist")
      end)

      it("says greylisting needs nothing but patience: the sending server retries by itself", function()
        local text, c = explain("451 4.7.1 Greylisting in action, please come back later")
        assert.equal("greylisted", c.reason)
        assert.is_true(c.retry)
        assert.truthy(field(text, "Who must act: "):find("^nobody"))
        assert.truthy(field(text, "Who must act: "):find("retries by itself", 1, true))
        assert.truthy(field(text, "What to do: "):lower():find("patience", 1, true))
        assert.truthy(field(text, "Retry: "):find("^yes"))
      end)

      it("says \"Unable to connect to SMTP server\" (no code) is a network problem", function()
        local text, c = explain("Unable to connect to SMTP server")
        assert.is_nil(c.code)
        assert.equal("network", c.reason)
        assert.truthy(text:find("^No SMTP reply code"))
        assert.truthy(text:lower():find("network problem", 1, true))
        assert.truthy(field(text, "Who must act: "):find("network administrator", 1, true))
      end)
    end)

    describe("says whose side must act", function()
      -- text, who (start of the "Who must act" line), reason
      local cases = {
        { "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in local recipient table",
          "you, the sender", "user_unknown" },
        { "552 5.2.2 <bob@example.net>: user is over quota", "the recipient", "mailbox_full" },
        { "452 4.2.2 The email account that you tried to reach is over quota", "the recipient", "mailbox_full" },
        { "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
          "you, the sender", "blocklisted" },
        { "421 4.7.0 Try again later, closing connection. (rate limited)", "nobody", "rate_limited" },
        { "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy",
          "you, the sender", "sender_auth" },
        { "554 5.7.1 <x@example.org>: Relay access denied", "you, the sender", "relay_denied" },
        { "421 4.3.2 Service shutting down", "nobody", "service_unavailable" },
      }
      for _, case in ipairs(cases) do
        it(case[3] .. ": " .. case[2], function()
          local text, c = explain(case[1])
          assert.equal(case[3], c.reason)
          local who = field(text, "Who must act: ")
          assert.equal(case[2], who:sub(1, #case[2]))
        end)
      end

      it("tells the sender to stop mailing an address that is a hard bounce", function()
        local text, c = explain("550 5.1.1 User unknown")
        assert.equal("hard", c.bounce)
        assert.truthy(text:find("hard bounce", 1, true))
        text = explain("552 5.2.2 Mailbox full")
        assert.falsy(text:find("hard bounce", 1, true))
      end)

      it("follows the text when it is more specific than the code (5.1.10 RecipientNotFound)", function()
        local text, c = explain("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
        assert.equal("user_unknown", c.reason)
        assert.falsy(text:lower():find("null mx", 1, true))
        text, c = explain("556 5.1.10 Recipient address has null MX")
        assert.equal("host_unknown", c.reason)
        assert.truthy(text:lower():find("null mx", 1, true))
      end)
    end)

    describe("input", function()
      it("returns the classify table it used as second value", function()
        local x = "450 4.2.0 <a@example.com>: Recipient address rejected: Greylisted"
        local _, c = explain(x)
        local d = smtpcode.classify(x)
        for k, v in pairs(d) do assert.same(v, c[k], k) end
      end)

      it("accepts a parse, find or classify result table", function()
        local wire = "550-5.1.1 The email account that you tried to reach does not exist.\r\n" ..
          "550 5.1.1 Please try double-checking the recipient's address.\r\n"
        local p = assert(smtpcode.parse(wire))
        local tp, cp = explain(p)
        assert.equal("user_unknown", cp.reason)
        assert.truthy(tp:find("^550 5%.1%.1"))
        local f = assert(smtpcode.find("status=bounced (host mx[192.0.2.1] said: 554 5.1.8 Domain not found)"))
        local _, cf = explain(f)
        assert.equal(554, cf.code)
        local c = smtpcode.classify("451 4.7.1 Greylisting in action, please come back later")
        local tc, cc = explain(c)
        assert.equal(c, cc)
        assert.equal((explain("451 4.7.1 Greylisting in action, please come back later")), tc)
      end)

      it("says when the text has no code and no known failure", function()
        local text = explain("hello world")
        assert.truthy(text:find("^No SMTP reply code and no known failure"))
      end)

      it("raises on wrong argument types like the other functions", function()
        for _, v in ipairs({ { nil, "nil" }, { 42, "number" }, { true, "boolean" } }) do
          local ok, err = pcall(explain, v[1])
          assert.is_false(ok)
          assert.equal("bad argument #1 to 'explain' (string or table expected, got " .. v[2] .. ")", err)
        end
        local ok, err = pcall(explain)
        assert.is_false(ok)
        assert.equal("bad argument #1 to 'explain' (string or table expected, got nil)", err)
      end)
    end)
  end)
end

describe("smtpcode.explain data", function()
  it("has who and what-to-do sentences for every reason of classify, for both severities", function()
    local reasons = smtpcode._core.reasons()
    assert.truthy(#reasons > 20)
    for _, r in ipairs(reasons) do
      local row = explain_mod.reasons[r]
      assert.is_table(row, r)
      assert.is_string(row.label, r)
      for _, sev in ipairs({ "transient", "permanent" }) do
        assert.is_string(row[sev].who, r .. " " .. sev)
        assert.is_string(row[sev].todo, r .. " " .. sev)
      end
    end
  end)

  it("explains every reason with four or five short lines", function()
    for r in pairs(explain_mod.reasons) do
      for _, sev in ipairs({ "transient", "permanent" }) do
        local c = { severity = sev, reason = r, code = sev == "transient" and 451 or 550,
          retry = sev == "transient", bounce = "soft", description = "d", advice = "a" }
        local text, same = explain_mod.explain(c)
        assert.equal(c, same)
        local n = select(2, text:gsub("\n", "\n")) + 1
        assert.truthy(n == 4 or n == 5, r)
        assert.truthy(#text < 800, r)
      end
    end
  end)
end)
