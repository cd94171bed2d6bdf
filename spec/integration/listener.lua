-- A small SMTP listener over LuaSocket whose every reply is written by
-- smtpcode.format (spec/integration/conversation.sh): Postfix delivers to
-- it and swaks talks to it.
--
--   lua5.4 spec/integration/listener.lua PORT
--
-- Recipients decide the answer to RCPT: reject@... gets a multi-line 550
-- 5.7.1 whose text carries what a careless server would copy from the
-- client (CR LF, "250 2.0.0" after it, NUL), defer@... a multi-line 451
-- 4.7.1, anything else is accepted. One connection at a time; stopped by
-- its pid.

local socket = require "socket"
local smtpcode = require "smtpcode"

local port = tonumber(arg[1])
local server = assert(socket.bind("127.0.0.1", port))
server:settimeout(1)
io.stdout:setvbuf("line")

local function say(c, code, enh, text)
  local out = assert(smtpcode.format(code, enh, text))
  c:send(out)
end

local LONG = "Your message was rejected because it matched a local policy rule of this test "
  .. "listener; the text is long on purpose, so that the reply writer has to wrap it at word "
  .. "boundaries into several lines of less than 512 octets each, every one of them carrying "
  .. "the enhanced status code, as RFC 2034 asks. " .. string.rep("More words to wrap. ", 20)

local function session(c)
  c:settimeout(30)
  say(c, 220, nil, "lua.test.invalid ESMTP smtpcode test listener\nwritten by smtpcode.format")
  local rcpts = 0
  while true do
    local line = c:receive("*l")
    if not line then return end
    local verb = line:match("^(%a+)") or ""
    verb = verb:upper()
    if verb == "EHLO" or verb == "HELO" then
      say(c, 250, nil, "lua.test.invalid greets " .. (line:sub(6)) .. "\nPIPELINING\nENHANCEDSTATUSCODES\n8BITMIME")
    elseif verb == "MAIL" then
      rcpts = 0
      say(c, 250, "2.1.0", "Sender ok")
    elseif verb == "RCPT" then
      local addr = line:match("<([^>]*)>") or ""
      if addr:find("^reject@") then
        say(c, 550, "5.7.1", "<" .. addr .. ">: rejected\r\n250 2.0.0 forged OK\0\nSecond line. " .. LONG)
      elseif addr:find("^defer@") then
        say(c, 451, "4.7.1", "<" .. addr .. ">: greylisted, try again later\nSee the test listener")
      else
        rcpts = rcpts + 1
        say(c, 250, "2.1.5", "Recipient <" .. addr .. "> ok")
      end
    elseif verb == "DATA" then
      if rcpts == 0 then
        say(c, 554, "5.5.1", "No valid recipients")
      else
        say(c, 354, nil, "End data with <CR><LF>.<CR><LF>")
        local size = 0
        while true do
          local l = c:receive("*l")
          if not l then return end
          if l == "." then break end
          size = size + #l + 2
        end
        say(c, 250, "2.0.0", "Ok: " .. size .. " bytes queued\nas LUA" .. os.time())
      end
    elseif verb == "RSET" or verb == "NOOP" then
      say(c, 250, "2.0.0", "Ok")
    elseif verb == "QUIT" then
      say(c, 221, "2.0.0", "Bye")
      return
    else
      say(c, 502, "5.5.2", "Command not recognized: " .. line)
    end
  end
end

print("listening on 127.0.0.1:" .. port)
while true do
  local c = server:accept()
  if c then
    pcall(session, c)
    c:close()
  end
end
