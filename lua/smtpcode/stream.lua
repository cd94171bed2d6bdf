-- smtpcode.stream: SMTP conversations.
--
--   reader([opts])          an incremental reply reader: r:feed(chunk),
--                           r:pending(), r:reset()
--   read_reply(sock [, opts])  one complete reply from anything with
--                           LuaSocket's receive (LuaSocket, ngx.socket.tcp)
--   format(code, enhanced, text [, opts])  a reply as it goes on the wire
--
-- The C core finds where replies end (src/stream.c, smtpcode_stream_next)
-- and writes them (smtpcode_format); this file only turns the reply bytes
-- into the tables smtpcode.parse gives, queues them, and reads sockets.
-- Re-exported by lua/smtpcode.lua as smtpcode.reader, smtpcode.read_reply
-- and smtpcode.format.

local core = require "smtpcode.core"

local type, error, setmetatable, getmetatable = type, error, setmetatable, getmetatable
local tostring, pcall = tostring, pcall
local format = string.format
local remove = table.remove

local new, feed, pending = core.reader_new, core.reader_feed, core.reader_pending
local reset, status = core.reader_reset, core.reader_status

local M = {}

-- lua/smtpcode.lua sets M._front to itself: the replies are made by the
-- parse of the backend in use (C API or FFI), so they are its tables.
local cparse = core.parse

local Reader = {}
Reader.__index = Reader

local function argerror(n, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end

local function check(self, fname)
  if type(self) ~= "table" or getmetatable(self) ~= Reader then
    argerror(1, fname, "reader expected, got " .. type(self))
  end
end

--- reader([opts]): opts as for parse (lenient, max_line, max_lines,
-- max_reply); the replies are parse(bytes, opts) tables.
function M.reader(opts)
  if opts ~= nil and type(opts) ~= "table" then
    argerror(1, "reader", "table expected, got " .. type(opts))
  end
  local popts = nil
  if opts ~= nil then
    -- read raw, as every table passed in: no caller code runs here
    popts = { lenient = rawget(opts, "lenient"), max_line = rawget(opts, "max_line"),
              max_lines = rawget(opts, "max_lines"), max_reply = rawget(opts, "max_reply") }
  end
  return setmetatable({ _c = new(popts), _opts = popts, _queue = {} }, Reader)
end

-- The replies of a list of reply strings, appended to t.
local function tables(self, list, t)
  local opts = self._opts
  local front = M._front
  local parse = front and front.parse or cparse
  for i = 1, #list do
    t[#t + 1] = parse(list[i], opts)
  end
  return t
end

--- r:feed(chunk): the complete replies now held (a list, maybe empty),
-- in order, or nil, message, errcode once the stream broke a rule or a
-- limit (until r:reset()).
function Reader:feed(chunk)
  check(self, "feed")
  if type(chunk) ~= "string" then
    argerror(1, "feed", "string expected, got " .. type(chunk))
  end
  local list, msg, code = feed(self._c, chunk)
  local q = self._queue
  if list == nil then
    if #q == 0 then return nil, msg, code end
    self._queue = {}
    return q
  end
  if #q > 0 then
    self._queue = {}
    return tables(self, list, q)
  end
  return tables(self, list, {})
end

--- r:pending(): bytes held that are not yet part of a complete reply.
function Reader:pending()
  check(self, "pending")
  return pending(self._c)
end

--- r:reset(): forget every byte held and any error.
function Reader:reset()
  check(self, "reset")
  reset(self._c)
  self._queue = {}
end

-- Next reply of the reader's queue, or nil.
local function take(self)
  local q = self._queue
  if #q > 0 then return remove(q, 1) end
  return nil
end

local function push(self, list)
  local q = self._queue
  for i = 1, #list do q[#q + 1] = list[i] end
end

-- One reader per socket, so that pipelined replies read together are kept
-- for the next call (weak keys: a socket that goes away takes its reader).
local held = setmetatable({}, { __mode = "k" })

local CHUNK = 4096

--- read_reply(sock [, opts]): one complete reply from sock, or nil,
-- message, errcode ("timeout", "closed", "syntax", "inconsistent",
-- "too_long"). opts: parse's options, plus reader (a reader to use
-- instead of the one kept for sock).
function M.read_reply(sock, opts)
  local ts = type(sock)
  if (ts ~= "table" and ts ~= "userdata") then
    argerror(1, "read_reply", "socket expected, got " .. ts)
  end
  local ok, recv = pcall(function() return sock.receive end)
  if not ok or type(recv) ~= "function" then
    argerror(1, "read_reply", "socket expected (no receive method)")
  end
  if opts ~= nil and type(opts) ~= "table" then
    argerror(2, "read_reply", "table expected, got " .. type(opts))
  end
  local r = opts and rawget(opts, "reader")
  if r ~= nil then
    if getmetatable(r) ~= Reader then
      argerror(2, "read_reply", "opts.reader must be a reader")
    end
  else
    r = held[sock]
    if r == nil then
      local okr, res = pcall(M.reader, opts)
      if not okr then -- the options are read_reply's second argument
        argerror(2, "read_reply", tostring(res):match("%((.*)%)$") or tostring(res))
      end
      r = res
      held[sock] = r
    end
  end
  local c = r._c
  -- receiveany (cosockets) reads what has arrived, at most CHUNK bytes;
  -- elsewhere receive("*l") reads a line (LuaSocket strips its CR LF)
  local okany, any = pcall(function() return sock.receiveany end)
  if not okany or type(any) ~= "function" then any = nil end
  while true do
    local rep = take(r)
    if rep then return rep end
    local st, msg, code = status(c)
    if not st then return nil, msg, code end
    local data, err, partial
    if any then
      data, err = any(sock, CHUNK)
    else
      data, err, partial = recv(sock, "*l")
      -- SMTP ends lines with CRLF (RFC 5321 2.3.8): give them back, so
      -- that length counts the bytes of the wire
      if data then data = data .. "\r\n" end
    end
    if data == nil and type(partial) == "string" and partial ~= "" then
      data = partial
    end
    if data == "" and any then -- nothing read, no error: take it as the end
      data, err = nil, "closed"
    end
    if data ~= nil then
      if type(data) ~= "string" then
        return nil, "receive returned a " .. type(data), "closed"
      end
      local list
      list, msg, code = feed(c, data)
      if list == nil then return nil, msg, code end
      push(r, tables(r, list, {}))
      local first = take(r)
      if first then return first end
    end
    if err ~= nil and r._queue[1] == nil then
      local held_bytes = pending(c)
      if err == "timeout" then
        return nil, format("timeout while reading a reply (%d bytes held)", held_bytes), "timeout"
      end
      return nil, format("connection %s while reading a reply (%d bytes held)",
        err == "closed" and "closed" or ("lost: " .. tostring(err)), held_bytes), "closed"
    end
  end
end

--- format(code, enhanced, text [, opts]): the reply on the wire (C core).
M.format = core.format

return M
