-- Plain-Lua SMTP client checks against the private Postfix started by
-- spec/integration/postfix.sh (LuaSocket, any Lua with lua-socket).
--
--   lua5.4 spec/integration/client.lua HOST PORT DOMAIN CLOSED_PORT
--
-- Every reply is read by smtpcode.read_reply and goes to smtpcode.retry (which classifies
-- it with smtpcode.classify). Prints "ok - ..." / "not ok - ..." lines; the
-- shell script numbers them as TAP.

local host, port, domain, closed = arg[1], tonumber(arg[2]), arg[3], tonumber(arg[4])
local smtpcode = require "smtpcode"
local retry = require "smtpcode.retry"
local ex = dofile("examples/send-loop.lua")

local function check(cond, desc, detail)
  print((cond and "ok - " or "not ok - ") .. desc)
  if detail and not cond then print("# " .. detail:gsub("\n", "\n# ")) end
  return cond
end

local function show(d)
  return ("action=%s reason=%s scope=%s suppress=%s delay=%s"):format(tostring(d.action),
    tostring(d.reason), tostring(d.scope), tostring(d.suppress), tostring(d.delay))
end

if not check(type(smtpcode.classify) == "function", "smtpcode.classify is available ("
    .. _VERSION .. (jit and (" " .. jit.version) or "") .. ")") then
  return
end

-- Park-Miller, so runs are repeatable
local seed = 12345
local function random()
  seed = (seed * 16807) % 2147483647
  return seed / 2147483647
end
local policy = retry.policy{ random = random }

local body = "Subject: smtpcode integration\r\n\r\nHello.\r\n"
local big = "Subject: too big\r\n\r\n" .. string.rep(string.rep("x", 76) .. "\r\n", 400)
local function msg(to, b, size)
  return { from = "sender@client.test.invalid", to = to, body = b or body, size = size ~= false }
end

local cases = {
  { "known user", msg("alice@" .. domain), function(d)
      return d.action == "done" and d.suppress == false end },
  { "unknown user", msg("nosuchuser@" .. domain), function(d)
      return d.action == "bounce" and d.suppress == true and d.reason == "user_unknown" end },
  { "relaying", msg("someone@elsewhere.example"), function(d)
      return d.action == "bounce" and d.suppress == false end },
  { "oversized message, SIZE= announced", msg("alice@" .. domain, big), function(d)
      return d.action == "bounce" and d.reason == "too_large" and d.suppress == false end },
  { "oversized message, refused after DATA", msg("alice@" .. domain, big, false), function(d)
      return d.action == "bounce" and d.reason == "too_large" and d.suppress == false end },
  { "greylisted address", msg("grey@" .. domain), function(d)
      return d.action == "retry" and d.reason == "greylisted" and d.delay >= 300
        and d.delay <= 900 and d.suppress == false end },
  { "throttled address", msg("throttle@" .. domain), function(d)
      return d.action == "retry" and d.reason == "rate_limited" and d.destination == true
        and d.delay >= 300 end },
}

local t0 = os.time()
for _, c in ipairs(cases) do
  local reply, stage = ex.attempt(host, port, c[2], 10)
  -- attempt reads every reply with smtpcode.read_reply: a parse table
  local parsed = type(reply) == "table" and reply or nil
  check(parsed ~= nil, c[1] .. ": the " .. stage .. " reply is read whole by read_reply",
    tostring(reply))
  local d = policy:decide(reply, { attempts = 1, first_attempt = t0, now = t0 })
  local text = parsed and (parsed.code .. " " .. (parsed.enhanced and (parsed.enhanced .. " ") or "")
    .. table.concat(parsed.lines, " | ")) or tostring(reply)
  check(c[3](d), c[1] .. ": " .. show(d) .. " <- " .. stage .. ": " .. text,
        "classify: " .. tostring(d.result.reason) .. " matched " .. tostring(d.result.matched))
  -- the same reply written back to the wire by smtpcode.format decides the same
  local wire = parsed and smtpcode.format(parsed.code, parsed.enhanced, parsed.text) or tostring(reply)
  local d2 = policy:decide(wire, { attempts = 1, first_attempt = t0, now = t0 })
  check(d2.action == d.action and d2.reason == d.reason,
        c[1] .. ": the reply text decides the same as its parse result",
        show(d2) .. " vs " .. show(d))
end

-- No server at all: the text of the failure decides, and it is a retry.
do
  local reply = ex.attempt(host, closed, msg("alice@" .. domain), 5)
  local d = policy:decide(reply, { attempts = 1, now = t0 })
  reply = tostring(reply)
  check(d.action == "retry" and d.delay >= 300,
        "no server on port " .. closed .. ": " .. show(d) .. " <- " .. reply)
end

-- The send loop of examples/send-loop.lua on a simulated clock: every
-- message ends; the greylisted one is retried every 5-15 min until it
-- expires (lifetime shortened to 1 h for the test).
do
  local clock = t0
  local seen = {}
  local ok, err = pcall(ex.run, {
    msg("alice@" .. domain), msg("nosuchuser@" .. domain),
    msg("someone@elsewhere.example"), msg("grey@" .. domain),
  }, {
    host = host, port = port,
    now = function() return clock end,
    sleep = function(s) clock = clock + s end,
    policy = retry.policy{ random = random, max_lifetime = 3600 },
    on_decision = function(m, d)
      local s = seen[m.to] or {}
      seen[m.to] = s
      s[#s + 1] = d
    end,
  })
  check(ok, "send loop runs to the end", tostring(err))
  local function last(to) local s = seen[to] or {} return s[#s] or {} end
  check(last("alice@" .. domain).action == "done", "send loop: known user done")
  check(last("nosuchuser@" .. domain).action == "bounce" and last("nosuchuser@" .. domain).suppress,
        "send loop: unknown user bounced and suppressed")
  local g = seen["grey@" .. domain] or {}
  local okg = #g >= 3 and g[#g].action == "expire"
  local prev = 0
  for i = 1, #g - 1 do
    okg = okg and g[i].delay >= 300 and g[i].delay <= 900 and g[i].delay >= prev
    prev = g[i].delay
  end
  check(okg, "send loop: greylisted address retried " .. (#g - 1)
        .. " times, 5-15 min apart, never sooner, then expired")
end
