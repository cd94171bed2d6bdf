-- The tracker's behaviour through retry.redis_store on a real Redis (the
-- cases of spec/retry_spec.lua's tracker_behaviour that need no clock
-- travel), from plain Lua with redis-lua. Usage: behaviour.lua PORT.
-- Prints "ok - name" / "not ok - name" lines (spec/integration/redis.sh
-- numbers them).
local retry = require "smtpcode.retry"
local redis = require "redis"
local c = redis.connect("127.0.0.1", tonumber(arg[1]))
local now = os.time()
local function res(sev, reason, scope)
  return { action = sev == "success" and "done" or "retry", reason = reason, scope = scope,
           result = { severity = sev } }
end
local RATE = res("transient", "rate_limited", "destination")
local BLOCK = res("transient", "blocklisted", "destination")
local NET = res("transient", "network", "destination")
local UNAV = res("transient", "service_unavailable", "destination")
local GREY = res("transient", "greylisted", "destination")
local USER = res("permanent", "user_unknown", "recipient")
local OK = res("success")

local function new()
  c:flushdb()
  return retry.tracker{ store = retry.redis_store(c, { timeout = 1000 }) }
end
local function check(name, got, want)
  local g, w = table.concat(got, " "), table.concat(want, " ")
  if g == w then print("ok - " .. name) else
    print("not ok - " .. name)
    print("# got  " .. g)
    print("# want " .. w)
  end
end

local t = new()
local a = { t:pause("mx.example.net", now) }
local w1, u1 = t:record("mx.example.net", RATE, now)
check("a rate limit pauses 300 s, then 600 s; case-blind; others untouched",
  { a[1], w1, u1 - now, t:pause("MX.Example.NET", now + 100), (t:record("mx.example.net", RATE, now)),
    t:failures("mx.example.net"), t:pause("mx.example.net", now + 600), t:pause("other.example", now) },
  { 0, 300, 300, 200, 600, 2, 0, 0 })

t = new()
t:record("d.example", BLOCK, now)
check("a longer pause stays when a shorter one is recorded",
  { (t:record("d.example", UNAV, now + 10)) }, { 1790 })

t = new()
t:record("d.example", RATE, now)
check("a success clears the destination",
  { (t:record("d.example", OK, now + 1)), t:pause("d.example", now + 1), t:failures("d.example"),
    (t:record("d.example", RATE, now + 2)) }, { 0, 0, 0, 300 })

t = new()
check("greylisting is counted without a pause; recipient failures are ignored",
  { (t:record("d.example", GREY, now)), t:failures("d.example"), (t:record("d.example", USER, now)),
    t:failures("d.example"), t:pause("d.example", now) }, { 0, 1, 0, 1, 0 })

t = new()
t:record("d.example", GREY, now)
check("a pause grows only with failures of the same kind",
  { (t:record("d.example", RATE, now)), (t:record("e.example", NET, now)),
    (t:record("e.example", UNAV, now)), t:failures("d.example"), t:failures("e.example") },
  { 300, 60, 120, 2, 2 })

t = new()
t:record("d.example", GREY, now)
check("a destination with only counted failures expires with the window",
  { c:ttl("smtpcode:{d.example}") }, { 14400 })
local long = retry.tracker{ store = retry.redis_store(c), window = 60 }
long:record("f.example", BLOCK, now)
local ttl = c:ttl("smtpcode:{f.example}")
check("a pause longer than the window keeps the key until it ends",
  { ttl >= 1799 and ttl <= 1800 and "1800" or tostring(ttl) }, { "1800" })

t = new()
t:record("p1.example", RATE, now)
t:record("p3.example", BLOCK, now)
check("pauses of a list of destinations in one pipeline",
  t:pause_many({ "p1.example", "p2.example", "P3.example" }, now + 100), { 200, 0, 1700 })
