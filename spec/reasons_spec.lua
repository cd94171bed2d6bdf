-- The reason vocabulary has one source, data/reasons.tsv (and the scope
-- names, data/scopes.tsv): smtpcode.reasons(), the reason table of the docs
-- (docs/reasons.md, where the README's reference moved), retry's
-- defaults and explain's texts must all say what it says.

local helper = dofile("spec/helper.lua")
local smtpcode = require "smtpcode"
local retry = require "smtpcode.retry"
local explain = require "smtpcode.explain"

local rows = assert(helper.tsv(helper.root .. "/data/reasons.tsv"))
local REASONS = {}
for _, r in ipairs(rows) do
  if not r.reason:find("^%(") then REASONS[#REASONS + 1] = r end
end
local SCOPES = {}
for _, s in ipairs(assert(helper.tsv(helper.root .. "/data/scopes.tsv"))) do
  SCOPES[#SCOPES + 1] = s.scope
end

local TEXTS = { "label", "description", "advice_transient", "advice_permanent",
  "who_transient", "todo_transient", "who_permanent", "todo_permanent",
  "who_nocode", "todo_nocode" }

describe("smtpcode.reasons()", function()
  helper.each_backend(smtpcode, function(backend)
    it("returns the rows of data/reasons.tsv, in order, field by field (" .. backend .. ")", function()
      local got = smtpcode.reasons()
      assert.equal(#REASONS, #got)
      assert.is_true(#got >= 23)
      for i, row in ipairs(REASONS) do
        local r = got[i]
        assert.equal(row.reason, r.name)
        assert.equal(row.scope, r.scope)
        assert.equal(row.hard == "yes", r.hard)
        assert.equal(row.nocode_retry == "yes", r.nocode_retry)
        for _, k in ipairs(TEXTS) do
          if row[k] == "" then
            assert.is_nil(r[k], row.reason .. " " .. k)
          else
            assert.equal(row[k], r[k], row.reason .. " " .. k)
          end
        end
      end
    end)
  end)

  it("gives a new table at each call", function()
    local a = smtpcode.reasons()
    a[1].name = "changed"
    assert.equal(REASONS[1].reason, smtpcode.reasons()[1].name)
  end)

  it("names the reasons and scopes as the core numbers them", function()
    local names, scopes = smtpcode._core.reasons()
    for i, row in ipairs(REASONS) do assert.equal(row.reason, names[i]) end
    assert.equal(#REASONS, #names)
    assert.same(SCOPES, scopes)
  end)

  it("gives the scope classify answers when no rule gives one", function()
    -- a code with no text rule: the reason's usual scope
    local c = smtpcode.classify("554 5.4.6 x")
    assert.equal("loop", c.reason)
    for _, r in ipairs(smtpcode.reasons()) do
      if r.name == "loop" then assert.equal(r.scope, c.scope) end
    end
  end)

  it("marks as hard the reasons whose permanent failures classify calls hard", function()
    local hard = {}
    for _, r in ipairs(smtpcode.reasons()) do hard[r.name] = r.hard end
    local c = smtpcode.classify("550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown")
    assert.equal("user_unknown", c.reason)
    assert.is_true(hard.user_unknown)
    assert.equal("hard", c.bounce)
    c = smtpcode.classify("552 5.2.2 <ann@example.com>: Mailbox full")
    assert.equal("mailbox_full", c.reason)
    assert.is_false(hard.mailbox_full)
    assert.equal("soft", c.bounce)
  end)
end)

describe("the reason table of docs/reasons.md", function()
  it("lists every reason of smtpcode.reasons() with its scope, hard flag and label", function()
    local f = assert(io.open(helper.root .. "/docs/reasons.md", "rb"))
    local text = f:read("*a")
    f:close()
    local seen = {}
    for line in text:gmatch("[^\n]+") do
      local name, scope, hard, nocode, label =
        line:match("^| `([a-z_]+)` | ([a-z]+) | (%a+) | (%a+) | ([^|]+) |$")
      if name then seen[#seen + 1] = { name, scope, hard, nocode, label } end
    end
    local recs = smtpcode.reasons()
    assert.equal(#recs, #seen)
    for i, r in ipairs(recs) do
      assert.same({ r.name, r.scope, r.hard and "yes" or "no", r.nocode_retry and "yes" or "no", r.label },
        seen[i])
    end
  end)
end)

describe("retry and explain read the same records", function()
  it("retry.reasons names every reason", function()
    local names = {}
    for _, r in ipairs(smtpcode.reasons()) do names[#names + 1] = r.name end
    table.sort(names)
    assert.same(names, retry.reasons)
  end)

  it("explain has the who and what-to-do texts of every reason", function()
    for _, r in ipairs(smtpcode.reasons()) do
      local e = explain.reasons[r.name]
      assert.equal(r.label, e.label)
      assert.equal(r.who_transient, e.transient.who)
      assert.equal(r.todo_permanent, e.permanent.todo)
    end
  end)

  -- Regression: retry.lua kept its own table that gave relay_denied the
  -- scope recipient and system_error the scope message.
  it("decide takes the scope from the core when the user's classifier gives none", function()
    local function own(reply)
      local code, reason = reply:match("^(%d+) (%S+)")
      code = tonumber(code)
      return { code = code, severity = code >= 500 and "permanent" or "transient", reason = reason }
    end
    local p = retry.policy{ classify = own, jitter = 0 }
    for _, r in ipairs(smtpcode.reasons()) do
      local d = p:decide("550 " .. r.name, { attempts = 1, now = 0 })
      assert.equal(r.scope, d.scope, r.name)
      assert.equal(r.hard, d.suppress, r.name)
      d = p:decide("451 " .. r.name, { attempts = 1, now = 0 })
      assert.equal(r.scope, d.scope, r.name)
    end
    assert.equal("session", p:decide("554 relay_denied").scope)
    local d = p:decide("451 system_error", { attempts = 1, now = 0 })
    assert.equal("destination", d.scope)
    assert.is_true(d.destination)
  end)

  it("the tracker pauses a destination for system_error given without a scope", function()
    local t = retry.tracker{ clock = function() return 1000 end }
    local wait = t:record("mx.example.net", { severity = "transient", code = 451, reason = "system_error" }, 1000)
    assert.is_true(wait > 0)
    assert.equal(1, t:failures("mx.example.net"))
    assert.equal(0, (t:record("other.example.net",
      { severity = "transient", code = 451, reason = "mailbox_full" }, 1000)))
  end)
end)
