-- A send loop with retry inside OpenResty (nginx + Lua module), over
-- ngx.socket.tcp cosockets, with the destination tracker in an
-- ngx.shared.DICT so every worker holds mail for a throttling destination.
--
-- nginx.conf:
--   lua_shared_dict smtp_retry 1m;
--   lua_package_path "/path/to/smtpcode/lua/?.lua;/path/to/examples/?.lua;;";
--   lua_package_cpath "/path/to/smtpcode/build/jit/?.so;;";
--   init_worker_by_lua_block {
--     local sender = require("openresty-send").new{
--       host = "127.0.0.1", port = 25, dict = ngx.shared.smtp_retry }
--     sender:start(5)                      -- look at the queue every 5 s
--     package.loaded.my_sender = sender    -- enqueue from handlers:
--   }                                      -- package.loaded.my_sender:enqueue(msg)
--
-- The queue of this example lives in the worker's memory; a real service
-- keeps it in a database or Redis, and calls the same attempt/decide/record.

local smtpcode = require "smtpcode"
local retry = require "smtpcode.retry"
local ngx = ngx -- luacheck: globals ngx

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

--- One SMTP transaction over a cosocket. msg = { from, to, body [, helo]
-- [, size] }. Returns the deciding reply (a smtpcode.parse table, or a text
-- standing in for it when the connection failed) and the command it
-- answered.
function M.attempt(host, port, msg, timeout_ms)
  local sock = ngx.socket.tcp()
  sock:settimeout(timeout_ms or 30000)
  local ok, err = sock:connect(host, port)
  if not ok then
    return "connect to " .. host .. ":" .. port .. " failed: " .. lost(err), "CONNECT"
  end
  local data = msg.body:gsub("\r?\n", "\r\n"):gsub("\r\n%.", "\r\n..")
  if data:sub(1, 1) == "." then data = "." .. data end
  local steps = {
    { "CONNECT", nil, "2" },
    { "EHLO", "EHLO " .. (msg.helo or "client.test.invalid"), "2" },
    { "MAIL", "MAIL FROM:<" .. msg.from .. ">" .. (msg.size and (" SIZE=" .. #data) or ""), "2" },
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

local Sender = {}
Sender.__index = Sender

--- opts: host, port, dict (an ngx.shared.DICT for the tracker), policy
-- (default retry.policy()), on_decision(msg, d, reply).
function M.new(opts)
  return setmetatable({
    host = opts.host, port = opts.port,
    policy = opts.policy or retry.policy{ now = ngx.time },
    tracker = retry.tracker{ store = retry.shdict_store(opts.dict), clock = ngx.time },
    on_decision = opts.on_decision,
    queue = {},
  }, Sender)
end

function Sender:enqueue(msg)
  msg.attempts, msg.next_at = 0, 0
  self.queue[#self.queue + 1] = msg
end

--- Try every message that is due at `now` (default ngx.time()); returns
-- the decisions made. Messages that end (done, bounce, expire) leave the
-- queue; the others wait for d.at, or for the destination's pause.
function Sender:run_once(now)
  now = now or ngx.time()
  local made, keep = {}, {}
  for _, msg in ipairs(self.queue) do
    local dest = msg.to:match("@(.+)$") or self.host
    local hold = self.tracker:pause(dest, now)
    if msg.next_at > now then
      keep[#keep + 1] = msg
    elseif hold > 0 then
      msg.next_at = now + hold
      keep[#keep + 1] = msg
    else
      local reply = M.attempt(self.host, self.port, msg)
      msg.attempts = msg.attempts + 1
      msg.first_attempt = msg.first_attempt or now
      local d = self.policy:decide(reply, {  -- a parse table or a text
        attempts = msg.attempts, first_attempt = msg.first_attempt, now = now })
      self.tracker:record(dest, d, now)
      made[#made + 1] = d
      if self.on_decision then self.on_decision(msg, d, reply) end
      if d.action == "retry" then
        msg.next_at = d.at
        keep[#keep + 1] = msg
      elseif d.action == "bounce" and d.suppress then
        -- a hard bounce: add msg.to to your suppression list here
        ngx.log(ngx.NOTICE, "suppress ", msg.to, ": ", d.reason)
      end
    end
  end
  self.queue = keep
  return made
end

--- Run the queue every `interval` seconds in this worker (ngx.timer.every:
-- cosockets are allowed in timers).
function Sender:start(interval)
  return ngx.timer.every(interval, function(premature)
    if premature or self.running then return end   -- one pass at a time
    self.running = true
    local ok, err = pcall(self.run_once, self)
    self.running = false
    if not ok then ngx.log(ngx.ERR, "send loop: ", err) end
  end)
end

return M
