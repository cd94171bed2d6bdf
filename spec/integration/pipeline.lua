-- The reader against a real Postfix smtpd (spec/integration/conversation.sh):
-- EHLO, then MAIL, RCPT, RCPT, DATA in one write (RFC 2920 pipelining),
-- every reply through smtpcode.read_reply. Runs over LuaSocket (any Lua
-- with lua-socket) and over ngx.socket.tcp (nginx cosockets):
--
--   local run = dofile("spec/integration/pipeline.lua")
--   run(sock, domain, say)   -- sock connected; say(ok, description)
--
-- The socket is wrapped to count its reads: with cosockets (receiveany)
-- the four pipelined replies arrive in fewer reads than replies, so the
-- reader must keep the ones it has not handed out yet.

local smtpcode = require "smtpcode"

local function run(sock, domain, say, label)
  label = label or ""
  local reads = 0
  local counted = {
    receive = function(_, ...) reads = reads + 1 return sock:receive(...) end,
  }
  if sock.receiveany then
    counted.receiveany = function(_, ...) reads = reads + 1 return sock:receiveany(...) end
  end
  local function reply(what, code, enhanced, check)
    local r, msg, err = smtpcode.read_reply(counted)
    local good = r ~= nil and r.code == code and (enhanced == nil or r.enhanced == enhanced)
      and (check == nil or check(r))
    local shown = r and (r.code .. " " .. (r.enhanced or "-") .. " " .. table.concat(r.lines, " | "))
      or (tostring(msg) .. " (" .. tostring(err) .. ")")
    say(good, label .. what .. ": " .. shown)
    return r
  end
  local function has(r, word)
    for _, l in ipairs(r.lines) do if l:upper():find(word, 1, true) then return true end end
    return false
  end
  reply("greeting", 220)
  sock:send("EHLO client.test.invalid\r\n")
  reply("EHLO is one multi-line reply that offers PIPELINING", 250, nil, function(r)
    return #r.lines >= 3 and has(r, "PIPELINING") and has(r, "ENHANCEDSTATUSCODES")
  end)
  reads = 0
  sock:send("MAIL FROM:<sender@client.test.invalid>\r\nRCPT TO:<alice@" .. domain .. ">\r\n"
    .. "RCPT TO:<nosuchuser@" .. domain .. ">\r\nDATA\r\n")
  reply("pipelined MAIL", 250, "2.1.0")
  reply("pipelined RCPT alice", 250, "2.1.5")
  reply("pipelined RCPT nosuchuser", 550, "5.1.1", function(r) return has(r, "USER UNKNOWN") end)
  reply("pipelined DATA", 354)
  if sock.receiveany then
    say(reads < 4, label .. "the 4 pipelined replies came in " .. reads .. " read(s)")
  else
    say(reads >= 4, label .. "LuaSocket reads the 4 pipelined replies line by line (" .. reads .. " reads)")
  end
  sock:send("Subject: pipelined\r\n\r\nHello.\r\n.\r\n")
  reply("end of data", 250, "2.0.0", function(r) return has(r, "QUEUED AS") end)
  sock:send("QUIT\r\n")
  reply("QUIT", 221, "2.0.0")
  local r, _, err = smtpcode.read_reply(counted)
  say(r == nil and err == "closed", label .. "after QUIT: closed (" .. tostring(err) .. ")")
end

-- As a script (LuaSocket): lua spec/integration/pipeline.lua HOST PORT DOMAIN
if arg and arg[0] and arg[0]:match("pipeline%.lua$") then
  local socket = require "socket"
  local sock = socket.tcp()
  sock:settimeout(10)
  local ok, err = sock:connect(arg[1], tonumber(arg[2]))
  if not ok then
    print("not ok - connect to " .. arg[1] .. ":" .. arg[2] .. ": " .. tostring(err))
    os.exit(1)
  end
  local bad = false
  run(sock, arg[3], function(good, desc)
    if not good then bad = true end
    print((good and "ok - " or "not ok - ") .. desc)
  end)
  sock:close()
  os.exit(bad and 1 or 0)
end

return run
