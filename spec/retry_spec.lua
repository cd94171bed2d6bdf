-- smtpcode.retry: retry decisions (policy:decide) and destination pauses
-- (tracker). The policy is data-driven, so most cases feed it tables shaped
-- like classify results (the fields README documents); the last block runs real reply
-- strings through the real smtpcode.classify when it is available.

local retry = require "smtpcode.retry"

local DAY = 86400

-- The reason vocabulary of classify and, for a permanent failure,
-- whether the bounce is hard (the address itself is bad).
local VOCAB = {
  user_unknown = true, mailbox_full = false, mailbox_disabled = true,
  bad_address = true, host_unknown = true, sender_rejected = false,
  relay_denied = false, greylisted = false, rate_limited = false,
  blocklisted = false, spam = false, policy = false, sender_auth = false,
  auth_required = false, tls_required = false, too_large = false,
  syntax = false, network = false, expired = false, loop = false,
  service_unavailable = false, system_error = false, unknown = false,
}
local DEST = { greylisted = true, rate_limited = true, blocklisted = true,
               service_unavailable = true, network = true }

local function result(severity, reason, extra)
  local r = { severity = severity, reason = reason }
  if severity == "transient" or severity == "permanent" then
    r.retry = severity == "transient"
    r.bounce = (severity == "permanent" and VOCAB[reason]) and "hard" or "soft"
    r.scope = DEST[reason] and "destination" or "recipient"
  end
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- A deterministic generator in [0, 1) (Park-Miller), so jittered runs can be
-- repeated exactly.
local function lcg(seed)
  local s = seed
  return function()
    s = (s * 16807) % 2147483647
    return s / 2147483647
  end
end

