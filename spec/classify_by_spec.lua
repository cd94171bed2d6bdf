-- classify's `by`: what decided the verdict, as a field beside the display
-- string `matched`, the same on both backends; explain reads it.
local smtpcode = require "smtpcode"

local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")
local specdir = helper.specdir

-- each value of `by`, and the form of `matched` that goes with it
local FORMS = {
  rule = '^rule %d+: ".+"$',
  user = "^user rule",
  enhanced = "^enhanced %d%.%d+%.%d+$",
  enhanced_subject = "^enhanced %d%.%d+%.x$",
  reply = "^reply %d%d%d$",
}

local function each_backend(f)
  local prev = smtpcode._BACKEND
  finally(function() smtpcode._set_backend(prev) end)
  for _, b in ipairs(smtpcode._backends()) do
    assert.truthy(smtpcode._set_backend(b))
    f(b)
  end
end

describe("classify's by", function()
  after_each(function() smtpcode.clear_rules() end)

  it("names what decided, on real replies and log lines", function()
    each_backend(function(b)
      local cases = {
        { "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
          "rule" },
        { "connect to mx.example.net[192.0.2.1]:25: Connection timed out", "rule" },
        { "550 5.7.1 qqq zzz", "enhanced" },
        { "452 4.2.9 qqq zzz", "enhanced_subject" },
        { "554 qqq zzz", "reply" },
        { "250 2.0.0 Ok: queued as 4F1A2", "reply" },
        { "hello world", nil },
      }
      for _, c in ipairs(cases) do
        for _ = 1, 2 do -- the FFI backend: first sight, then from its caches
          local r = smtpcode.classify(c[1])
          assert.equal(c[2], r.by, b .. ": " .. c[1])
        end
      end
    end)
  end)

  it("agrees with matched on every line of examples/maillog.txt", function()
    each_backend(function(b)
      local n, seen = 0, {}
      for l in io.lines(specdir .. "/../examples/maillog.txt") do
        local r = smtpcode.classify(l)
        if r.by == nil then
          assert.is_nil(r.matched, b .. ": " .. l)
        else
          assert.truthy(FORMS[r.by], b .. ": unknown by " .. tostring(r.by))
          assert.truthy(r.matched:find(FORMS[r.by]), b .. ": " .. r.by .. " vs " .. r.matched)
          seen[r.by] = true
        end
        n = n + 1
      end
      assert.is_true(n > 100)
      assert.is_true(seen.rule and seen.reply and seen.enhanced and true or false)
    end)
  end)

  it("is user for a run-time rule and for opts.reason", function()
    smtpcode.add_rule{ reason = "rate_limited", match = "tenant quota" }
    each_backend(function(b)
      local r = smtpcode.classify("451 4.7.1 tenant quota exceeded, come back later")
      assert.equal("rate_limited", r.reason, b)
      assert.equal("user", r.by, b)
    end)
    smtpcode.clear_rules()
    local r = smtpcode.classify("550 5.7.1 qqq", { reason = "spam" })
    assert.equal("user", r.by)
  end)

  it("is cleared in a reused table when nothing decided", function()
    each_backend(function(b)
      local into = {}
      smtpcode.classify("554 qqq zzz", nil, into)
      assert.equal("reply", into.by, b)
      smtpcode.classify("hello world", nil, into)
      assert.is_nil(into.by, b)
    end)
  end)

  it("is what explain reads, not the display string", function()
    -- a text rule decided against the codes: explain leaves out the code's
    -- title whatever matched says
    local r = smtpcode.classify("550 5.7.1 <bob@example.com>: Recipient address rejected: User unknown")
    assert.equal("rule", r.by)
    local want = smtpcode.explain(r)
    r.matched = "see the log"
    assert.equal(want, smtpcode.explain(r))
    r.matched = nil
    assert.equal(want, smtpcode.explain(r))
  end)
end)
