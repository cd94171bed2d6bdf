-- bench/corpus.lua: a deterministic corpus of realistic SMTP replies.
--
--   local corpus = require "corpus"          (with bench/?.lua on LUA_PATH)
--   local replies, nlines = corpus.replies(50000)
--   lua5.4 bench/corpus.lua 50000 > corpus.txt   (the same corpus, one
--                                                 reply after another, CRLF)
-- Every Lua version produces the same bytes (Park-Miller generator, exact
-- in doubles and integers). Mix: single lines with and without enhanced
-- codes, EHLO capability lists, Gmail/Outlook-style multi-line rejections.

local concat, format = table.concat, string.format
local modname = ...

local M = {}

local function rng(seed)
  local x = seed
  return function(n) -- 1 .. n
    x = (x * 16807) % 2147483647
    return x % n + 1
  end
end

local hosts = { "mx.example.org", "mail.example.com", "smtp.example.net", "mx1.mail.example.co.uk",
  "aspmx.l.example.com", "inbound-smtp.eu-west-1.example.com" }
local users = { "alice", "bob", "carol.smith", "no-reply", "postmaster", "j.doe+news", "support" }

-- { code, enhanced or false, text }
local singles = {
  { 220, false, "%h ESMTP Postfix (Debian/GNU)" },
  { 220, false, "%h Microsoft ESMTP MAIL Service ready at Mon, 30 Nov 2026 12:00:00 +0000" },
  { 221, "2.0.0", "Bye" },
  { 221, false, "%h closing connection" },
  { 250, "2.1.0", "Ok" },
  { 250, "2.1.5", "Ok" },
  { 250, "2.0.0", "Ok: queued as 4C1ABC2D3E" },
  { 250, "2.6.0", "<20261130120000.12345@%h> [InternalId=1234567, Hostname=%h] Queued mail for delivery" },
  { 250, false, "OK id=1kXyZ2-0004Ab-Cd" },
  { 354, false, "End data with <CR><LF>.<CR><LF>" },
  { 354, false, "Go ahead a1si1234567qkb.123 - gsmtp" },
  { 421, "4.7.0", "%h Error: too many connections from 192.0.2.1" },
  { 421, false, "%h Service not available, closing transmission channel" },
  { 450, "4.2.0", "<%u@%h>: Recipient address rejected: Greylisted, see https://postgrey.example/%h.html" },
  { 451, "4.7.1", "Please try again later" },
  { 451, "4.3.0", "Temporary local problem - please try later" },
  { 452, "4.5.3", "Too many recipients" },
  { 501, "5.1.7", "Bad sender address syntax" },
  { 503, "5.5.1", "Error: need MAIL command" },
  { 550, "5.1.1", "<%u@%h>: Recipient address rejected: User unknown in local recipient table" },
  { 550, "5.7.1", "Message rejected as spam by Content Filtering." },
  { 550, false, "Requested action not taken: mailbox unavailable" },
  { 552, "5.2.2", "The email account that you tried to reach is over quota." },
  { 553, "5.7.1", "<%u@%h>: Sender address rejected: not owned by user %u" },
  { 554, "5.7.1", "<%u@%h>: Relay access denied" },
  { 554, false, "Transaction failed" },
}

local caps = { "PIPELINING", "SIZE 52428800", "VRFY", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN",
  "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING", "BINARYMIME" }

local gmail = {
  "The email account that you tried to reach does not exist. Please try",
  "double-checking the recipient's email address for typos or",
  "unnecessary spaces. For more information, go to",
  " https://support.google.com/mail/?p=NoSuchUser a1si1234567wrb.42 - gsmtp",
}
local policy = {
  "Our system has detected that this message is likely unsolicited mail.",
  "To reduce the amount of spam sent to Gmail, this message has been blocked.",
  "For more information, go to",
  " https://support.google.com/mail/?p=UnsolicitedMessageError b2si7654321wrc.7 - gsmtp",
}

local function fill(s, r)
  return (s:gsub("%%h", function() return hosts[r(#hosts)] end)
           :gsub("%%u", function() return users[r(#users)] end))
end

-- Returns an array of replies (CRLF line endings) with about `want` lines
-- in total, and the exact number of lines.
function M.replies(want, seed)
  local r = rng(seed or 42)
  local out, nlines = {}, 0
  while nlines < want do
    local kind = r(100)
    local lines = {}
    if kind <= 70 then
      local s = singles[r(#singles)]
      local text = fill(s[3], r)
      lines[1] = s[2] and format("%d %s %s", s[1], s[2], text) or format("%d %s", s[1], text)
    elseif kind <= 85 then
      local h = hosts[r(#hosts)]
      local n = 4 + r(7)
      lines[1] = "250-" .. h .. " Hello client.example.net [192.0.2." .. r(254) .. "]"
      for i = 2, n do
        lines[i] = (i == n and "250 " or "250-") .. caps[(i + r(3)) % #caps + 1]
      end
    else
      local code, enh, src = 550, "5.1.1", gmail
      if r(2) == 1 then code, enh, src = 550, "5.7.1", policy end
      if r(4) == 1 then code, enh = 421, "4.7.0" end
      for i = 1, #src do
        lines[i] = format("%d%s%s %s", code, i == #src and " " or "-", enh, src[i])
      end
    end
    out[#out + 1] = concat(lines, "\r\n") .. "\r\n"
    nlines = nlines + #lines
  end
  return out, nlines
end

-- All the lines of the corpus, each with its CRLF.
function M.lines(replies)
  local t = {}
  for _, rep in ipairs(replies) do
    for l in rep:gmatch("[^\n]*\n") do t[#t + 1] = l end
  end
  return t
end

-- Run as a script (not through require): write the corpus to stdout.
if modname ~= "corpus" then
  io.write(concat((M.replies(tonumber(modname) or 50000))))
end

return M
