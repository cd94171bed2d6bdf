-- A send loop with retry, in plain Lua over LuaSocket (Debian: lua-socket).
--
--   lua5.4 examples/send-loop.lua HOST PORT FROM RCPT [RCPT ...]
--
-- Sends one short message to each recipient through the SMTP server at
-- HOST:PORT. After every attempt the reply goes to smtpcode.retry, which
-- says: done, retry at time T, bounce (and whether to stop mailing the
-- address) or expire. Mail for a destination that throttles or blocks us is
-- held while the tracker says so. Options (before HOST):
--   --lifetime SECONDS   give up after this long (default 5 days)
--   --simulate           do not sleep: advance a simulated clock instead
--
-- Also usable as a module (`dofile "examples/send-loop.lua"`): attempt()
-- runs one SMTP transaction, run() the loop.

local socket = require "socket"
local smtpcode = require "smtpcode"
local retry = require "smtpcode.retry"

local M = {}

-- A socket error as a phrase classify can read ("connection timed out").
local function lost(err)
  if err == "timeout" then return "connection timed out" end
  if err == "closed" then return "connection closed" end
  return tostring(err)
end

-- One complete reply (all its lines, pipelined ones kept for the next
-- call) as the table smtpcode.parse gives; on failure a text classify can
-- read ("connection timed out", "malformed reply: ...").
local function read_reply(sock)
  local r, err, code = smtpcode.read_reply(sock)
  if r then return r end
  if code == "timeout" or code == "closed" then return nil, lost(code) end
  return nil, "malformed reply: " .. tostring(err)
end

-- One SMTP transaction for one message. `msg` = { from, to, body
-- [, helo] [, size = true to announce SIZE=] }. Returns the reply that
-- decides the attempt (the first one refusing, or the one accepting the
-- message), as a smtpcode.parse table, and the command it answered; when no reply came, a text such as
-- "connection refused" or "timeout" stands in for it: classify reads the
-- text and retry schedules another try.
function M.attempt(host, port, msg, timeout)
  local sock = socket.tcp()
  sock:settimeout(timeout or 30)
  local ok, err = sock:connect(host, port)
  if not ok then
    sock:close()
    return "connect to " .. host .. ":" .. port .. " failed: " .. lost(err), "CONNECT"
  end
  local data = msg.body:gsub("\r?\n", "\r\n"):gsub("\r\n%.", "\r\n..")
  if data:sub(1, 1) == "." then data = "." .. data end
  local steps = {
    { "CONNECT", nil, "2" },
    { "EHLO", "EHLO " .. (msg.helo or "client.test.invalid"), "2" },
    { "MAIL", "MAIL FROM:<" .. msg.from .. ">"
        .. (msg.size and (" SIZE=" .. #data) or ""), "2" },
    { "RCPT", "RCPT TO:<" .. msg.to .. ">", "2" },
    { "DATA", "DATA", "3" },
    { "BODY", data .. "\r\n.", "2" },
  }
  local reply, stage
  for _, step in ipairs(steps) do
    stage = step[1]
    if step[2] then
      local sent, serr = sock:send(step[2] .. "\r\n")
      if not sent then reply = lost(serr) .. " while sending " .. stage break end
    end
    local r, rerr = read_reply(sock)
    if not r then reply = rerr .. " after " .. stage break end
    reply = r
    if tostring(r.code):sub(1, 1) ~= step[3] then break end
  end
  sock:send("QUIT\r\n")
  read_reply(sock)
  sock:close()
  return reply, stage
end

-- The send loop. queue: list of messages (see attempt). opts: host, port,
-- policy, tracker, now (clock), sleep(seconds), on_decision(msg, d).
-- Returns when every message has ended (done, bounce or expire).
function M.run(queue, opts)
  local policy = opts.policy or retry.policy()
  local tracker = opts.tracker or retry.tracker()
  local now, sleep = opts.now or os.time, opts.sleep or socket.sleep
  local pending = {}
  for _, msg in ipairs(queue) do
    msg.attempts, msg.first_attempt, msg.next_at = 0, nil, now()
    pending[#pending + 1] = msg
  end
  while #pending > 0 do
    -- the message due first
    table.sort(pending, function(a, b) return a.next_at < b.next_at end)
    local msg = pending[1]
    local t = now()
    if msg.next_at > t then
      sleep(msg.next_at - t)
    else
      local dest = msg.to:match("@(.+)$") or opts.host
      local hold = tracker:pause(dest, t)
      if hold > 0 then
        msg.next_at = t + hold               -- the destination asked us to slow down
      else
        local reply = M.attempt(opts.host, opts.port, msg)
        t = now()
        msg.attempts = msg.attempts + 1
        msg.first_attempt = msg.first_attempt or t
        -- a parse table, or a text such as "connection timed out": decide
        -- takes either (a text is classified from its words)
        local d = policy:decide(reply, { attempts = msg.attempts,
                                         first_attempt = msg.first_attempt, now = t })
        tracker:record(dest, d, t)
        if opts.on_decision then opts.on_decision(msg, d, reply) end
        if d.action == "retry" then
          msg.next_at = d.at
        else
          -- done, bounce or expire: the message has ended. A bounce with
          -- d.suppress = true means: stop mailing this address.
          table.remove(pending, 1)
        end
      end
    end
  end
end

local function main(args)
  local lifetime, simulate = nil, false
  while args[1] and args[1]:sub(1, 2) == "--" do
    local o = table.remove(args, 1)
    if o == "--lifetime" then lifetime = tonumber(table.remove(args, 1))
    elseif o == "--simulate" then simulate = true
    else io.stderr:write("unknown option ", o, "\n") os.exit(2) end
  end
  local host, port, from = args[1], tonumber(args[2]), args[3]
  if not (host and port and from and args[4]) then
    io.stderr:write("usage: send-loop.lua [--lifetime S] [--simulate] HOST PORT FROM RCPT...\n")
    os.exit(2)
  end
  local clock, now, sleep = socket.gettime(), nil, nil
  if simulate then
    now = function() return clock end
    sleep = function(s) clock = clock + s end
  end
  local queue = {}
  for i = 4, #args do
    queue[#queue + 1] = { from = from, to = args[i], size = true,
      body = "Subject: send-loop test\r\nFrom: <" .. from .. ">\r\nTo: <" .. args[i]
        .. ">\r\n\r\nHello from smtpcode.retry.\r\n" }
  end
  M.run(queue, {
    host = host, port = port, now = now, sleep = sleep,
    policy = retry.policy{ max_lifetime = lifetime, now = now },
    on_decision = function(msg, d)
      print(("%s attempt=%d action=%s reason=%s suppress=%s delay=%s"):format(
        msg.to, msg.attempts, d.action, tostring(d.reason), tostring(d.suppress),
        tostring(d.delay)))
    end,
  })
end

if arg and arg[0] and arg[0]:match("send%-loop%.lua$") then
  main({ ... })
end

return M
