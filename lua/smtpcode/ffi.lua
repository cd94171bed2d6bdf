--- smtpcode.ffi: the LuaJIT FFI backend of the hot functions.
--
-- On LuaJIT with the JIT on, `scan`, `parse` and `classify` (a text, no
-- options) call the exported C functions of `smtpcode.core` through the
-- FFI; anything else goes to the C API functions of the core. The front
-- module (lua/smtpcode.lua) calls `load` once and chooses the backend;
-- users call `require "smtpcode"`, not this module.

local core = require "smtpcode.core"

local type, error, pcall = type, error, pcall
local rawget, rawset, getmetatable = rawget, rawset, getmetatable
-- LuaJIT built with LUA52COMPAT honours __len on tables and has rawlen;
-- elsewhere # on a table is raw (the length the C API's lua_objlen gives)
local rawlen = rawget(_G, "rawlen")
local floor = math.floor
local concat = table.concat
local sub = string.sub
local format = string.format

local _M = {}

--- load(status_names): the FFI implementation { parse, scan, classify,
-- set_hooked, ffi, C }, or nil and why the FFI cannot be used.
-- status_names: the status code -> name table of the front module.
function _M.load(status_names)
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
int smtpcode_status_message(int status, int line, char *out, size_t cap);
]])
  local okl, C = pcall(ffi.load, path)
  if not okl then return nil, C end

  local K = core._constants
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
  local obuf = ffi.new("smtpcode_opts")  -- parse's
  local sobuf = ffi.new("smtpcode_opts") -- scan's

  local function argerror(n, fname, msg)
    error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
  end

  local function typeerror(n, fname, expected, v)
    argerror(n, fname, expected .. " expected, got " .. type(v))
  end

  -- Tables passed in are read with rawget and written with rawset, as the
  -- C API does: metatables are ignored, so no caller code runs inside a
  -- call (see "Tables you pass" in SECURITY.md).
  local function limit(o, key, fname)
    local v = rawget(o, key)
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

  -- The options as values: flags, max_line, max_lines, max_reply (checked).
  local function optvalues(o, fname)
    if type(o) ~= "table" then typeerror(2, fname, "table", o) end
    return rawget(o, "lenient") and O_LENIENT or 0, limit(o, "max_line", fname),
      limit(o, "max_lines", fname), limit(o, "max_reply", fname)
  end

  -- nil, message, code of a failed scan or parse: the core's message
  -- (smtpcode_status_message), as the C API gives it
  local msgbuf = ffi.new("char[?]", K.MESSAGE_MAX)
  local function fail(status, n)
    local len = C.smtpcode_status_message(status, n, msgbuf, K.MESSAGE_MAX)
    return nil, ffi.string(msgbuf, len), status_names[status]
  end

  -- The structs above are shared by the calls of scan (line, sobuf) and
  -- of parse (reply, lines, obuf). A call can be interrupted anywhere by a
  -- finalizer (the collector runs them at allocations and when a trace
  -- exits), and the finalizer may call scan or parse again: a parse that
  -- starts while another holds the structs (busy) gets structs of its own.
  local busy = false

  -- scan counts its calls in sgen: one that finds the count changed after
  -- reading the shared structs was interrupted by another (a finalizer)
  -- and answers with the C API
  local sgen = 0
  local capiscan = core.scan

  local function scan(s, opts)
    if type(s) ~= "string" then typeerror(1, "scan", "string", s) end
    local o = nil
    local my
    if opts ~= nil then
      local f, ml, mls, mr = optvalues(opts, "scan")
      my = sgen + 1
      sgen = my
      sobuf.flags, sobuf.max_line, sobuf.max_lines, sobuf.max_reply = f, ml, mls, mr
      o = sobuf
    else
      my = sgen + 1
      sgen = my
    end
    local r = C.smtpcode_parse_line(s, #s, o, line)
    if r < 0 then
      if sgen ~= my then return capiscan(s, opts) end
      return fail(r, 1)
    end
    local code = line.code
    local enh = nil
    if line.cls ~= 0 then
      enh = sub(s, line.enh_off + 1, line.enh_off + line.enh_len)
    end
    local to = line.text_off
    local text = sub(s, to + 1, to + line.text_len)
    local cont = line.flags % 2 == 1
    if sgen ~= my then return capiscan(s, opts) end
    return code, SEV[code], enh, text, cont
  end

  -- parse's result written with rawset and rawget only, into a table t
  -- (or its lines table) that has a metatable; rp, buf: the parsed reply
  -- of n lines and r bytes in s.
  local function fill_raw(s, t, rp, buf, n, r)
    local code, cls, flags = rp.code, rp.cls, rp.flags
    local enh, subj, det = nil, nil, nil
    if cls ~= 0 then
      enh = sub(s, rp.enh_off + 1, rp.enh_off + rp.enh_len)
      subj, det = rp.subject, rp.detail
    else
      cls = nil
    end
    rawset(t, "code", code)
    rawset(t, "severity", SEV[code])
    rawset(t, "enhanced", enh)
    rawset(t, "class", cls)
    rawset(t, "subject", subj)
    rawset(t, "detail", det)
    rawset(t, "mismatch", floor(flags / 2) % 2 == 1 or nil)
    rawset(t, "nonstandard", floor(flags / 4) % 2 == 1 or nil)
    rawset(t, "enhanced_varies", floor(flags / 16) % 2 == 1 or nil)
    rawset(t, "length", r)
    local ls = rawget(t, "lines")
    if type(ls) ~= "table" then
      ls = {}
      rawset(t, "lines", ls)
    end
    local pos = 0
    for i = 0, n - 1 do
      local l = buf[i]
      local a = pos + l.text_off
      rawset(ls, i + 1, sub(s, a + 1, a + l.text_len))
      pos = pos + l.length
    end
    local len
    if rawlen then len = rawlen(ls) else len = #ls end
    for i = n + 1, len do rawset(ls, i, nil) end
    if n == 1 then
      rawset(t, "text", rawget(ls, 1))
    else
      rawset(t, "text", concat(ls, "\n", 1, n))
    end
    return t
  end

  -- The checks of parse's arguments; returns the options' values.
  local function parseargs(s, opts, into)
    if type(s) ~= "string" then typeerror(1, "parse", "string", s) end
    local f, ml, mls, mr
    if opts ~= nil then f, ml, mls, mr = optvalues(opts, "parse") end
    if into ~= nil and type(into) ~= "table" then
      typeerror(3, "parse", "table", into)
    end
    return f, ml, mls, mr
  end

  -- parse with structs of its own and raw stores: for a call that
  -- interrupts another (busy) and for an into (or into.lines) with a
  -- metatable
  local function parse_slow(s, opts, into)
    local f, ml, mls, mr = parseargs(s, opts, into)
    local rp, buf = ffi.new("smtpcode_reply"), ffi.new("smtpcode_line[?]", STACK)
    local o = nil
    if f then o = ffi.new("smtpcode_opts", f, ml, mls, mr) end
    local r = C.smtpcode_parse_reply(s, #s, o, rp, buf, STACK)
    local n = rp.nlines
    if r < 0 then return fail(r, n) end
    if n > STACK then
      buf = ffi.new("smtpcode_line[?]", n)
      r = C.smtpcode_parse_reply(s, #s, o, rp, buf, n)
    end
    return fill_raw(s, into or {}, rp, buf, n, r)
  end

  local function parse(s, opts, into)
    if busy then return parse_slow(s, opts, into) end
    if type(into) == "table" then
      local ls = rawget(into, "lines")
      if getmetatable(into) ~= nil or (type(ls) == "table" and getmetatable(ls) ~= nil) then
        return parse_slow(s, opts, into)
      end
    end
    local o = nil
    do
      local f, ml, mls, mr = parseargs(s, opts, into)
      busy = true -- until the shared structs are read
      if f then
        obuf.flags, obuf.max_line, obuf.max_lines, obuf.max_reply = f, ml, mls, mr
        o = obuf
      end
    end
    local buf = lines
    local r = C.smtpcode_parse_reply(s, #s, o, reply, buf, STACK)
    local n = reply.nlines
    if r < 0 then
      busy = false
      return fail(r, n)
    end
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
    -- (neither t nor ls has a metatable here: plain stores are raw)
    local pos = 0
    for i = 0, n - 1 do
      local l = buf[i]
      local a = pos + l.text_off
      ls[i + 1] = sub(s, a + 1, a + l.text_len)
      pos = pos + l.length
    end
    busy = false
    for i = n + 1, #ls do ls[i] = nil end
    if n == 1 then
      t.text = ls[1]
    else
      t.text = concat(ls, "\n", 1, n)
    end
    return t
  end

  local impl = { parse = parse, scan = scan, ffi = ffi, C = C }

  -- run-time rules exist (lua/smtpcode/rules.lua): classify goes to the C
  -- function, which calls their hook
  local hooked = false
  function impl.set_hooked(on) hooked = on and true or false end

  local cclassify = core.classify

  -- The FFI backend (LuaJIT): a text without opts is classified by the
  -- exported C function into a reused verdict struct and the table is
  -- built here, where the JIT compiles it; the strings come from caches
  -- filled by the C API function on first sight (so both backends give the
  -- same table, which spec/classify_spec.lua checks line by line).
  -- Anything else (tables, opts, run-time rules) goes to the C function.
  pcall(ffi.cdef, [[
typedef struct smtpcode_verdict {
int code; int cls; int subject; int detail; int severity; int reason;
int bounce; int retry; int scope; int by; int rule; int flags;
} smtpcode_verdict;
int smtpcode_classify(const char *s, size_t len, const void *f,
                    smtpcode_verdict *out);
int smtpcode_verdict_text(const smtpcode_verdict *v);
int smtpcode_verdict_by(const smtpcode_verdict *v);
]])
  local v = ffi.new("smtpcode_verdict")
  local SEVN = { [0] = "unknown", [2] = "success", [3] = "intermediate",
    [4] = "transient", [5] = "permanent" }
  local RN, SN, BYN = core.reasons()
  local BOUNCE = { [1] = "soft", [2] = "hard" }
  local RETRY = { [1] = false, [2] = true }
  -- description and advice by smtpcode_verdict_text (which of them a
  -- verdict gets)
  local DESC, ADV = {}, {}
  local RULE = {}          -- rule index -> matched
  local ENH, BYK = {}, {}  -- key -> "5.1.1"; key -> matched by a code
  -- BYK is keyed by every field a "matched" text may depend on, so
  -- distinct codes add keys: it is emptied when it reaches BYK_MAX
  -- entries (ENH holds at most 4 x 10 x 100 keys, RULE one per rule).
  local BYK_MAX, nbyk = 4096, 0

  local function enhkey() return (v.cls * 1000 + v.subject) * 1000 + v.detail end
  local function bykey()
    return ((v.by * 1000 + v.code) * 10 + v.cls) * 1000000 + v.subject * 1000 + v.detail
  end

  -- v is shared, and a call can be interrupted anywhere by a finalizer
  -- (at an allocation, or when a trace exits) that classifies again: each
  -- call counts itself in gen before it fills v, and a call that finds
  -- gen changed answers with the C API and caches nothing.
  local gen = 0

  -- the C API answer for x, and every string it names, into the caches
  -- (codes with a subject over 9 or a detail over 99 are not kept: rare,
  -- and too many), unless v may belong to another call (gen ~= my).
  local function learn(x, into, my)
    if v.subject > 9 or v.detail > 99 then return cclassify(x, nil, into) end
    local ek, bk, by, rule = nil, bykey(), v.by, v.rule
    if v.cls ~= 0 then ek = enhkey() end
    local vt = C.smtpcode_verdict_text(v)
    if gen ~= my then return cclassify(x, nil, into) end -- the keys may be another's
    local r = cclassify(x, nil, into)
    if ek then ENH[ek] = rawget(r, "enhanced") end
    if by == 1 then
      RULE[rule] = rawget(r, "matched")
    else
      if BYK[bk] == nil then
        if nbyk >= BYK_MAX then BYK, nbyk = {}, 0 end
        nbyk = nbyk + 1
      end
      BYK[bk] = rawget(r, "matched")
    end
    DESC[vt], ADV[vt] = rawget(r, "description"), rawget(r, "advice")
    return r
  end

  impl.classify = function(x, opts, into)
    if type(x) ~= "string" or opts ~= nil or hooked then
      return cclassify(x, opts, into)
    end
    if into ~= nil and type(into) ~= "table" then return cclassify(x, opts, into) end
    local my = gen + 1
    gen = my
    C.smtpcode_classify(x, #x, nil, v)
    local enh, matched = nil
    if v.cls ~= 0 then
      enh = ENH[enhkey()]
      if enh == nil then return learn(x, into, my) end
    end
    if v.by == 1 then matched = RULE[v.rule] else matched = BYK[bykey()] end
    local t = C.smtpcode_verdict_text(v)
    local desc, adv = DESC[t], ADV[t]
    if desc == nil or adv == nil
        or (matched == nil and (v.by ~= 0 or v.code ~= 0 or v.cls ~= 0)) then
      return learn(x, into, my)
    end
    local code = v.code
    if code == 0 then code = nil end
    local reason, scope = nil, nil
    if v.reason ~= 0 then reason, scope = RN[v.reason], SN[v.scope] end
    local by = BYN[C.smtpcode_verdict_by(v)]
    local flags = v.flags
    local mismatch = flags % 2 == 1 or nil
    local truncated = floor(flags / 2) % 2 == 1 or nil
    local delayed = floor(flags / 8) % 2 == 1 or nil
    if into == nil then
      local r = { code = code, enhanced = enh, severity = SEVN[v.severity] or "unknown",
        reason = reason, scope = scope, bounce = BOUNCE[v.bounce],
        retry = RETRY[v.retry], description = desc, advice = adv,
        matched = matched, by = by, mismatch = mismatch, truncated = truncated,
        delayed = delayed }
      if gen ~= my then return cclassify(x, nil, nil) end
      return r
    end
    rawset(into, "code", code)
    rawset(into, "enhanced", enh)
    rawset(into, "severity", SEVN[v.severity] or "unknown")
    rawset(into, "reason", reason)
    rawset(into, "scope", scope)
    rawset(into, "bounce", BOUNCE[v.bounce])
    rawset(into, "retry", RETRY[v.retry])
    rawset(into, "description", desc)
    rawset(into, "advice", adv)
    rawset(into, "matched", matched)
    rawset(into, "by", by)
    rawset(into, "mismatch", mismatch)
    rawset(into, "truncated", truncated)
    rawset(into, "delayed", delayed)
    if gen ~= my then return cclassify(x, nil, into) end
    return into
  end
  return impl
end

return _M
