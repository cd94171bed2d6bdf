--- smtpcode.ffi: the LuaJIT FFI backend of the hot functions.
--
-- On LuaJIT with the JIT on, `scan`, `parse` and `classify` (a text, no
-- options) call the exported C functions of `smtpcode.core` through the
-- FFI; anything else goes to the C API functions of the core. The front
-- module (lua/smtpcode.lua) calls `load` once and chooses the backend;
-- users call `require "smtpcode"`, not this module.

local core = require "smtpcode.core"

local type, rawget, rawset, getmetatable = type, rawget, rawset, getmetatable
-- LuaJIT built with LUA52COMPAT honours __len on tables and has rawlen;
-- elsewhere # on a table is raw (the length the C API's lua_objlen gives)
local rawlen = rawget(_G, "rawlen")
local concat = table.concat
local sub = string.sub

local _M = {}

--- load(): the FFI implementation { parse, scan, classify, set_hooked,
-- ffi, C }, or nil and why the FFI cannot be used.
--
-- The FFI runs the hot path only: a string, no options, a reply that
-- parses (and, for parse, no into table with a metatable). Everything else
-- -- options, argument errors, failed parses and their messages, tables
-- with metatables, a call that interrupts another -- goes to the C API
-- function of smtpcode.core, which owns every check and message.
function _M.load()
  if not (jit and jit.status and jit.status()) then
    return nil, "the JIT is off"
  end
  local ok, ffi = pcall(require, "ffi")
  if not ok then return nil, "no ffi" end
  local okb, bit = pcall(require, "bit")
  if not okb then return nil, "no bit" end
  local band = bit.band
  local cast, cstring = ffi.cast, ffi.string
  local CHARP = ffi.typeof("const char *")
  local searchpath = package.searchpath
  if not searchpath then return nil, "no package.searchpath" end
  local path = searchpath("smtpcode.core", package.cpath)
  if not path then return nil, "smtpcode.core not found on package.cpath" end

  -- The structs of src/smtpcode.h; spec/ffi_layout_spec.lua checks every
  -- field against the offsets the C module reports (core._layout).
  pcall(ffi.cdef, [[
typedef struct smtpcode_line {
  int code; int cls; int subject; int detail; int flags;
  int enh_off; int enh_len; int text_off; int text_len; int length;
} smtpcode_line;
typedef struct smtpcode_reply {
  int code; int cls; int subject; int detail; int flags;
  int enh_off; int enh_len; int nlines; int length;
} smtpcode_reply;
int smtpcode_parse_line(const char *s, size_t len, const void *opts,
                        smtpcode_line *out);
int smtpcode_parse_reply(const char *s, size_t len, const void *opts,
                         smtpcode_reply *out, smtpcode_line *lines, int cap);
int smtpcode_severity_of(int code);
]])
  local okl, C = pcall(ffi.load, path)
  if not okl then return nil, C end

  local K = core._constants
  local F_CONTINUED, F_MISMATCH = K.F_CONTINUED, K.F_MISMATCH
  local F_NONSTANDARD, F_ENH_VARIES = K.F_NONSTANDARD, K.F_ENH_VARIES

  -- severity names by smtpcode_severity (the C module's strings), and by
  -- reply code 0..999 as the core's smtpcode_severity_of gives it
  local SEVN = core._severity_names
  local SEV = {}
  for c = 0, 999 do SEV[c] = SEVN[C.smtpcode_severity_of(c)] end

  local STACK = 16
  local line = ffi.new("smtpcode_line")
  local reply = ffi.new("smtpcode_reply")
  local lines = ffi.new("smtpcode_line[?]", STACK)

  -- The structs above are shared by the calls of scan (line) and of parse
  -- (reply, lines). A call can be interrupted anywhere by a finalizer (the
  -- collector runs them at allocations and when a trace exits), and the
  -- finalizer may call scan or parse again: scan reads its struct before
  -- anything can interrupt it; a parse that starts while another holds
  -- the structs (busy) goes to the C API.
  local capiscan, capiparse = core.scan, core.parse

  -- A failed parse answers nil, message, name; the C API writes them, and
  -- they are kept here by status and line number, all that its messages
  -- depend on (spec/differential_spec.lua compares both backends' answers
  -- on random text), at most CACHE_MAX of them.
  local CACHE_MAX = 4096
  local ERRM, ERRN, nerr = {}, {}, 0
  local function failed(f, status, at, s, into)
    local key = status * 16777216 - at
    local msg = ERRM[key]
    if msg ~= nil then return nil, msg, ERRN[key] end
    local r, m, name = f(s, nil, into)
    if r == nil and type(m) == "string" then
      if nerr >= CACHE_MAX then ERRM, ERRN, nerr = {}, {}, 0 end
      nerr = nerr + 1
      ERRM[key], ERRN[key] = m, name
    end
    return r, m, name
  end

  local function scan(s, opts)
    if opts ~= nil or type(s) ~= "string" then return capiscan(s, opts) end
    local st = C.smtpcode_parse_line(s, #s, nil, line)
    -- The struct is read at once, before anything can leave a trace or
    -- allocate: a trace exit in the finalize phase runs the collector (and
    -- finalizers) where it happens, and a finalizer may scan again.
    local code, el, to, tl = line.code, line.enh_len, line.text_off, line.text_len
    local cont = band(line.flags, F_CONTINUED) ~= 0
    if st < 0 then return failed(capiscan, st, 1, s) end
    -- the strings are copied from the core's spans (string.sub would check
    -- again bounds the core has kept)
    local p = cast(CHARP, s)
    local text = cstring(p + to, tl)
    local enh = nil
    -- without options (strict) the enhanced code follows "ddd " at once
    if el ~= 0 then enh = cstring(p + 4, el) end
    -- never true: s is live up to here, so a trace exit above, where the
    -- collector may run, keeps it and the bytes p points into
    if text == s then return capiscan(s) end
    return code, SEV[code], enh, text, cont
  end

  local busy = false

  local function parse(s, opts, into)
    if busy or opts ~= nil or type(s) ~= "string" then return capiparse(s, opts, into) end
    local ls
    if into ~= nil then
      if type(into) ~= "table" or getmetatable(into) ~= nil then
        return capiparse(s, nil, into)
      end
      ls = rawget(into, "lines")
      if type(ls) == "table" then
        if getmetatable(ls) ~= nil then return capiparse(s, nil, into) end
      else
        ls = nil
      end
    end
    busy = true -- until the shared structs are read
    local buf = lines
    local r = C.smtpcode_parse_reply(s, #s, nil, reply, buf, STACK)
    local n = reply.nlines
    if r < 0 then
      busy = false
      return failed(capiparse, r, n, s, into)
    end
    if n > STACK then
      buf = ffi.new("smtpcode_line[?]", n)
      r = C.smtpcode_parse_reply(s, #s, nil, reply, buf, n)
    end
    local code, cls, flags = reply.code, reply.cls, reply.flags
    local enh, subj, det = nil, nil, nil
    if cls ~= 0 then
      enh = sub(s, reply.enh_off + 1, reply.enh_off + reply.enh_len)
      subj, det = reply.subject, reply.detail
    else
      cls = nil
    end
    local mismatch = band(flags, F_MISMATCH) ~= 0 or nil
    local nonstd = band(flags, F_NONSTANDARD) ~= 0 or nil
    local varies = band(flags, F_ENH_VARIES) ~= 0 or nil
    local t = into
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
      if ls == nil then
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
    local len
    if rawlen then len = rawlen(ls) else len = #ls end
    for i = n + 1, len do ls[i] = nil end
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
  local RN, SN, BYN = core.reasons()
  local BOUNCE = core._bounce_names
  local RETRY = { [K.RETRY_NO] = false, [K.RETRY_YES] = true }
  local BY_TEXT, BY_NONE = K.BY_TEXT, K.BY_NONE
  local V_MISMATCH, V_TRUNCATED, V_DELAYED = K.V_MISMATCH, K.V_TRUNCATED, K.V_DELAYED
  -- description and advice by smtpcode_verdict_text (which of them a
  -- verdict gets)
  local DESC, ADV = {}, {}
  local RULE = {}          -- rule index -> matched
  local ENH, BYK = {}, {}  -- key -> "5.1.1"; key -> matched by a code
  -- ENH and BYK are keyed by the fields their texts depend on, so distinct
  -- codes add keys: each is emptied when it reaches CACHE_MAX entries
  -- (RULE holds one per rule).
  local nenh, nbyk = 0, 0

  -- v is shared, and a call can be interrupted anywhere by a finalizer
  -- (at an allocation, or when a trace exits) that classifies again: each
  -- call counts itself in gen before it fills v, and a call that finds
  -- gen changed answers with the C API and caches nothing.
  local gen = 0

  -- the C API answer for x, and every string it names, into the caches
  -- (ek, bk: the keys of the verdict's enhanced code and of its matched
  -- text), unless v may belong to another call (gen ~= my).
  local function learn(x, into, my, ek, bk)
    local cls, by, rule = v.cls, v.by, v.rule
    local vt = C.smtpcode_verdict_text(v)
    if gen ~= my then return cclassify(x, nil, into) end -- the keys may be another's
    local r = cclassify(x, nil, into)
    if cls ~= 0 then
      if ENH[ek] == nil then
        if nenh >= CACHE_MAX then ENH, nenh = {}, 0 end
        nenh = nenh + 1
      end
      ENH[ek] = rawget(r, "enhanced")
    end
    if by == BY_TEXT then
      RULE[rule] = rawget(r, "matched")
    else
      if BYK[bk] == nil then
        if nbyk >= CACHE_MAX then BYK, nbyk = {}, 0 end
        nbyk = nbyk + 1
      end
      BYK[bk] = rawget(r, "matched")
    end
    DESC[vt], ADV[vt] = rawget(r, "description"), rawget(r, "advice")
    return r
  end

  -- classify's fields in a new table, from a tail call (as fill, below)
  local function fresh(enh, desc, adv, matched, byname, x, my)
    local code, reason, scope, flags = v.code, nil, nil, v.flags
    if code == 0 then code = nil end
    if v.reason ~= 0 then reason, scope = RN[v.reason], SN[v.scope] end
    local r = { code = code, enhanced = enh, severity = SEVN[v.severity],
      reason = reason, scope = scope, bounce = BOUNCE[v.bounce], retry = RETRY[v.retry],
      description = desc, advice = adv, matched = matched, by = byname }
    if flags ~= 0 then
      if band(flags, V_MISMATCH) ~= 0 then r.mismatch = true end
      if band(flags, V_TRUNCATED) ~= 0 then r.truncated = true end
      if band(flags, V_DELAYED) ~= 0 then r.delayed = true end
    end
    if gen ~= my then return cclassify(x, nil, nil) end
    return r
  end

  -- classify's fields into the caller's table, from a tail call: the
  -- caller's many values are not live at this function's branches (their
  -- side traces aborted, NYI "register coalescing too complex")
  local function fill(into, enh, desc, adv, matched, byname, x, my)
    local code, reason, scope, flags = v.code, nil, nil, v.flags
    if code == 0 then code = nil end
    if v.reason ~= 0 then reason, scope = RN[v.reason], SN[v.scope] end
    rawset(into, "code", code)
    rawset(into, "enhanced", enh)
    rawset(into, "severity", SEVN[v.severity])
    rawset(into, "reason", reason)
    rawset(into, "scope", scope)
    rawset(into, "bounce", BOUNCE[v.bounce])
    rawset(into, "retry", RETRY[v.retry])
    rawset(into, "description", desc)
    rawset(into, "advice", adv)
    rawset(into, "matched", matched)
    rawset(into, "by", byname)
    rawset(into, "mismatch", band(flags, V_MISMATCH) ~= 0 or nil)
    rawset(into, "truncated", band(flags, V_TRUNCATED) ~= 0 or nil)
    rawset(into, "delayed", band(flags, V_DELAYED) ~= 0 or nil)
    if gen ~= my then return cclassify(x, nil, into) end
    return into
  end

  impl.classify = function(x, opts, into)
    if type(x) ~= "string" or opts ~= nil or hooked then
      return cclassify(x, opts, into)
    end
    if into ~= nil and type(into) ~= "table" then return cclassify(x, opts, into) end
    local my = gen + 1
    gen = my
    C.smtpcode_classify(x, #x, nil, v)
    -- (the other C calls first, while few values are live: a trace with
    -- many across a call aborts, NYI "register coalescing too complex")
    local t, byname = C.smtpcode_verdict_text(v), BYN[C.smtpcode_verdict_by(v)]
    local code, cls, subj, det, by = v.code, v.cls, v.subject, v.detail, v.by
    local ek = (cls * 1000 + subj) * 1000 + det
    local bk = ((by * 1000 + code) * 10 + cls) * 1000000 + subj * 1000 + det
    local enh, matched = nil
    if cls ~= 0 then
      enh = ENH[ek]
      if enh == nil then return learn(x, into, my, ek, bk) end
    end
    if by == BY_TEXT then matched = RULE[v.rule] else matched = BYK[bk] end
    local desc, adv = DESC[t], ADV[t]
    if desc == nil or adv == nil
        or (matched == nil and (by ~= BY_NONE or code ~= 0 or cls ~= 0)) then
      return learn(x, into, my, ek, bk)
    end
    if into == nil then return fresh(enh, desc, adv, matched, byname, x, my) end
    return fill(into, enh, desc, adv, matched, byname, x, my)
  end
  return impl
end

return _M
