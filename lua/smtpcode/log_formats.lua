--- smtpcode.log_formats: the line formats that smtpcode.log reads (syslog
-- headers; Postfix, Exim, qmail-send, Sendmail and OpenSMTPD lines), for
-- smtpcode.log: parse(line, r [, reader]) fills r with what the line says
-- (M.KEYS are the fields it may set) and returns the reply text to
-- classify (nil: the line is not about a delivery) and whether the line
-- is of a known format. Reference: docs/log.md.
--
-- Every pattern here runs on text a remote server chose (its reply is
-- logged verbatim), so each one is anchored or plain: none can retry from
-- every start position (spec/linear_spec.lua measures them).

local ipairs = ipairs
local find, match, sub, byte, gsub, lower =
  string.find, string.match, string.sub, string.byte, string.gsub, string.lower

local M = {}

-- {======================================================
-- Small scanners (all linear)
-- =======================================================

-- The value of a "key=value" field of a comma-separated list, searched
-- from `from`: the text after the first ", key=" (or "key=" at `from`) up
-- to the next ", " (or the end). nil when absent.
local EQ, SEP = {}, {} -- "key=", ", key="
for _, k in ipairs { "relay", "dsn", "to", "ruleset", "arg1" } do
  EQ[k], SEP[k] = k .. "=", ", " .. k .. "="
end

local function field(s, key, from)
  local b
  if sub(s, from, from + #key) == EQ[key] then
    b = from + #key
  else
    local a
    a, b = find(s, SEP[key], from, true)
    if not a then return nil end
  end
  local e = find(s, ", ", b + 1, true)
  return sub(s, b + 1, (e or #s + 1) - 1), b + 1
end

-- "<addr>" at position p: addr (without the brackets) and the position
-- after ">"; or the bare word up to "," or " ".
local function address(s, p)
  if byte(s, p) == 60 then -- "<"
    local e = find(s, ">", p + 1, true)
    if e then return sub(s, p + 1, e - 1), e + 1 end
    return sub(s, p + 1), #s + 1
  end
  local e = find(s, "[, ]", p)
  return sub(s, p, (e or #s + 1) - 1), e or #s + 1
end

-- The last plain occurrence of `needle` in s at or after `from`.
local function last(s, needle, from)
  local at = nil
  while true do
    local a = find(s, needle, from, true)
    if not a then return at end
    at, from = a, a + 1
  end
end

-- }======================================================

-- {======================================================
-- Line headers: syslog (RFC 3164, ISO 8601 stamps), Exim's own stamp,
-- multilog's TAI64N label
-- =======================================================

-- RFC 5424's STRUCTURED-DATA at p ("-" or "[id k=\"v\"]..." with "\]"
-- escaped in values): the position after it and its blank, or nil.
local function sd_end(s, p)
  if sub(s, p, p + 1) == "- " then return p + 2 end
  while byte(s, p) == 91 do -- "["
    local q = p + 1
    while true do
      local e = find(s, "[\\%]]", q)
      if not e then return nil end
      if byte(s, e) == 93 then p = e + 1 break end -- "]"
      q = e + 2 -- "\x": skip the escaped byte
    end
  end
  if byte(s, p) == 32 then return p + 1 end
  return nil
end

-- An RFC 5424 header after its "<PRI>" at p: "1 TIMESTAMP HOST APP PROCID
-- MSGID SD MSG" (rsyslog's RFC5424 formats, syslog-ng's syslog()
-- destination). Time ("-": nil), tag, pid and the position of MSG.
local function syslog5424(s, p)
  local time, app, pid, q = match(s, "^1 (%S+) %S+ (%S+) (%S+) %S+ ()", p)
  if not time then return nil end
  q = sd_end(s, q)
  if not q then return nil end
  if sub(s, q, q + 2) == "\239\187\191" then q = q + 3 end -- a UTF-8 BOM
  if time == "-" then time = nil end
  if pid == "-" then pid = nil end
  return time or false, app, pid, q
end

-- Time, host, tag (program), pid and the position of the message text, or
-- nil when the line has no syslog header. The header may start with the
-- "<PRI>" of a line as sent over the network, and be RFC 5424's; an
-- RFC 3164 stamp may have fractions of a second (journalctl -o
-- short-precise).
local function syslog(s)
  local p0 = match(s, "^<%d%d?%d?>()") or 1
  if p0 > 1 and byte(s, p0) == 49 then -- "1 ": RFC 5424
    local time, app, pid, q = syslog5424(s, p0)
    if time ~= nil then return time or nil, app, pid, q end
  end
  local time, p = match(s, "^(%a%a%a [ %d]%d %d%d:%d%d:%d%d[%.%d]*) ()", p0)
  if not time then
    time, p = match(s, "^(%d%d%d%d%-%d%d%-%d%dT[^ ]*) ()", p0)
    if not time then return nil end
  end
  local he = find(s, " ", p, true)
  if not he then return nil end
  local tag, pid, q = match(s, "^([^%s%[:]+)%[(%d+)%]: ()", he + 1)
  if not tag then
    tag, q = match(s, "^([^%s%[:]+): ()", he + 1)
    if not tag then return nil end
  end
  return time, tag, pid, q
end

-- }======================================================

-- {======================================================
-- Per MTA: fill r (a new table) from the line, return the text to
-- classify, or nil when the line is not about a delivery
-- =======================================================

-- Postfix: "QID: to=<a>, relay=..., dsn=5.1.1, status=bounced (TEXT)",
-- "QID: from=<a>, status=expired, returned to sender", smtpd/postscreen
-- "NOQUEUE: reject: RCPT from h[ip]: 550 ...; from=<a> to=<b> proto=ESMTP
-- helo=<h>", cleanup "QID: reject: header ... from h[ip]; from=<a> to=<b>
-- proto=ESMTP helo=<h>: 5.7.1 TEXT", "milter-reject: ...".
local function postfix(s, p, r)
  -- most Postfix lines are about something else: two plain searches
  if not find(s, "status=", p, true) and not find(s, "reject: ", p, true) then return nil end
  local qid, q = match(s, "^(%w+): ()", p)
  if not qid then return nil end
  if qid ~= "NOQUEUE" then r.queue_id = qid end
  local rej = match(s, "^reject: ()", q) or match(s, "^milter%-reject: ()", q)
  if rej then
    r.direction = "inbound"
    r.status = sub(s, q, rej - 3)
    local tr = last(s, "; from=<", rej)
    if not tr then return sub(s, rej) end
    local to = find(s, " to=<", tr, true)
    if to then r.recipient = address(s, to + 4) end
    local text = sub(s, rej, tr - 1)
    -- cleanup puts the trailer in the middle: "...; from=<a> to=<b>
    -- proto=SMTP helo=<h>: 5.7.1 TEXT"
    local h = find(s, "helo=<", tr, true)
    local he = h and find(s, ">: ", h, true)
    if he then text = text .. ": " .. sub(s, he + 3) end
    return text
  end
  local st = find(s, ", status=", q, true) or (sub(s, q, q + 6) == "status=" and q - 2)
  if not st then return nil end
  r.direction = "outbound"
  local word, w = match(s, "^(%a[%a%-]*)()", st + 9) -- "undeliverable-but-not-cached"
  if not word then return nil end
  r.status = word
  local to = match(s, "^to=()", q)
  if to then r.recipient = address(s, to) end
  r.relay = field(s, "relay", q)
  r.dsn = match(s, "^([245]%.%d+%.%d+)", (select(2, field(s, "dsn", q)) or #s + 1))
  -- the text: "(...)" after the status word, or what follows ", "
  if sub(s, w, w + 1) == " (" then
    local e = #s
    if byte(s, e) == 41 then e = e - 1 end -- ")"
    return sub(s, w + 2, e)
  end
  -- qmgr's "status=expired, returned to sender": the whole phrase
  if sub(s, w, w + 1) == ", " then return sub(s, st + 2) end
  return ""
end

-- Exim: "ID ** a@b R=... T=... H=h [ip]: SMTP error ...: 550 5.1.1 ...",
-- "ID == a@b R=... defer (-44) H=h [ip]: ...", "ID => a@b R=... C="250 ..."",
-- "H=h [ip] F=<a> rejected RCPT <b>: TEXT" (and other "rejected" lines).
local EXIM_FLAG = { ["=>"] = "sent", ["->"] = "sent", ["*>"] = "suppressed",
  ["**"] = "bounced", ["=="] = "deferred" }

local function exim(s, p, r)
  -- through syslog Exim keeps its own stamp (syslog_timestamp, true by
  -- default): "Mar 12 10:16:40 mx1 exim[1]: 2024-03-12 10:16:40 ID ** ..."
  local es = match(s, "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d[%.%d]* ()", p)
  if es then p = match(s, "^[%+%-]%d%d%d%d ()", es) or es end
  local pid = match(s, "^%[%d+%] ()", p)
  if pid then p = pid end
  local id, q = match(s, "^(%w+%-%w+%-%w+) ()", p)
  if id then
    local flag = sub(s, q, q + 1)
    local st = EXIM_FLAG[flag]
    if st and byte(s, q + 2) == 32 then
      r.queue_id, r.status, r.direction = id, st, "outbound"
      local a = q + 3
      local rcpt = match(s, "^[^%s]+", a)
      if rcpt and byte(rcpt, -1) == 58 then rcpt = sub(rcpt, 1, -2) end -- "a@b: Unrouteable address"
      r.recipient = rcpt
      local host = find(s, " H=", a, true)
      if host then
        local e = find(s, "[]:] ", host + 3) or find(s, "[]:]$", host + 3)
        r.relay = sub(s, host + 3, e or #s)
        if byte(r.relay, -1) == 58 then r.relay = sub(r.relay, 1, -2) end
      end
      if st == "sent" or st == "suppressed" then
        local c = find(s, ' C="', a, true)
        if c then
          local e = #s
          if byte(s, e) == 34 then e = e - 1 end
          return sub(s, c + 4, e)
        end
        return ""
      end
      local colon = find(s, ": ", a, true)
      return colon and sub(s, colon + 2) or ""
    end
    p = q
  end
  -- refusals are a list of fields that names the client, then what was
  -- refused: "H=host [ip] F=<a> rejected RCPT <b>: ...", "F=<a> H=host
  -- [ip] P=esmtp rejected by local_scan(): ..." (Exim names the fields it
  -- knows in its own order; the message id is there after DATA)
  if not match(s, "^%u=", p) then return nil end
  local rj = find(s, " rejected ", p, true)
  if not rj then return nil end
  if sub(s, p, p + 1) ~= "H=" then
    local h = find(s, " H=", p, true)
    if not h or h > rj then return nil end
  end
  r.queue_id, r.status, r.direction = id, "rejected", "inbound"
  -- "RCPT <b>:" or, as Exim writes an address it could not parse or
  -- without its brackets, "RCPT b:"
  local rc = match(s, "^RCPT ()", rj + 10)
  if rc then
    local a = address(s, rc)
    if byte(a, -1) == 58 then a = sub(a, 1, -2) end -- "b:"
    if a ~= "" then r.recipient = a end
  end
  local colon = find(s, ": ", rj, true)
  return colon and sub(s, colon + 2) or sub(s, rj + 10)
end

-- qmail-send: "delivery 4713: failure: TEXT", TEXT with "_" for spaces
-- and "/" for line breaks. qmail-send's other lines say nothing about a
-- result; "starting delivery N: msg M to remote a@b" is remembered by a
-- reader (log.reader) to give the message and recipient of delivery N.
local QMAIL_STATUS = { success = "sent", failure = "bounced", deferral = "deferred" }

--- The text of a qmail-send line restored: "_" is a space, "/" a line
-- break (qmail-send writes no others).
function M.qmail_text(t)
  return (gsub(gsub(t, "_", " "), "/", "\n"))
end

local function qmail(s, p, r, state)
  local stamp = match(s, "^%d+%.%d+ ()", p)
  if stamp then p = stamp end
  local d, word, q = match(s, "^delivery (%d+): (%a+): ()", p)
  if not d then
    if state then
      local sd, msg, rcpt = match(s, "^starting delivery (%d+): msg (%d+) to %a+ (%S+)$", p)
      if sd then state:remember(sd, msg, rcpt) end
    end
    return nil
  end
  local st = QMAIL_STATUS[word]
  if not st then return nil end
  r.status, r.direction = st, "outbound"
  if state then
    local e = state:recall(d)
    if e then r.queue_id, r.recipient = e[1], e[2] end
  end
  -- "Giving up on 192.0.2.7." and the trailing "/" are qmail's, not the reply's
  local text = M.qmail_text(sub(s, q))
  return (gsub(text, "\n+$", ""))
end

-- Sendmail: "QID: to=<a>, ..., relay=h. [ip], dsn=5.1.1, stat=User unknown",
-- "QID: ruleset=check_rcpt, arg1=<a>, relay=..., reject=550 5.7.1 ...",
-- and (bare: with its syslog tag) "QID: <a>... User unknown".
local function sendmail(s, p, r, bare)
  local qid, q = match(s, "^(%w+): ()", p)
  if qid then
    if qid ~= "NOQUEUE" then r.queue_id = qid end
  else
    q = p
  end
  local rj = match(s, "^reject=()", q)
  if not rj then
    local a = find(s, ", reject=", q, true)
    rj = a and a + 9
  end
  if rj then
    r.direction, r.status = "inbound", "reject"
    if field(s, "ruleset", q) == "check_rcpt" then
      local a1 = field(s, "arg1", q)
      if a1 then r.recipient = address(a1, 1) end
    else
      -- a milter's refusal of a recipient: "Milter: to=<a>, reject=..."
      local to = field(s, "to", match(s, "^Milter: ()", q) or q)
      if to then r.recipient = address(to, 1) end
    end
    r.relay = field(s, "relay", q)
    return sub(s, rj)
  end
  local sa = find(s, ", stat=", q, true)
  if not sa and qid and bare and byte(s, q) == 60 then
    -- a recipient refused in the SMTP dialogue, as Sendmail logs the reply
    -- it gave: "QID: <a@b>... No such user here" (the text without codes)
    local e = find(s, ">", q + 1, true)
    if not e or sub(s, e, e + 4) ~= ">... " then return nil end
    r.direction, r.status = "inbound", "reject"
    local a = sub(s, q + 1, e - 1)
    if a ~= "" then r.recipient = a end
    return sub(s, e + 5)
  end
  if not sa or not match(s, "^to=", q) then return nil end
  r.direction = "outbound"
  local to = field(s, "to", q)
  r.recipient = to and address(to, 1)
  r.relay = field(s, "relay", q)
  r.dsn = match(field(s, "dsn", q) or "", "^([245]%.%d+%.%d+)$")
  local stat = sub(s, sa + 7)
  local w, rest = match(stat, "^(%a+)()")
  w = w and lower(w)
  if w == "sent" then
    r.status = "sent"
    local t = match(stat, "^ %((.*)%)$", rest) -- anchored at both ends
    return t or sub(stat, rest)
  elseif w == "deferred" then
    r.status = "deferred"
    return (gsub(sub(stat, rest), "^:? ?", ""))
  elseif w == "queued" then
    r.status = "queued"
    return ""
  end
  r.status = "bounced"
  return stat
end

-- OpenSMTPD (syslog tag smtpd; 6.4 and later): "SESSION mta delivery
-- evpid=EVPID from=<a> to=<b> rcpt=<c> source=\"ip\" relay=\"h (ip)\"
-- delay=1s result=\"PermFail\" stat=\"550 5.7.1 ...\"", the same with
-- "mda" (local delivery: result and stat not quoted), and "SESSION smtp
-- failed-command command=\"RCPT TO:<b>\" result=\"550 ...\"" (a command
-- of a client refused). The message id is the first 8 hex digits of the
-- envelope id. Returns the text, or nil and whether the line is
-- OpenSMTPD's (a session id first).
local OSMTPD_RESULT = { Ok = "sent", TempFail = "deferred", PermFail = "bounced" }

-- The value of ' key="v"' (quoted: up to the next '"', or the end when
-- to_end) or ' key=v' (up to the next blank, or the end when to_end).
local function osmtpd_value(s, key, from, to_end)
  local a, b = find(s, " " .. key .. '="', from, true)
  if a then
    if to_end then
      local e = #s
      if byte(s, e) == 34 then e = e - 1 end
      return sub(s, b + 1, e)
    end
    local e = find(s, '"', b + 1, true)
    return sub(s, b + 1, (e or #s + 1) - 1)
  end
  a, b = find(s, " " .. key .. "=", from, true)
  if not a then return nil end
  if to_end then return sub(s, b + 1) end
  local e = find(s, " ", b + 1, true)
  return sub(s, b + 1, (e or #s + 1) - 1)
end

local function opensmtpd(s, p, r)
  -- before 6.4: "relay: PermFail for EVPID: [session=S, ]from=<a>,
  -- to=<b>, ..., stat=TEXT" and "delivery: Ok for EVPID: ..., stat=TEXT"
  local word, res, id, at = match(s, "^(%l+): (%a+) for (%x+): ()", p)
  if word == "relay" or word == "delivery" then
    local st = OSMTPD_RESULT[res]
    if not st then return nil, true end
    r.queue_id, r.status, r.direction = sub(id, 1, 8), st, "outbound"
    local to = find(s, "to=<", at, true)
    if to then r.recipient = address(s, to + 3) end
    local a, b = find(s, ", stat=", at, true)
    return a and sub(s, b + 1) or "", true
  end
  local q = match(s, "^%x+ ()", p)
  if not q then return nil, false end
  local d = match(s, "^m[td]a delivery evpid=()", q) or match(s, "^m[td]a event=delivery evpid=()", q)
  if d then
    local ev, f = match(s, "^(%x+) ()", d)
    if not ev then return nil, true end
    local st = OSMTPD_RESULT[osmtpd_value(s, "result", f) or ""]
    if not st then return nil, true end
    r.queue_id, r.status, r.direction = sub(ev, 1, 8), st, "outbound"
    local to = find(s, " to=<", f - 1, true)
    if to then r.recipient = address(s, to + 4) end
    r.relay = osmtpd_value(s, "relay", f)
    return osmtpd_value(s, "stat", f, true) or "", true
  end
  local c = match(s, '^smtp failed%-command command="()', q)
  if not c then return nil, true end
  local e = find(s, '" result="', c, true)
  if not e then return nil, true end
  -- a refused AUTH is a failed login, not a refusal of mail (as Postfix's
  -- and Exim's authentication failures)
  if match(s, "^[Aa][Uu][Tt][Hh]", c) then return nil, true end
  r.status, r.direction = "reject", "inbound"
  local rc = match(s, "^[Rr][Cc][Pp][Tt] [Tt][Oo]:()", c)
  if rc and rc < e then
    local a = address(s, rc)
    if a ~= "" and find(a, '"', 1, true) == nil then r.recipient = a end
  end
  local t = sub(s, e + 10)
  if byte(t, -1) == 34 then t = sub(t, 1, -2) end
  return t, true
end

-- }======================================================

-- {======================================================
-- Which MTA wrote a line (syslog tag, stamp or label), and its fields
-- =======================================================

local function maybe_qmail_tag(tag)
  return sub(tag, 1, 5) == "qmail"
end

-- Postfix's daemons that log results, for a syslog_name of another
-- name than postfix* ("mx-out/smtp", "submission/smtpd" of an instance)
local POSTFIX_DAEMON = { smtp = true, lmtp = true, ["local"] = true, virtual = true, pipe = true,
  error = true, retry = true, discard = true, smtpd = true, postscreen = true, cleanup = true,
  qmgr = true, oqmgr = true }

local function postfix_tag(tag)
  if sub(tag, 1, 7) == "postfix" then return true end
  local d = match(tag, "/([^/]+)$")
  return d ~= nil and POSTFIX_DAEMON[d] == true
end

local function sendmail_tag(tag)
  return tag == "sendmail" or sub(tag, 1, 3) == "sm-"
end

-- The fields parse may set: a line is parsed into SCRATCH, and only a
-- line about a delivery gets a table of its own (most lines of a log are
-- about something else).
local KEYS = { "time", "program", "mta", "queue_id", "recipient", "relay", "status", "dsn", "direction" }

-- Fill r from line s; returns the text to classify, or nil (not about a
-- delivery), and whether the line is of a known log format.
local function parse(s, r, state)
  local time, tag, _, p = syslog(s)
  if tag then
    r.time, r.program = time, tag
    if postfix_tag(tag) then
      r.mta = "postfix"
      return postfix(s, p, r), true
    elseif sub(tag, 1, 4) == "exim" then
      r.mta = "exim"
      return exim(s, p, r), true
    elseif sendmail_tag(tag) then
      r.mta = "sendmail"
      return sendmail(s, p, r, true), true
    elseif maybe_qmail_tag(tag) then
      r.mta = "qmail"
      return qmail(s, p, r, state), true
    elseif tag == "smtpd" then
      local text, ours = opensmtpd(s, p, r)
      if ours then
        r.mta = "opensmtpd"
        return text, true
      end
      for i = 1, #KEYS do r[KEYS[i]] = nil end
      r.time, r.program = time, tag
    end
    return s, false
  end
  local et, ep = match(s, "^(%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d[%.%d]*) ()")
  if et then
    local tz = match(s, "^[%+%-]%d%d%d%d ()", ep)
    if tz then
      et, ep = sub(s, 1, tz - 2), tz
    end
    if match(s, "^delivery %d", ep) or match(s, "^starting delivery %d", ep) then
      -- qmail-send's log through tai64nlocal: "2024-03-12 10:18:00.123456500 delivery 1: ..."
      r.time, r.mta = et, "qmail"
      return qmail(s, ep, r, state), true
    end
    r.time, r.mta = et, "exim"
    return exim(s, ep, r), true
  end
  local label, lp = match(s, "^(@4%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x) ()")
  if label then
    r.time, r.mta = label, "qmail"
    return qmail(s, lp, r, state), true
  end
  if match(s, "^delivery %d+: %a+: ") or match(s, "^starting delivery %d") then
    r.mta = "qmail" -- qmail-send's own output, without a label
    return qmail(s, 1, r, state), true
  end
  if match(s, "^%w+: ") then
    -- a message without its syslog header, as journalctl -o cat, a JSON
    -- MESSAGE field or a log shipper's message field gives it: a Postfix
    -- or Sendmail line when it is one in their own words
    local text = postfix(s, 1, r)
    if text then
      r.mta = "postfix"
      return text, true
    end
    for i = 1, #KEYS do r[KEYS[i]] = nil end
    text = sendmail(s, 1, r, false)
    if text then
      r.mta = "sendmail"
      return text, true
    end
    for i = 1, #KEYS do r[KEYS[i]] = nil end
  end
  return s, false
end

-- }======================================================

M.parse, M.KEYS = parse, KEYS

-- For spec/linear_spec.lua: the scanners, to time each on its worst case.
M._scan = { field = field, address = address, last = last,
  syslog = syslog, sd_end = sd_end, osmtpd_value = osmtpd_value }

return M
