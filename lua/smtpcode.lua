-- smtpcode: read SMTP replies and say what they mean.
--
-- Front module over the C core `smtpcode.core`. On LuaJIT with the JIT on,
-- the hot functions (`scan`, `parse`) call the same exported C functions
-- through the FFI; elsewhere they are the Lua C API functions of the core.
-- `smtpcode._BACKEND` says which ("ffi" or "capi"). The environment
-- variable SMTPCODE_BACKEND=capi forces the C API; `smtpcode._set_backend`
-- switches at run time (for tests).

local core = require "smtpcode.core"

local type, error, tostring, pcall = type, error, tostring, pcall
local floor = math.floor
local concat = table.concat
local sub = string.sub
local format = string.format
local getenv = os.getenv

local M = {
  _VERSION = core._VERSION,
  _core = core,
}

-- The C API implementations are always available.
local capi = {
  parse = core.parse,
  scan = core.scan,
}

-- {======================================================
-- FFI backend (LuaJIT only)
-- =======================================================

local ffiimpl

local function load_ffi()
  if not (jit and jit.status and jit.status()) then
    return nil, "the JIT is off"
  end
  local ok, ffi = pcall(require, "ffi")
  if not ok then return nil, "no ffi" end
  local searchpath = package.searchpath
  if not searchpath then return nil, "no package.searchpath" end
  local path = searchpath("smtpcode.core", package.cpath)
  if not path then return nil, "smtpcode.core not found on package.cpath" end

  -- Keep in step with src/smtpcode.h; spec/ffi_layout_spec.lua checks it.
  pcall(ffi.cdef, [[
typedef struct smtpcode_opts {
  int flags; int max_line; int max_lines; int max_reply;
} smtpcode_opts;
typedef struct smtpcode_line {
  int code; int cls; int subject; int detail; int flags;
  int enh_off; int enh_len; int text_off; int text_len; int length;
} smtpcode_line;
typedef struct smtpcode_reply {
  int code; int cls; int subject; int detail; int flags;
  int enh_off; int enh_len; int nlines; int length;
} smtpcode_reply;
int smtpcode_parse_line(const char *s, size_t len, const smtpcode_opts *opts,
                        smtpcode_line *out);
int smtpcode_parse_reply(const char *s, size_t len, const smtpcode_opts *opts,
                         smtpcode_reply *out, smtpcode_line *lines, int cap);
]])
  local okl, C = pcall(ffi.load, path)
  if not okl then return nil, C end

  local K = core._constants
  local ESYNTAX, EINCOMPLETE = K.ESYNTAX, K.EINCOMPLETE
  local EINCONSISTENT, ETOOLONG = K.EINCONSISTENT, K.ETOOLONG
  local O_LENIENT = K.O_LENIENT

  local SEV = {}
  for c = 0, 999 do
    local d = floor(c / 100)
    SEV[c] = d == 2 and "success" or d == 3 and "intermediate"
      or d == 4 and "transient" or d == 5 and "permanent" or "unknown"
  end

  local STACK = 16
  local line = ffi.new("smtpcode_line")
  local reply = ffi.new("smtpcode_reply")
  local lines = ffi.new("smtpcode_line[?]", STACK)
  local obuf = ffi.new("smtpcode_opts")

  local function argerror(n, fname, msg)
    error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
  end

  local function typeerror(n, fname, expected, v)
    argerror(n, fname, expected .. " expected, got " .. type(v))
  end

  local function limit(o, key, fname)
    local v = o[key]
    if v == nil then return 0 end
    if type(v) ~= "number" then
      argerror(2, fname, format("opts.%s must be a number, got %s", key, type(v)))
    end
    if not (v >= 1) then
      argerror(2, fname, format("opts.%s must be positive", key))
    end
    if v > 0x3fffffff then v = 0x3fffffff end
    return floor(v)
  end

  local function getopts(o, fname)
    if o == nil then return nil end
    if type(o) ~= "table" then typeerror(2, fname, "table", o) end
    obuf.flags = o.lenient and O_LENIENT or 0
    obuf.max_line = limit(o, "max_line", fname)
    obuf.max_lines = limit(o, "max_lines", fname)
    obuf.max_reply = limit(o, "max_reply", fname)
    return obuf
  end

  local function fail(status, n)
    local msg
    if status == ESYNTAX then
      msg = format("line %d is not a valid reply line", n)
    elseif status == EINCOMPLETE then
      msg = format("reply is incomplete at line %d", n)
    elseif status == EINCONSISTENT then
      msg = format("line %d has a different reply code than line 1", n)
    elseif status == ETOOLONG then
      msg = format("reply exceeds a size limit at line %d", n)
    else
      msg = format("error %d at line %d", status, n)
    end
    return nil, msg, M.status_names[status]
  end

  local function scan(s, opts)
    if type(s) ~= "string" then typeerror(1, "scan", "string", s) end
    local o = nil
    if opts ~= nil then o = getopts(opts, "scan") end
    local r = C.smtpcode_parse_line(s, #s, o, line)
    if r < 0 then return fail(r, 1) end
    local code = line.code
    local enh = nil
    if line.cls ~= 0 then
      enh = sub(s, line.enh_off + 1, line.enh_off + line.enh_len)
    end
    local to = line.text_off
    return code, SEV[code], enh, sub(s, to + 1, to + line.text_len),
      line.flags % 2 == 1
  end

  local function parse(s, opts, into)
    if type(s) ~= "string" then typeerror(1, "parse", "string", s) end
    local o = nil
    if opts ~= nil then o = getopts(opts, "parse") end
    if into ~= nil and type(into) ~= "table" then
      typeerror(3, "parse", "table", into)
    end
    local buf = lines
    local r = C.smtpcode_parse_reply(s, #s, o, reply, buf, STACK)
    if r < 0 then return fail(r, reply.nlines) end
    local n = reply.nlines
    if n > STACK then
      buf = ffi.new("smtpcode_line[?]", n)
      r = C.smtpcode_parse_reply(s, #s, o, reply, buf, n)
    end
    local code, cls, flags = reply.code, reply.cls, reply.flags
    local enh, subj, det = nil, nil, nil
    if cls ~= 0 then
      enh = sub(s, reply.enh_off + 1, reply.enh_off + reply.enh_len)
      subj, det = reply.subject, reply.detail
    else
      cls = nil
    end
    local mismatch = floor(flags / 2) % 2 == 1 or nil
    local nonstd = floor(flags / 4) % 2 == 1 or nil
    local varies = floor(flags / 16) % 2 == 1 or nil
    local t = into
    local ls
    if t == nil then
      ls = {}
      t = { code = code, severity = SEV[code], enhanced = enh, class = cls,
            subject = subj, detail = det, text = false, lines = ls,
            mismatch = mismatch, nonstandard = nonstd,
            enhanced_varies = varies, length = r }
    else
      t.code, t.severity, t.enhanced = code, SEV[code], enh
      t.class, t.subject, t.detail = cls, subj, det
      t.mismatch, t.nonstandard, t.enhanced_varies = mismatch, nonstd, varies
      t.length = r
      ls = t.lines
      if type(ls) ~= "table" then
        ls = {}
        t.lines = ls
      end
    end
    local pos = 0
    for i = 0, n - 1 do
      local l = buf[i]
      local a = pos + l.text_off
      ls[i + 1] = sub(s, a + 1, a + l.text_len)
      pos = pos + l.length
    end
    for i = n + 1, #ls do ls[i] = nil end
    if n == 1 then
      t.text = ls[1]
    else
      t.text = concat(ls, "\n", 1, n)
    end
    return t
  end

  return { parse = parse, scan = scan }
end

-- }======================================================

M.status_names = {}
do
  local K = core._constants
  M.status_names[K.ESYNTAX] = "syntax"
  M.status_names[K.EINCOMPLETE] = "incomplete"
  M.status_names[K.EINCONSISTENT] = "inconsistent"
  M.status_names[K.ETOOLONG] = "too_long"
  M.status_names[K.ENOTFOUND] = "not_found"
end

local backends = { capi = capi }
do
  local impl = load_ffi()
  if impl then
    backends.ffi = impl
    ffiimpl = impl
  end
end

--- Switch the implementation of the hot functions ("ffi" or "capi").
-- Returns the previous backend name, or nil and a message.
function M._set_backend(name)
  local impl = backends[name]
  if not impl then
    return nil, "backend " .. tostring(name) .. " is not available"
  end
  local prev = M._BACKEND
  M.parse, M.scan = impl.parse, impl.scan
  M._BACKEND = name
  return prev
end

--- Names of the backends available in this process.
function M._backends()
  local t = { "capi" }
  if backends.ffi then t[2] = "ffi" end
  return t
end

do
  local want = getenv("SMTPCODE_BACKEND")
  if want ~= "capi" and ffiimpl then
    M._set_backend("ffi")
  else
    M._set_backend("capi")
  end
end

M.status = core.status

-- ===== exports added by later features go below =====

return M
