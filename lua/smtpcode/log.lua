-- smtpcode.log: read mail log lines (Postfix, Exim, qmail-send, Sendmail,
-- OpenSMTPD) and say what each delivery result or refusal means.
--
--   local log = require "smtpcode.log"
--   local r = log.read(line)      -- nil: the line is not about a delivery
--   -- r.mta, r.time, r.queue_id, r.recipient, r.relay, r.status, r.dsn,
--   -- r.direction, r.text, and the classify fields (r.reason, r.severity,
--   -- r.code, r.enhanced, r.bounce, r.retry, r.scope, ...)
--   local rd = log.reader()       -- the same, remembering qmail-send's
--   r = rd:read(line)             -- "starting delivery" lines
--
-- Every pattern here runs on text a remote server chose (its reply is
-- logged verbatim), so each one is anchored or plain: none can retry from
-- every start position (spec/linear_spec.lua measures them). The reply is
-- searched once per line (smtpcode.find) and classified from the fields
-- found (smtpcode.classify of a table). The formats of the lines are
-- read by smtpcode.log_formats. Reference: docs/log.md.

local smtpcode = require "smtpcode"
local formats = require "smtpcode.log_formats"

local type, error, setmetatable = type, error, setmetatable
local find, sub, byte, gsub = string.find, string.sub, string.byte, string.gsub
local concat = table.concat

local sfind, classify = smtpcode.find, nil -- classify: looked up per call (backend switch)

local M = {}

-- Only the first MAX_LINE bytes of a line are read, as the command line
-- reads them.
M.MAX_LINE = 1048576

local parse, KEYS = formats.parse, formats.KEYS

-- The text of a qmail-send line restored: "_" is a space, "/" a line
-- break (qmail-send writes no others).
M.qmail_text = formats.qmail_text

-- {======================================================
-- read
-- =======================================================

local FIELDS = {}

-- One search: find on the text, then classify from its fields into r.
-- Without an enhanced code in the text, the log's own (Postfix's and
-- Sendmail's dsn=) stands in when the text has no reply code either.
local function judge(r, text, known)
  local f = sfind(text)
  classify = smtpcode.classify
  local enh = f and f.enhanced
  if not enh and not (f and f.code) then enh = r.dsn end
  local dsn = r.dsn
  local x = FIELDS -- reused: classify does not keep it
  x.code, x.enhanced, x.text = f and f.code, enh, text
  classify(x, nil, r)
  x.text = nil
  r.dsn = dsn
  if r.status == "sent" and r.severity == "unknown" and not r.code and not r.enhanced then
    -- a delivery the log reports as made, with no reply logged (Exim's
    -- "=>" without C="..."): a success, with nothing to act on
    r.severity, r.reason, r.scope, r.bounce, r.retry = "success", nil, nil, nil, nil
    r.matched = nil
  end
  if f and (f.code or f.text ~= "") then
    -- the reply's text after its codes ("5.7.1 Spam message rejected"
    -- too), unless the code closes the text (qmail's "... (#4.4.1)");
    -- find's text has no repeated codes, also of a multi-line reply
    -- whose lines the log joined with spaces
    r.text = f.text
    if find(r.text, "\n", 1, true) then r.text = gsub(r.text, "\n", " ") end
  else
    r.text = text
    if find(text, "\n", 1, true) then r.text = gsub(text, "\n", " ") end
  end
  if not known then
    -- a line of no known format counts only when it carries a reply or
    -- a recognised failure
    if not r.code and not r.enhanced and (r.reason == nil or r.reason == "unknown") then
      return nil
    end
    r.mta = "other"
  end
  return r
end

local SCRATCH = {}

local function read(line, state)
  if type(line) ~= "string" then
    error("bad argument #1 to 'read' (string expected, got " .. type(line) .. ")", 0)
  end
  if #line > M.MAX_LINE then line = sub(line, 1, M.MAX_LINE) end
  if byte(line, -1) == 13 then line = sub(line, 1, -2) end
  local sc = SCRATCH
  local text, known = parse(line, sc, state)
  local r = nil
  if text then r = {} end
  for i = 1, #KEYS do
    local k = KEYS[i]
    local v = sc[k]
    if v ~= nil then
      if r then r[k] = v end
      sc[k] = nil
    end
  end
  if not r then return nil end
  return judge(r, text, known)
end

--- read(line): the delivery result or refusal a mail log line reports, as
-- a table (see docs/log.md), or nil when the line is about something else.
function M.read(line)
  return read(line, nil)
end

-- }======================================================

