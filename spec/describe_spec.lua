-- smtpcode.describe and smtpcode.codes: what a reply code, an enhanced
-- status code or a whole reply means (registry data in data/*.tsv).

local smtpcode = require "smtpcode"

local function has_note(t, provider, pattern)
  for _, n in ipairs(t.notes) do
    if n.provider == provider and (not pattern or n.meaning:find(pattern)) then
      return n
    end
  end
  return nil
end

describe("smtpcode.describe", function()
  it("describes a reply code given as an integer or a string", function()
    for _, x in ipairs({ 550, "550", " 550\r\n" }) do
      local t = assert(smtpcode.describe(x))
      assert.are.equal("reply", t.kind)
      assert.are.equal("550", t.code)
      assert.are.equal("Mailbox unavailable", t.title)
      assert.are.equal("standard", t.standard)
      assert.are.equal("permanent", t.severity)
      assert.are.equal("5yz", t.class.code)
      assert.are.equal("Permanent Negative Completion", t.class.title)
      assert.are.equal("x5z", t.subject.code)
      assert.is_truthy(t.references:find("RFC 5321", 1, true))
      assert.is_nil(t.fallback)
    end
  end)

  it("describes an enhanced code in a class or as X.s.d", function()
    local t = assert(smtpcode.describe("5.1.1"))
    assert.are.equal("enhanced", t.kind)
    assert.are.equal("5.1.1", t.code)
    assert.are.equal("Bad destination mailbox address", t.title)
    assert.are.equal("Permanent Failure", t.class.title)
    assert.are.equal("Addressing Status", t.subject.title)
    assert.are.equal("sender", t.subject.control)
    assert.are.equal("RFC 3463 §3.2", t.references)
    local x = assert(smtpcode.describe("X.1.1"))
    assert.are.equal("X.1.1", x.code)
    assert.are.equal(t.title, x.title)
    assert.is_nil(x.class)
    assert.are.equal("Addressing Status", x.subject.title)
    assert.are.equal("X.1.1", smtpcode.describe("x.1.1").code)
  end)

  it("describes both codes of a whole reply, the pair on top", function()
    local t = assert(smtpcode.describe("550 5.1.1 User unknown"))
    assert.are.equal("pair", t.kind)
    assert.are.equal("550 5.1.1", t.code)
    assert.are.equal("Mailbox does not exist", t.title)
    assert.are.equal("User unknown", t.text)
    assert.are.equal("550", t.reply.code)
    assert.are.equal("reply", t.reply.kind)
    assert.are.equal("5.1.1", t.enhanced.code)
    assert.are.equal("enhanced", t.enhanced.kind)
    assert.are.equal("Bad destination mailbox address", t.enhanced.title)
    assert.are.equal("Addressing Status", t.subject.title)
    assert.is_nil(t.mismatch)
  end)

  it("puts the enhanced code on top of a reply that is no common pair", function()
    local t = assert(smtpcode.describe("552 5.2.2 Mailbox full"))
    assert.are.equal("enhanced", t.kind)
    assert.are.equal("5.2.2", t.code)
    assert.are.equal("Mailbox full", t.title)
    assert.are.equal("552", t.reply.code)
    assert.are.equal("5.2.2", t.enhanced.code)
  end)

  it("puts the reply code on top of a reply without an enhanced code", function()
    local t = assert(smtpcode.describe("554 Transaction failed\r\n"))
    assert.are.equal("reply", t.kind)
    assert.are.equal("554", t.code)
    assert.are.equal("554", t.reply.code)
    assert.is_nil(t.enhanced)
  end)

  it("reads multi-line replies, bracketed log codes and non-standard codes", function()
    local t = assert(smtpcode.describe("550-5.1.1 first\r\n550 5.1.1 second\r\n"))
    assert.are.equal("550 5.1.1", t.code)
    assert.are.equal("first\nsecond", t.text)
    t = assert(smtpcode.describe("[221] 2.0.0 bye"))
    assert.are.equal("221 2.0.0", t.code)
    t = assert(smtpcode.describe("571 5.7.1 Message refused"))
    assert.are.equal("571", t.reply.code)
    assert.are.equal("non-standard", t.reply.standard)
    assert.is_truthy(t.reply.emitted_by)
  end)

  it("flags a reply whose enhanced class differs from the reply class", function()
    local t = assert(smtpcode.describe("421 5.7.32 Your email was blocked"))
    assert.is_true(t.mismatch)
    assert.are.equal("transient", t.reply.severity)
    assert.are.equal("permanent", t.enhanced.severity)
  end)

  it("falls back to the subject for an unknown detail and says so", function()
    local t = assert(smtpcode.describe("5.1.99"))
    assert.is_true(t.fallback)
    assert.are.equal("X.1.0", t.fallback_code)
    assert.are.equal("5.1.99", t.code)
    assert.are.equal("Other address status", t.title)
    assert.is_truthy(t.description:find("not in the registry", 1, true))
    assert.is_truthy(t.description:find("subject", 1, true))
    assert.are.equal("Addressing Status", t.subject.title)
    assert.are.equal("Permanent Failure", t.class.title)
    assert.are.equal("non-standard", t.standard)
  end)

  it("falls back to the class for an unknown subject", function()
    local t = assert(smtpcode.describe("4.9.1"))
    assert.is_true(t.fallback)
    assert.are.equal("4.XXX.YYY", t.fallback_code)
    assert.are.equal("Persistent Transient Failure", t.title)
    assert.is_truthy(t.description:find("class", 1, true))
    assert.is_nil(t.subject)
  end)

  it("falls back to the first digit for an unknown reply code", function()
    local t = assert(smtpcode.describe(599))
    assert.is_true(t.fallback)
    assert.are.equal("5yz", t.fallback_code)
    assert.are.equal("Permanent Negative Completion", t.title)
    assert.are.equal("non-standard", t.standard)
  end)

  it("returns nil, message, code for something that is no code", function()
    local cases = { "9.9.9", "600", 600, 199, 101, 550.5, 0, -550, "", "   ", "hello",
      "5.1", "3.1.1", "1.1.1", "5.01.1", "5.1.1000", "X.01.1", "55O", "600 x",
      "5.1.1.1", ("5"):rep(10000), "550\0 5.1.1" }
    for _, x in ipairs(cases) do
      local t, msg, code = smtpcode.describe(x)
      if t then error("described " .. tostring(x):sub(1, 40)) end
      assert.are.equal("string", type(msg))
      assert.are.equal("syntax", code, tostring(x):sub(1, 40))
    end
  end)

  it("returns nil and \"unknown\" for an X code whose subject is unknown", function()
    local t, msg, code = smtpcode.describe("X.9.9")
    assert.is_nil(t)
    assert.is_truthy(msg:find("X.9.9", 1, true))
    assert.are.equal("unknown", code)
  end)

  it("raises for an argument that is neither a string nor a number", function()
    assert.has_error(function() smtpcode.describe() end,
      "bad argument #1 to 'describe' (string expected, got nil)")
    assert.has_error(function() smtpcode.describe({}) end,
      "bad argument #1 to 'describe' (string expected, got table)")
    assert.has_error(function() smtpcode.describe(true) end,
      "bad argument #1 to 'describe' (string expected, got boolean)")
  end)

  it("marks where a code comes from", function()
    local want = { [550] = "standard", [556] = "extension", [355] = "experimental",
      [456] = "draft", [422] = "registry", [441] = "non-standard", [571] = "non-standard" }
    for code, std in pairs(want) do
      assert.are.equal(std, smtpcode.describe(code).standard, code)
    end
    assert.are.equal("draft", smtpcode.describe("5.7.28").standard)
    assert.are.equal("extension", smtpcode.describe("5.7.30").standard)
    assert.are.equal("standard", smtpcode.describe("4.4.1").standard)
  end)

  it("lists the extension meanings of a reply code", function()
    local t = smtpcode.describe(220)
    assert.are.equal(1, #t.other_uses)
    assert.are.equal("STARTTLS", t.other_uses[1].commands)
    assert.are.same({}, smtpcode.describe(221).other_uses)
  end)

  it("answers the questions of the common-codes page", function()
    local t = smtpcode.describe("221 2.0.0 bye")
    assert.are.equal("pair", t.kind)
    assert.are.equal("success", t.severity)
    assert.is_truthy(t.description:find("not an error", 1, true))
    t = smtpcode.describe("451 4.7.1 Greylisting in action, please come back later")
    assert.is_truthy(t.description:lower():find("greylisting", 1, true))
    assert.is_truthy(t.description:find("retries by itself", 1, true))
    assert.is_truthy(t.remarks:find("permanent", 1, true))
    t = smtpcode.describe("553 5.1.8 Sender e-mail address domain does not exist")
    assert.is_truthy(t.description:find("domain that exists and resolves", 1, true))
    t = smtpcode.describe("554 5.1.8 Invalid email domain")
    assert.are.equal("enhanced", t.kind)
    assert.is_truthy(t.description:find("sender domain", 1, true))
    t = smtpcode.describe("550 5.7.0 Your IP address is in a blacklist")
    assert.is_truthy(t.title:lower():find("blocklist", 1, true))
    assert.is_truthy(t.remarks:find("any security or policy", 1, true))
    assert.is_truthy(smtpcode.describe("5.7.0").description:find("security or policy", 1, true))
    t = smtpcode.describe("544 5.4.4 Host not found")
    assert.are.equal("non-standard", t.reply.standard)
    assert.is_truthy(t.remarks)
    for _, x in ipairs({ "220", "354" }) do
      assert.are.equal("reply", smtpcode.describe(x).kind)
    end
  end)

  it("shows what Gmail means by the codes it uses differently", function()
    assert.is_truthy(has_note(smtpcode.describe("5.7.27"), "Gmail", "SPF"))
    assert.is_truthy(has_note(smtpcode.describe("4.7.27"), "Gmail", "SPF"))
    assert.is_nil(has_note(smtpcode.describe("2.7.27"), "Gmail"))
    assert.are.equal("Sender address has null MX", smtpcode.describe("5.7.27").title)
    assert.is_truthy(has_note(smtpcode.describe("5.7.29"), "Gmail", "TLS"))
    assert.is_truthy(has_note(smtpcode.describe("5.7.30"), "Gmail", "DKIM"))
    for _, code in ipairs({ "4.7.32", "5.7.32", "4.7.40", "5.7.40" }) do
      local t = smtpcode.describe(code)
      assert.is_true(t.fallback, code)
      assert.are.equal("X.7.0", t.fallback_code)
      assert.is_truthy(has_note(t, "Gmail", "DMARC"), code)
    end
  end)

  it("shows what Microsoft means by 5.4.1, 5.1.10 and its 5.7.5xx-7xx codes", function()
    local t = smtpcode.describe("550 5.4.1 Recipient address rejected: Access denied")
    assert.are.equal("No answer from host", t.title)
    assert.is_truthy(has_note(t, "Microsoft", "unknown recipient"))
    t = smtpcode.describe("5.1.10")
    assert.are.equal("Recipient address has null MX", t.title)
    assert.is_truthy(has_note(t, "Microsoft", "not found"))
    assert.is_truthy(has_note(t, "Postfix"))
    assert.is_truthy(has_note(smtpcode.describe("5.7.606"), "Microsoft", "block list"))
    assert.is_truthy(has_note(smtpcode.describe("5.7.649"), "Microsoft", "block list"))
    assert.is_truthy(has_note(smtpcode.describe("5.7.720"), "Microsoft", "tenant"))
    assert.is_truthy(has_note(smtpcode.describe("5.7.509"), "Microsoft", "DMARC"))
    assert.is_truthy(has_note(smtpcode.describe("4.7.650"), "Microsoft"))
    assert.is_nil(has_note(smtpcode.describe("5.7.650"), "Microsoft"))
  end)

  it("shows Yahoo's bracketed tags on the codes they come with", function()
    local t = smtpcode.describe("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred")
    local n = has_note(t, "Yahoo", "TSS04")
    assert.is_truthy(n)
    assert.is_truthy(n.example:find("[TSS04]", 1, true))
    assert.is_truthy(has_note(smtpcode.describe("553 5.7.1 [BL21] x"), "Yahoo", "BL21"))
    assert.is_truthy(has_note(smtpcode.describe(554), "Yahoo", "PH01"))
  end)

  it("always returns a notes list, empty when nothing is known", function()
    assert.are.same({}, smtpcode.describe("2.0.0").notes)
    assert.are.same({}, smtpcode.describe(250).notes)
  end)

  it("gives the same answer on every backend", function()
    local initial = smtpcode._BACKEND
    local ref = smtpcode.describe("550 5.7.1 x")
    for _, b in ipairs(smtpcode._backends()) do
      smtpcode._set_backend(b)
      assert.are.same(ref, smtpcode.describe("550 5.7.1 x"))
    end
    smtpcode._set_backend(initial)
  end)
end)

describe("smtpcode.codes", function()
  it("iterates over the reply codes in order with their descriptions", function()
    local last, n = 0, 0
    for code, t in smtpcode.codes("reply") do
      assert.is_true(tonumber(code) > last)
      last = tonumber(code)
      assert.are.equal(code, t.code)
      assert.is_nil(t.fallback)
      n = n + 1
    end
    assert.is_true(n >= 68)
  end)

  it("iterates over the 81 registry entries as X.s.d", function()
    local n = 0
    for code, t in smtpcode.codes("enhanced") do
      assert.is_truthy(code:match("^X%.%d+%.%d+$"))
      assert.are.equal(code, t.code)
      assert.is_truthy(t.title)
      n = n + 1
    end
    assert.are.equal(81, n)
  end)

  it("iterates over the common pairs", function()
    local n = 0
    for code, t in smtpcode.codes("pair") do
      assert.are.equal("pair", t.kind)
      assert.are.equal(code, t.code)
      n = n + 1
    end
    assert.are.equal(19, n)
  end)

  it("raises for a missing or unknown kind", function()
    assert.has_error(function() smtpcode.codes() end,
      "bad argument #1 to 'codes' (string expected, got nil)")
    assert.has_error(function() smtpcode.codes("notes") end,
      "bad argument #1 to 'codes' (invalid kind 'notes')")
  end)
end)

describe("describe on text around a reply", function()
  it("describes the reply that find locates in a log line or a DSN field", function()
    local t = assert(smtpcode.describe("smtp error [221] 2.0.0 bye"))
    assert.are.equal("221 2.0.0", t.code)
    assert.are.equal("success", t.severity)
    t = assert(smtpcode.describe("Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>... User unknown"))
    assert.are.equal(550, t.reply and tonumber(t.reply.code))
    assert.are.equal("5.1.1", t.enhanced and t.enhanced.code)
    t = assert(smtpcode.describe("Status: 5.1.8"))
    assert.are.equal("enhanced", t.kind)
    assert.are.equal("5.1.8", t.code)
  end)

  it("still refuses prose without a code, and a bare code in prose", function()
    assert.is_nil(smtpcode.describe("the server said hello"))
    assert.is_nil(smtpcode.describe("Mail quota exceeded 5.2.2"))
  end)
end)