local function sorted_keys(t)
  local k = {}
  for x in pairs(t) do k[#k + 1] = x end
  table.sort(k)
  return k
end

-- Run one message through the policy until it ends; returns the decisions.
local function run(policy, res, t0, limit)
  local out, now = {}, t0
  for n = 1, limit or 100000 do
    local d = policy:decide(res, { attempts = n, first_attempt = t0, now = now })
    out[#out + 1] = d
    if d.action ~= "retry" then return out end
    now = d.at
  end
  return out
end

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  assert.is_string(err)
  if not err:find(pattern, 1, true) then
    error(("error %q does not contain %q"):format(err, pattern), 2)
  end
end

describe("retry.policy", function()
  it("follows Postfix's defaults: 5 min first, doubling to a cap of about an hour", function()
    local p = retry.policy{ jitter = 0 }
    assert.same({ 300, 600, 1200, 2400, 4000, 4000, 4000 }, p:delays("unknown", 7))
    assert.same(p:delays("default", 7), p:delays("mailbox_full", 7))
    assert.equal(5 * DAY, p.options.max_lifetime)
  end)

  it("retries greylisting within 5 to 15 minutes", function()
    local p = retry.policy{ jitter = 0 }
    for _, d in ipairs(p:delays("greylisted", 50)) do
      assert.is_true(d >= 300 and d <= 900, d)
    end
  end)

  it("backs off longer for rate limits and block lists than for other failures", function()
    local p = retry.policy{ jitter = 0 }
    local plain = p:delays("unknown", 10)
    for _, reason in ipairs({ "rate_limited", "blocklisted" }) do
      local t = p:delays(reason, 10)
      for n = 1, 10 do assert.is_true(t[n] >= plain[n]) end
      assert.is_true(t[1] > plain[1])
      assert.is_true(t[10] > plain[10])
    end
  end)

  it("takes min_backoff, max_backoff, max_lifetime and greylist_delay", function()
    local p = retry.policy{ jitter = 0, min_backoff = 60, max_backoff = 200,
                            max_lifetime = 3600, greylist_delay = 120 }
    assert.same({ 60, 120, 200, 200 }, p:delays("network", 4))
    assert.same({ 120, 180, 270, 405, 607, 900 }, p:delays("greylisted", 6))
    local last = run(p, result("transient", "network"), 0)
    local d = last[#last]
    assert.equal("expire", d.action)
    assert.is_true(d.age >= 3600 and d.age < 3600 + 200)
  end)

  it("takes per-reason overrides, including reasons of its own", function()
    local p = retry.policy{ jitter = 0, reasons = {
      mailbox_full = { first = 3600, factor = 1, lifetime = 2 * DAY },
      greylisted = { max = 600 },
      house_rule = { first = { "min_backoff", 2 }, max = "max_backoff" },
    } }
    assert.same({ 3600, 3600, 3600 }, p:delays("mailbox_full", 3))
    assert.same({ 300, 450, 600, 600 }, p:delays("greylisted", 4))
    assert.same({ 600, 1200, 2400, 4000 }, p:delays("house_rule", 4))
    local d = p:decide(result("transient", "mailbox_full"),
                       { attempts = 40, first_attempt = 0, now = 2 * DAY })
    assert.equal("expire", d.action)
    d = p:decide(result("transient", "house_rule"), { attempts = 1, now = 10 })
    assert.same({ "retry", 600, 610 }, { d.action, d.delay, d.at })
  end)
end)

describe("policy:decide", function()
  local p = retry.policy{ jitter = 0 }

  it("says done for a 2xx and continue for a 3xx", function()
    local d = p:decide({ code = 250, severity = "success" }, { now = 5 })
    assert.equal("done", d.action)
    assert.is_false(d.suppress)
    assert.is_nil(d.delay)
    assert.is_nil(d.reason)
    d = p:decide({ code = 354, severity = "intermediate" }, { now = 5 })
    assert.equal("continue", d.action)
    assert.is_nil(d.at)
  end)

  for _, reason in ipairs(sorted_keys(VOCAB)) do
    it("retries a transient " .. reason .. " on its schedule", function()
      local res = result("transient", reason)
      local d = p:decide(res, { attempts = 1, first_attempt = 1000, now = 1000 })
      assert.equal("retry", d.action)
      assert.equal(reason, d.reason)
      assert.equal(res.scope, d.scope)
      assert.equal(DEST[reason] == true, d.destination)
      assert.is_false(d.suppress)
      assert.equal(res, d.result)
      assert.equal(p:delay(reason, 1), d.delay)
      assert.is_true(d.delay >= 300)
      assert.equal(1000 + d.delay, d.at)
      if reason == "greylisted" then
        assert.is_true(d.delay <= 900)
      end
    end)

    it("bounces a permanent " .. reason .. (VOCAB[reason] and ", suppressing the address"
      or " without suppressing the address"), function()
      local d = p:decide(result("permanent", reason), { attempts = 1, now = 0 })
      assert.equal("bounce", d.action)
      assert.equal(reason, d.reason)
      assert.equal(VOCAB[reason], d.suppress)
      assert.is_nil(d.delay)
      assert.is_nil(d.at)
    end)
  end

  it("has a row for exactly the vocabulary of classify", function()
    assert.same(sorted_keys(VOCAB), retry.reasons)
  end)

  it("lets the reply code decide: 550 4.4.7 bounces, 450 5.1.1 retries", function()
    local d = p:decide(result("permanent", "expired", { code = 550, enhanced = "4.4.7" }))
    assert.equal("bounce", d.action)
    d = p:decide(result("transient", "user_unknown", { code = 450, enhanced = "5.1.1" }),
                 { now = 0 })
    assert.equal("retry", d.action)
    assert.is_false(d.suppress)
  end)

  it("derives suppress and scope from the reason when the result has none", function()
    local d = p:decide({ severity = "permanent", reason = "user_unknown" })
    assert.is_true(d.suppress)
    assert.equal("recipient", d.scope)
    d = p:decide({ severity = "transient", reason = "rate_limited" }, { now = 0 })
    assert.equal("destination", d.scope)
    assert.is_true(d.destination)
  end)

  it("retries a reply without a code unless classify says it cannot succeed", function()
    local d = p:decide({ severity = "unknown", reason = "network", retry = true }, { now = 0 })
    assert.equal("retry", d.action)
    assert.equal("network", d.reason)
    d = p:decide({ severity = "unknown" }, { now = 0 })
    assert.same({ "retry", "unknown" }, { d.action, d.reason })
    d = p:decide({ severity = "unknown", reason = "user_unknown", retry = false, bounce = "hard" })
    assert.same({ "bounce", true }, { d.action, d.suppress })
  end)

  it("expires a transient failure once the message is past its lifetime", function()
    local res = result("transient", "service_unavailable")
    local d = p:decide(res, { attempts = 100, first_attempt = 0, now = 5 * DAY - 1 })
    assert.equal("retry", d.action)
    d = p:decide(res, { attempts = 100, first_attempt = 0, now = 5 * DAY })
    assert.equal("expire", d.action)
    assert.is_false(d.suppress)
    assert.is_nil(d.delay)
  end)

  it("defaults now to the policy's clock and attempts to 1", function()
    local q = retry.policy{ jitter = 0, now = function() return 777 end }
    local d = q:decide(result("transient", "network"))
    assert.same({ 1, 300, 1077 }, { d.attempts, d.delay, d.at })
  end)

  it("passes strings and parse results to classify, with classify_opts", function()
    local seen = {}
    local q = retry.policy{ jitter = 0, classify_opts = { x = 1 }, classify = function(x, o)
      seen[#seen + 1] = { x, o }
      return result("transient", "greylisted")
    end }
    local parsed = { code = 451, severity = "transient", lines = { "4.7.1 later" } }
    assert.equal("greylisted", q:decide("451 4.7.1 later", { now = 0 }).reason)
    assert.equal("greylisted", q:decide(parsed, { now = 0 }).reason)
    assert.equal("451 4.7.1 later", seen[1][1])
    assert.equal(parsed, seen[2][1])
    assert.same({ x = 1 }, seen[1][2])
    -- a classify result is used as it is
    q:decide(result("permanent", "spam"))
    assert.equal(2, #seen)
  end)

  it("decides a text classify cannot place as an unknown failure to retry", function()
    local q = retry.policy{ jitter = 0, classify = function() return nil end }
    local d = q:decide("", { now = 0 })
    assert.same({ "retry", "unknown" }, { d.action, d.reason })
  end)
end)

describe("policy:decide over long attempt sequences", function()
  local reasons = sorted_keys(VOCAB)

  for _, jitter in ipairs({ 0, 0.25, 1 }) do
    it("never shrinks a delay, never passes the cap and always ends (jitter "
       .. jitter .. ")", function()
      local p = retry.policy{ jitter = jitter, random = lcg(42) }
      for _, reason in ipairs(reasons) do
        local s = p.schedule[reason] or p.schedule.default
        local ds = run(p, result("transient", reason), 1e9)
        local last = ds[#ds]
        assert.equal("expire", last.action)
        assert.is_true(last.age >= 4 * DAY and last.age <= 6 * DAY, reason)
        local prev = 0
        for i = 1, #ds - 1 do
          local dl = ds[i].delay
          assert.is_true(dl >= prev, reason)
          assert.is_true(dl <= s.max, reason)
          assert.is_true(dl >= 300, reason)
          prev = dl
        end
        if reason == "greylisted" then assert.is_true(prev <= 900) end
      end
    end)
  end

  it("ends even when the caller never passes first_attempt", function()
    local p = retry.policy{ random = lcg(7) }
    local now, n = 0, 0
    local d
    repeat
      n = n + 1
      d = p:decide(result("transient", "greylisted"), { attempts = n, now = now })
      if d.delay then now = d.at end
    until d.action ~= "retry" or n > 100000
    assert.equal("expire", d.action)
  end)

  it("keeps delays monotonic for any jitter draw, including 0 and 1", function()
    local p = retry.policy{ jitter = 1 }
    for _, reason in ipairs({ "unknown", "greylisted", "rate_limited", "blocklisted" }) do
      for n = 1, 30 do
        assert.is_true(p:delay(reason, n, 1) <= p:delay(reason, n + 1, 0))
      end
    end
  end)
end)

describe("policy jitter", function()
  it("is on by default and repeats exactly with the same random source", function()
    local a = run(retry.policy{ random = lcg(99) }, result("transient", "network"), 0, 12)
    local b = run(retry.policy{ random = lcg(99) }, result("transient", "network"), 0, 12)
    local c = run(retry.policy{ jitter = 0 }, result("transient", "network"), 0, 12)
    local differs = false
    for i = 1, 12 do
      assert.equal(a[i].delay, b[i].delay)
      assert.equal(a[i].at, b[i].at)
      if a[i].delay ~= c[i].delay then differs = true end
    end
    assert.is_true(differs)
  end)

  it("moves a delay only up, towards the next step", function()
    local p = retry.policy{ random = function() return 0.5 end }
    local d = p:decide(result("transient", "network"), { attempts = 1, now = 0 })
    assert.equal(300 + math.floor(0.25 * 0.5 * 300), d.delay)
    d = p:decide(result("transient", "network"), { attempts = 9, first_attempt = 0, now = 9 })
    assert.equal(4000, d.delay)
  end)

  it("is off with jitter = 0 (random is never called)", function()
    local p = retry.policy{ jitter = 0, random = function() error("called") end }
    assert.equal(600, p:decide(result("transient", "network"), { attempts = 2, now = 0 }).delay)
  end)
end)

describe("policy soft_bounce", function()
  it("retries permanent failures and marks the decision", function()
    local p = retry.policy{ jitter = 0, soft_bounce = true }
    local d = p:decide(result("permanent", "user_unknown"), { attempts = 1, now = 0 })
    assert.same({ "retry", 300, false, true }, { d.action, d.delay, d.suppress, d.soft_bounce })
    local ds = run(p, result("permanent", "user_unknown"), 0)
    assert.equal("expire", ds[#ds].action)
    assert.equal("done", p:decide({ severity = "success" }).action)
  end)
end)

describe("bad input to retry.policy and policy:decide", function()
  local p = retry.policy()

  it("raises on wrong argument types", function()
    raises("bad argument #1 to 'decide' (string or table expected, got nil)", p.decide, p)
    raises("bad argument #1 to 'decide' (string or table expected, got number)", p.decide, p, 550)
    raises("bad argument #1 to 'decide' (classify or parse result expected", p.decide, p, {})
    raises("bad argument #2 to 'decide' (table expected, got string)", p.decide, p,
           { severity = "success" }, "now")
    raises("state.attempts must be a number, got string", p.decide, p,
           { severity = "transient" }, { attempts = "2" })
    raises("state.attempts must be at least 1", p.decide, p, { severity = "transient" },
           { attempts = 0 })
    raises("state.now must be a number, got number", p.decide, p, { severity = "transient" },
           { now = 0 / 0 })
    raises("state.first_attempt must be a number", p.decide, p, { severity = "transient" },
           { first_attempt = {} })
    raises("result.severity must be one of", p.decide, p, { severity = "bad", reason = "x" })
    raises("call it as policy:decide", p.decide, { severity = "success" })
  end)

  it("raises on bad options", function()
    raises("bad argument #1 to 'policy' (table expected, got string)", retry.policy, "x")
    raises("unknown option 'min_backof'", retry.policy, { min_backof = 1 })
    raises("option 'jitter' must be a number, got string", retry.policy, { jitter = "no" })
    raises("option 'jitter' must be a number from 0 to 1", retry.policy, { jitter = 2 })
    raises("option 'min_backoff' must be a positive number", retry.policy, { min_backoff = 0 })
    raises("'max_backoff' must not be below 'min_backoff'", retry.policy,
           { min_backoff = 600, max_backoff = 300 })
    raises("reasons.spam: unknown field 'frist'", retry.policy, { reasons = { spam = { frist = 1 } } })
    raises("spam.factor must be a number >= 1", retry.policy, { reasons = { spam = { factor = 0.5 } } })
    raises("refers to unknown option 'nope'", retry.policy, { reasons = { spam = { first = "nope" } } })
  end)

  it("raises when the random source returns something out of range", function()
    local q = retry.policy{ random = function() return 7 end }
    raises("opts.random must return a number in [0, 1)", q.decide, q,
           { severity = "transient" }, { now = 0 })
  end)

  it("does not raise on huge attempt counts or far-off times", function()
    local d = p:decide({ severity = "transient" }, { attempts = 1e15, now = 1e12 })
    assert.equal("expire", d.action)
    d = p:decide({ severity = "transient" }, { attempts = 1, first_attempt = 5, now = 0 })
    assert.equal("retry", d.action)
  end)
end)

-- A stand-in for ngx.shared.DICT: the same method names and return shapes
-- (get -> value; set(key, value, exptime); incr(key, value, init, init_ttl)
-- -> new value or nil, "not found"; delete), time from a fake clock.
local function fake_shdict(clock)
  local data, exp = {}, {}
  local d = {}
  local function alive(k)
    if exp[k] and exp[k] <= clock() then data[k], exp[k] = nil, nil end
    return data[k]
  end
  function d.get(self, k) assert(self == d) return alive(k) end
  function d.set(self, k, v, t)
    assert(self == d)
    data[k] = v
    exp[k] = (t and t > 0) and clock() + t or nil
    return true, nil, false
  end
  function d.incr(self, k, v, init, ttl)
    assert(self == d)
    local cur = alive(k)
    if cur == nil then
      if init == nil then return nil, "not found" end
      data[k] = init + v
      exp[k] = (ttl and ttl > 0) and clock() + ttl or nil
      return data[k]
    end
    data[k] = cur + v
    return data[k]
  end
  function d.delete(self, k) assert(self == d) data[k], exp[k] = nil, nil end
  return d
end

local function tracker_behaviour(name, make)
  describe("retry.tracker with " .. name, function()
    local now
    local function clock() return now end
    local p = retry.policy{ jitter = 0 }
    before_each(function() now = 1000000 end)

    it("pauses a rate-limited destination, longer after each failure", function()
      local t = make(clock)
      assert.equal(0, t:pause("mx.example.net", now))
      local d = p:decide(result("transient", "rate_limited"), { now = now })
      local wait, untilt = t:record("mx.example.net", d, now)
      assert.same({ 300, now + 300 }, { wait, untilt })
      assert.equal(300, t:pause("mx.example.net", now))
      assert.equal(200, t:pause("MX.Example.NET", now + 100))
      assert.equal(600, (t:record("mx.example.net", d, now)))
      assert.equal(2, t:failures("mx.example.net"))
      assert.equal(0, t:pause("mx.example.net", now + 600))
      assert.equal(0, t:pause("other.example", now))
    end)

    it("keeps a longer pause in force when a shorter one is recorded", function()
      local t = make(clock)
      t:record("d.example", result("transient", "blocklisted"), now)
      local wait = t:record("d.example", result("transient", "service_unavailable"), now + 10)
      assert.equal(1800 - 10, wait)
    end)

    it("clears the failures of a destination after a success", function()
      local t = make(clock)
      t:record("d.example", result("transient", "rate_limited"), now)
      assert.equal(0, (t:record("d.example", { severity = "success", code = 250 }, now + 1)))
      assert.equal(0, t:pause("d.example", now + 1))
      assert.equal(0, t:failures("d.example"))
      assert.equal(300, (t:record("d.example", result("transient", "rate_limited"), now + 2)))
    end)

    it("counts greylisting without pausing, and ignores recipient failures", function()
      local t = make(clock)
      assert.equal(0, (t:record("d.example", result("transient", "greylisted"), now)))
      assert.equal(1, t:failures("d.example"))
      assert.equal(0, (t:record("d.example", result("permanent", "user_unknown"), now)))
      assert.equal(1, t:failures("d.example"))
      assert.equal(0, t:pause("d.example", now))
    end)

    it("grows a pause only with failures of the same kind", function()
      local t = make(clock)
      t:record("d.example", result("transient", "greylisted"), now)
      assert.equal(300, (t:record("d.example", result("transient", "rate_limited"), now)))
      assert.equal(60, (t:record("e.example", result("transient", "network"), now)))
      assert.equal(120, (t:record("e.example", result("transient", "service_unavailable"), now)))
      assert.equal(2, t:failures("d.example"))
      assert.equal(2, t:failures("e.example"))
    end)

    it("forgets a run of failures after its window", function()
      local t = make(clock)
      t:record("d.example", result("transient", "rate_limited"), now)
      now = now + 4 * 3600
      assert.equal(0, t:failures("d.example"))
      assert.equal(300, (t:record("d.example", result("transient", "rate_limited"), now)))
    end)
  end)
end

tracker_behaviour("the default in-process store", function(clock)
  return retry.tracker{ clock = clock }
end)

tracker_behaviour("a fake ngx.shared.DICT", function(clock)
  return retry.tracker{ store = retry.shdict_store(fake_shdict(clock)), clock = clock }
end)

describe("retry.tracker", function()
  it("shares state between trackers on one shared dict (nginx workers)", function()
    local dict = fake_shdict(function() return 0 end)
    local a = retry.tracker{ store = retry.shdict_store(dict) }
    local b = retry.tracker{ store = retry.shdict_store(dict) }
    a:record("d.example", result("transient", "blocklisted"), 100)
    assert.equal(1800 - 50, b:pause("d.example", 150))
  end)

  it("takes its own pause table", function()
    local t = retry.tracker{ pauses = { greylisted = { first = 30, max = 60 },
                                        rate_limited = false } }
    assert.equal(30, (t:record("d", result("transient", "greylisted"), 0)))
    assert.equal(60, (t:record("d", result("transient", "greylisted"), 0)))
    assert.equal(60, (t:record("d", result("transient", "greylisted"), 0)))
    assert.equal(0, (t:record("e", result("transient", "rate_limited"), 0)))
  end)

  it("raises on bad arguments", function()
    local t = retry.tracker()
    raises("bad argument #1 to 'pause' (string expected, got nil)", t.pause, t)
    raises("bad argument #1 to 'record' (destination must be 1 to 255 bytes)", t.record, t,
           "", {})
    raises("bad argument #2 to 'record' (decision or classify result expected, got string)",
           t.record, t, "d", "550")
    raises("bad argument #2 to 'pause' (number expected, got string)", t.pause, t, "d", "now")
    raises("unknown option 'stor'", retry.tracker, { stor = {} })
    raises("store has no 'incr' method", retry.tracker, { store = { get = 1, set = 1 } })
    raises("ngx.shared.DICT expected, got nil", retry.shdict_store)
  end)
end)

describe("retry.memory_store", function()
  it("holds at most max_entries keys, evicting the least recently used", function()
    local s = retry.memory_store{ max_entries = 3 }
    s:set("a", 1); s:set("b", 2); s:set("c", 3)
    assert.equal(1, s:get("a"))          -- a is now the most recent
    s:set("d", 4)                        -- evicts b
    assert.is_nil(s:get("b"))
    assert.same({ 1, 3, 4 }, { s:get("a"), s:get("c"), s:get("d") })
    assert.equal(3, s:count())
    for i = 1, 1000 do s:incr("k" .. i, 1, 0) end
    assert.equal(3, s:count())
  end)

  it("expires keys after their ttl and counts with incr", function()
    local now = 0
    local s = retry.memory_store{ clock = function() return now end }
    assert.same({ nil, "not found" }, { s:incr("n", 1) })
    assert.equal(1, s:incr("n", 1, 0, 10))
    assert.equal(3, s:incr("n", 2, 0, 10))
    s:set("u", 5, 20)
    now = 10
    assert.is_nil(s:get("n"))
    assert.equal(5, s:get("u"))
    now = 20
    assert.is_nil(s:get("u"))
    s:set("x", 1); s:delete("x")
    assert.is_nil(s:get("x"))
  end)
end)

-- End to end with the real classifier, when the C core is there.
local has_classify
do
  local ok, sc = pcall(require, "smtpcode")
  has_classify = ok and type(sc) == "table" and type(sc.classify) == "function"
end

describe("policy:decide on real replies (smtpcode.classify)", function()
  if not has_classify then
    pending("smtpcode.classify is not available yet")
    return
  end
  local smtpcode = require "smtpcode"
  local p = retry.policy{ random = lcg(3) }

  local cases = {
    { "250 2.0.0 Ok: queued as 71735A76851", "done" },
    { "354 End data with <CR><LF>.<CR><LF>", "continue" },
    { "550 5.1.1 <nosuchuser@mx.test.invalid>: Recipient address rejected: "
      .. "User unknown in local recipient table", "bounce", true },
    { "554 5.7.1 <someone@elsewhere.example>: Relay access denied", "bounce", false, "relay_denied" },
    { "552 5.3.4 Message size exceeds fixed limit", "bounce", false, "too_large" },
    { "450 4.7.1 <grey@mx.test.invalid>: Recipient address rejected: Greylisted, "
      .. "see http://postgrey.schweikert.ch/help/mx.test.invalid.html", "retry", false, "greylisted" },
    { "550 4.4.7 Message expired", "bounce", false },
    { "421 4.7.0 mx.example.com Error: too many connections from 198.51.100.7", "retry", false },
    { "Connection timed out", "retry", false },
  }
  for _, c in ipairs(cases) do
    it("decides " .. c[1]:sub(1, 40) .. " as " .. c[2], function()
      local d = p:decide(c[1], { attempts = 1, first_attempt = 0, now = 0 })
      assert.equal(c[2], d.action)
      if c[3] ~= nil then assert.equal(c[3], d.suppress) end
      if c[4] then assert.equal(c[4], d.reason) end
      if d.reason == "greylisted" then
        assert.is_true(d.delay >= 300 and d.delay <= 900)
      end
      if d.action == "retry" then assert.equal(d.at, d.delay) end
    end)
  end

  it("decides a parse result the same as its text", function()
    local text = "550-5.1.1 <bob@example.net>: Recipient address\r\n550 5.1.1 rejected: User unknown\r\n"
    local parsed = assert(smtpcode.parse(text))
    local a = p:decide(parsed, { now = 0 })
    assert.same({ "bounce", true, "user_unknown" }, { a.action, a.suppress, a.reason })
    assert.equal(550, a.result.code)
  end)
end)