-- {======================================================
-- reader: read with memory of earlier lines (qmail-send names the message
-- and recipient of a delivery on its "starting delivery" line only)
-- =======================================================

local Reader = {}
Reader.__index = Reader

-- At most this many deliveries in progress are remembered; past it the
-- oldest half is forgotten (memory stays bounded on any input).
M.MAX_PENDING = 10000

function Reader:remember(d, msg, rcpt)
  local p = self.pending
  if not p[d] then
    self.n = self.n + 1
    if self.n > M.MAX_PENDING then
      self.old, self.pending, self.n = p, {}, 1
      p = self.pending
    end
  end
  p[d] = { msg, rcpt }
end

function Reader:recall(d)
  local e = self.pending[d]
  if e then
    self.pending[d] = nil
    self.n = self.n - 1
    return e
  end
  e = self.old and self.old[d]
  if e then self.old[d] = nil end
  return e
end

function Reader:read(line)
  return read(line, self)
end

--- reader(): an object whose :read(line) is log.read that also remembers
-- qmail-send's "starting delivery" lines to fill queue_id and recipient.
function M.reader()
  return setmetatable({ pending = {}, n = 0 }, Reader)
end

-- }======================================================

-- {======================================================
-- printable: text safe for a terminal or a JSON reader
-- =======================================================

local FFFD = "\239\191\189"

-- The length of the valid UTF-8 sequence at i of r (a lead byte and its
-- continuation bytes), or 0.
local function seqlen(r, i, len)
  local c = byte(r, i)
  local need, lo, hi
  lo, hi = 128, 191
  if c >= 194 and c <= 223 then need = 1
  elseif c >= 224 and c <= 239 then
    need = 2
    if c == 224 then lo = 160 elseif c == 237 then hi = 159 end
  elseif c >= 240 and c <= 244 then
    need = 3
    if c == 240 then lo = 144 elseif c == 244 then hi = 143 end
  else
    return 0
  end
  if i + need > len then return 0 end
  local c1 = byte(r, i + 1)
  if c1 < lo or c1 > hi then return 0 end
  for k = 2, need do
    local ck = byte(r, i + k)
    if ck < 128 or ck > 191 then return 0 end
  end
  return need + 1
end

-- a C1 control or a bidi override or isolate at i (a valid sequence)
local function unsafe(r, i)
  local c, c1, c2 = byte(r, i, i + 2)
  return (c == 194 and c1 <= 159)
    or (c == 226 and c1 == 128 and c2 >= 170 and c2 <= 174) -- U+202A-202E
    or (c == 226 and c1 == 129 and c2 >= 166 and c2 <= 169) -- U+2066-2069
end

-- gsub callback on one lead byte and the continuation bytes after it (or
-- stray continuation bytes): nil (kept) when it is one safe character
local function utf8_run(r)
  local len = #r
  local k = seqlen(r, 1, len)
  if k == len and not unsafe(r, 1) then return nil end
  local out, n, i = {}, 0, 1
  while i <= len do
    k = seqlen(r, i, len)
    n = n + 1
    if k == 0 then
      out[n] = FFFD
      i = i + 1
    else
      out[n] = unsafe(r, i) and FFFD or sub(r, i, i + k - 1)
      i = i + k
    end
  end
  return concat(out, "", 1, n)
end

--- printable(s [, keep_nl]): s safe to print to a terminal or to hand to a
-- JSON encoder: invalid UTF-8, C1 controls (U+0080-U+009F, and raw bytes
-- 0x80-0x9F) and bidi overrides and isolates (U+202A-U+202E,
-- U+2066-U+2069) become U+FFFD; each run of ASCII controls becomes one
-- space (keep_nl: line feeds stay).
function M.printable(s, keep_nl)
  if type(s) ~= "string" then
    error("bad argument #1 to 'printable' (string expected, got " .. type(s) .. ")", 0)
  end
  if not find(s, "[%z\1-\31\127-\255]") then return s end
  if keep_nl then
    s = gsub(s, "[%z\1-\9\11-\31\127]+", " ")
  else
    s = gsub(s, "[%z\1-\31\127]+", " ")
  end
  return (gsub(s, "[\128-\255][\128-\191]*", utf8_run))
end

-- }======================================================

-- For spec/linear_spec.lua: the scanners, to time each on its worst case.
M._scan = formats._scan

return M
