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
local rawget, rawset, getmetatable = rawget, rawset, getmetatable
-- LuaJIT built with LUA52COMPAT honours __len on tables and has rawlen;
-- elsewhere # on a table is raw (the length the C API's lua_objlen gives)
local rawlen = rawget(_G, "rawlen")
local floor = math.floor
local concat = table.concat
local sub = string.sub
local format = string.format
local getenv = os.getenv

local M = {
  _VERSION = core._VERSION,
  _core = core,
}

-- s for an error message: its first 40 bytes, bytes outside printable
-- ASCII (and the quote and backslash) as \ddd, "..." when cut.
local function escaped(s)
  local q = string.gsub(sub(s, 1, 40), ".", function(c)
    local b = string.byte(c)
    if b < 32 or b > 126 or b == 39 or b == 92 then return format("\\%03d", b) end
  end)
  if #s > 40 then q = q .. "..." end
  return q
end

-- any value for an error message: a string escaped, else its tostring
local function shown(v)
  if type(v) == "string" then return escaped(v) end
  return tostring(v)
end

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

  return { parse = parse, scan = scan, ffi = ffi, C = C }
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
  M.classify = impl.classify
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

-- Conversations: reader, read_reply and format, in
-- lua/smtpcode/stream.lua over the C core (src/stream.c).
do
  local stream = require "smtpcode.stream"
  stream._front = M
  M.reader, M.read_reply, M.format = stream.reader, stream.read_reply, stream.format
end


-- explain(x): a short text for a person and the classify table
-- it used. Pure Lua in lua/smtpcode/explain.lua, loaded on first use.
function M.explain(x)
  return require("smtpcode.explain").explain(x)
end

-- {======================================================
-- classify: classify(x [, opts]), add_rule(r), clear_rules()
-- The built-in rules are compiled into the C core (data/rules.tsv). Rules
-- added at run time are plain substring tests over the lower-cased text,
-- tried in the order they were added, before the built-in ones; the first
-- that holds gives the reason (and scope), the C core recomputes bounce and
-- retry. opts.user_rules = false skips them.
-- =======================================================

do
  local cclassify = core.classify
  local lower, sfind, gmatch = string.lower, string.find, string.gmatch
  local ipairs, tonumber = ipairs, tonumber
  local REASON, SCOPE = {}, {}
  do
    local rs, ss = core.reasons()
    for _, r in ipairs(rs) do REASON[r] = true end
    for _, s in ipairs(ss) do SCOPE[s] = true end
  end
  local urules = {}
  local hooked = false -- rules were added: the C function calls the hook
  local MAX_CLASSIFY = core._constants.MAX_CLASSIFY
  -- at most this many run-time rules: each costs a pass over the text of
  -- every failure classified
  local MAX_RULES = 1000

  local function argerror(n, fname, msg)
    error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
  end

  -- near = n: each later phrase starts within n words of the one before,
  -- in the same sentence (as "a ~ b" in data/rules.tsv): looked for in
  -- the 64 bytes after it only, so the work stays linear in the text.
  local function gapok(gap, n)
    if sfind(gap, "[\r\n]") or sfind(gap, "[%.;!?][ \t]") then
      return false
    end
    local words = 0
    for _ in gmatch(gap, "[^ \t]+") do words = words + 1 end
    return words <= n
  end

  local function holdsnear(u, low)
    local ph, n = u.phrases, u.near
    local start = 1
    while true do
      local a, b = sfind(low, ph[1], start, true)
      if not a then return false end
      local pos, ok = b + 1, true
      for k = 2, #ph do
        local w = sub(low, pos, pos + 63 + #ph[k])
        local c, d = sfind(w, ph[k], 1, true)
        if not c or not gapok(sub(w, 1, c - 1), n) then ok = false break end
        pos = pos + d
      end
      if ok then return true end
      start = a + 1
    end
  end

  local function holds(u, low, r)
    if u.code and r.code ~= u.code then return false end
    if u.class then
      local c = r.code and floor(r.code / 100)
      if not c and r.enhanced then c = tonumber(sub(r.enhanced, 1, 1)) end
      if c ~= u.class then return false end
    end
    if u.near then return holdsnear(u, low) end
    local pos = 1
    for _, p in ipairs(u.phrases) do
      local a, b = sfind(low, p, pos, true)
      if not a then return false end
      pos = b + 1
    end
    return true
  end

  -- The user rules, tried on a classify result r of a failure: the answer
  -- of the first that holds, or r. The C core calls this hook only while
  -- rules exist (core._set_hook), so classify costs nothing more without.
  local function hook(x, _, into, r) -- (x, opts, into, result)
    local text = x
    if type(x) == "table" then text = rawget(x, "text") end
    if type(text) ~= "string" then return r end
    -- the same prefix the built-in rules read (SMTPCODE_MAX_CLASSIFY)
    if #text > MAX_CLASSIFY then text = sub(text, 1, MAX_CLASSIFY) end
    local low = lower(text)
    for i, u in ipairs(urules) do
      if holds(u, low, r) then
        return cclassify(x, { reason = u.reason, scope = u.scope,
          matched = format("user rule %d: %q", i, u.label) }, into)
      end
    end
    return r
  end

  --- classify(x [, opts [, into]]): why a reply failed. x is a text (log
  -- line, exception message, reply) or a parse/find result table. `into`:
  -- a table to fill and return instead of a new one (hot loops). The C
  -- API backend is the C function itself, argument checks included.
  capi.classify = cclassify

  -- The FFI backend (LuaJIT): a text without opts is classified by the
  -- exported C function into a reused verdict struct and the table is
  -- built here, where the JIT compiles it; the strings come from caches
  -- filled by the C API function on first sight (so both backends give the
  -- same table, which spec/classify_spec.lua checks line by line).
  -- Anything else (tables, opts, run-time rules) goes to the C function.
  if ffiimpl then
    local ffi, C = ffiimpl.ffi, ffiimpl.C
    pcall(ffi.cdef, [[
typedef struct smtpcode_verdict {
  int code; int cls; int subject; int detail; int severity; int reason;
  int bounce; int retry; int scope; int by; int rule; int flags;
} smtpcode_verdict;
int smtpcode_classify(const char *s, size_t len, const void *f,
                      smtpcode_verdict *out);
int smtpcode_verdict_text(const smtpcode_verdict *v);
]])
    local v = ffi.new("smtpcode_verdict")
    local SEVN = { [0] = "unknown", [2] = "success", [3] = "intermediate",
      [4] = "transient", [5] = "permanent" }
    local RN, SN = core.reasons()
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

    ffiimpl.classify = function(x, opts, into)
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
      local flags = v.flags
      local mismatch = flags % 2 == 1 or nil
      local truncated = floor(flags / 2) % 2 == 1 or nil
      local delayed = floor(flags / 8) % 2 == 1 or nil
      if into == nil then
        local r = { code = code, enhanced = enh, severity = SEVN[v.severity] or "unknown",
          reason = reason, scope = scope, bounce = BOUNCE[v.bounce],
          retry = RETRY[v.retry], description = desc, advice = adv,
          matched = matched, mismatch = mismatch, truncated = truncated,
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
      rawset(into, "mismatch", mismatch)
      rawset(into, "truncated", truncated)
      rawset(into, "delayed", delayed)
      if gen ~= my then return cclassify(x, nil, into) end
      return into
    end
  end
  M._set_backend(M._BACKEND) -- classify of the backend in use

  --- add_rule{ reason = "blocklisted", match = "phrase" | {"a", "b"},
  -- code = 550?, class = 5?, scope = "destination"?, near = 5? }: a
  -- run-time rule that takes precedence over the built-in ones (near: each
  -- later phrase within that many words of the one before, in the same
  -- sentence, like "a ~ b" in data/rules.tsv). Returns its number.
  function M.add_rule(t)
    if type(t) ~= "table" then
      argerror(1, "add_rule", "table expected, got " .. type(t))
    end
    -- read raw, as every table passed in
    local reason, m, code = rawget(t, "reason"), rawget(t, "match"), rawget(t, "code")
    local class, scope = rawget(t, "class"), rawget(t, "scope")
    local near = rawget(t, "near")
    if type(reason) ~= "string" or not REASON[reason] then
      argerror(1, "add_rule", "reason must be one of the reasons, got " .. shown(reason))
    end
    local phrases = {}
    if type(m) == "string" then m = { m } end
    if type(m) ~= "table" or rawget(m, 1) == nil then
      argerror(1, "add_rule", "match must be a string or a list of strings")
    end
    local i = 1
    while true do
      local p = rawget(m, i)
      if p == nil then break end
      if type(p) ~= "string" or p == "" then
        argerror(1, "add_rule", "match must be a string or a list of strings")
      end
      phrases[i] = lower(p)
      i = i + 1
    end
    if code ~= nil and (type(code) ~= "number" or code % 1 ~= 0
        or code < 200 or code > 599) then
      argerror(1, "add_rule", "code must be a reply code (200-599)")
    end
    if class ~= nil and class ~= 4 and class ~= 5 then
      argerror(1, "add_rule", "class must be 4 or 5")
    end
    if scope ~= nil and (type(scope) ~= "string" or not SCOPE[scope]) then
      argerror(1, "add_rule", "scope must be one of the scopes, got " .. shown(scope))
    end
    if near ~= nil and (type(near) ~= "number" or near % 1 ~= 0
        or near < 0 or near > 20) then
      argerror(1, "add_rule", "near must be a number of words (0-20)")
    end
    local n = #urules + 1
    if n > MAX_RULES then
      argerror(1, "add_rule", format("too many rules (at most %d; clear_rules drops them)",
        MAX_RULES))
    end
    urules[n] = { reason = reason, scope = scope, code = code,
      class = class, phrases = phrases, near = near,
      label = concat(phrases, near and " ~ " or " && ") }
    core._set_hook(hook)
    hooked = true
    return n
  end

  --- clear_rules(): drop every rule added with add_rule.
  function M.clear_rules()
    urules = {}
    core._set_hook(nil)
    hooked = false
  end
end

-- }======================================================

-- find(text): the reply code and enhanced status code in free text (log
-- lines, exception messages, DSN fields), or nil. C API only: it returns
-- a table either way, so the FFI would not save the allocation.
M.find = core.find
-- bounce(message [, opts]) (issue 13): a whole bounce message, read by the C
-- core (src/bounce.c); the C API function on every backend.
M.bounce = core.bounce

-- reasons(): the record of every reason of classify, in the reasons' order
-- (data/reasons.tsv, compiled into the core): a new table at each call.
M.reasons = core.reason_records

-- {======================================================
-- Registry (what every code means): describe(x) and codes(kind)
-- The tables come from the C core at each call (one source of truth).
-- =======================================================

do
  local match = string.match
  local tonumber, ipairs, pairs = tonumber, ipairs, pairs

  local SEVERITY = { [2] = "success", [3] = "intermediate", [4] = "transient",
    [5] = "permanent" }

  local function part(e, code)
    if not e then return nil end
    return { code = code or e.code, title = e.title, description = e.description,
      references = e.references, control = e.control }
  end

  local function notes_of(list)
    local out = {}
    for i, n in ipairs(list) do
      out[i] = { provider = n.provider, code = n.code, meaning = n.description,
        example = n.example, source = n.source }
    end
    return out
  end

  local function reply_table(code)
    if code < 200 or code > 599 then
      return nil, "not an SMTP reply code (200-599)", "syntax"
    end
    local d1, d2 = floor(code / 100), floor(code / 10) % 10
    local first, second = core.reply_digit(1, d1), core.reply_digit(2, d2)
    local e = core.reply_info(code)
    local t = {
      kind = "reply", code = format("%d", code), severity = SEVERITY[d1],
      class = part(first, d1 .. "yz"), subject = part(second, "x" .. d2 .. "z"),
      notes = notes_of(core.notes(code, nil, -1, -1)),
    }
    if e then
      t.title, t.description, t.references = e.title, e.description, e.references
      t.standard, t.commands, t.emitted_by = e.standard, e.commands, e.emitted_by
      t.remarks = e.remarks
      local i, uses = 1, {}
      while true do
        local a = core.reply_alt(code, i)
        if not a then break end
        uses[i] = { title = a.title, description = a.description,
          references = a.references, standard = a.standard, commands = a.commands,
          remarks = a.remarks }
        i = i + 1
      end
      t.other_uses = uses
    else
      t.fallback = true
      t.fallback_code = d1 .. "yz"
      t.title = first.title
      t.description = format("%d is not a known reply code; it is described by " ..
        "its first digit: %s", code, first.description)
      t.references = first.references
      t.standard = "non-standard"
      t.other_uses = {}
    end
    return t
  end

  local function enhanced_table(cls, subject, detail)
    local code = (cls == 0 and "X" or tostring(cls)) .. "." .. subject .. "." .. detail
    local e, fb = core.enhanced_info(cls, subject, detail)
    if not e then
      return nil, code .. " is not a known enhanced status code", "unknown"
    end
    local t = {
      kind = "enhanced", code = code, severity = SEVERITY[cls],
      class = part(core.class_info(cls)), subject = part(core.subject_info(subject)),
      notes = notes_of(core.notes(nil, cls, subject, detail)),
    }
    if fb == nil then
      t.title, t.description, t.references = e.title, e.description, e.references
      t.standard, t.basic_codes, t.class_note = e.standard, e.basic_codes, e.class_note
      t.remarks = e.remarks
    else
      t.fallback = true
      t.fallback_code = e.code
      t.title = e.title
      t.references = "RFC 3463 §2"
      t.standard = "non-standard"
      if fb == "subject" then
        t.description = format("%s is not in the registry; it is described by its " ..
          "subject (%s): %s", code, e.code, e.description)
      else
        t.description = format("%s is not in the registry and its subject is " ..
          "unknown; it is described by its class (%s): %s", code, e.code, e.description)
      end
    end
    return t
  end

  -- Top level of a whole reply: the pair when it is a known common pair,
  -- else the enhanced code, else the reply code; both codes in sub-tables.
  local function reply_with_enhanced(code, cls, subject, detail, text)
    local r, msg, err = reply_table(code)
    if not r then return nil, msg, err end
    local en = nil
    if cls then en = enhanced_table(cls, subject, detail) end
    local t = {}
    local p = en and core.pair_info(code, cls, subject, detail)
    if p then
      t.kind, t.code, t.title, t.description = "pair", p.code, p.title, p.description
      t.references, t.standard, t.remarks = p.references, p.standard, p.remarks
      t.severity, t.class, t.subject = r.severity, en.class, en.subject
    else
      for k, v in pairs(en or r) do t[k] = v end
    end
    local notes = {}
    for _, n in ipairs(r.notes) do notes[#notes + 1] = n end
    if en then for _, n in ipairs(en.notes) do notes[#notes + 1] = n end end
    t.notes = notes
    t.reply, t.enhanced, t.text = r, en, text
    if en and cls ~= floor(code / 100) then t.mismatch = true end
    return t
  end

  -- The core checks the syntax; "X" (any class) is checked as class 2.
  local function parse_enhanced(s)
    local rest = match(s, "^[Xx](%..*)$")
    if rest then
      local c, sb, d = core.status("2" .. rest)
      if not c then return nil end
      return 0, sb, d
    end
    return core.status(s)
  end

  local NOTCODE = "not an SMTP reply code or enhanced status code"

  -- Trim blanks in linear time (the pattern "^%s*(.-)%s*$" is quadratic on
  -- long runs of blanks) and look at no more than a reply can hold: at
  -- most MAXREAD bytes of leading blanks are skipped (more: nil, the text
  -- holds no code there), then at most MAXREAD bytes are read.
  local sbyte, sfind = string.byte, string.find
  local MAXREAD = 65536
  local function blank(b) return b == 32 or (b >= 9 and b <= 13) end
  local function trim(x)
    local n = #x
    local a = sfind(n > MAXREAD and sub(x, 1, MAXREAD + 1) or x, "[^ \t-\r]")
    if not a then
      if n > MAXREAD then return nil end
      return ""
    end
    local b = n
    if b - a >= MAXREAD then b = a + MAXREAD - 1 end
    while b >= a and blank(sbyte(x, b)) do b = b - 1 end
    return sub(x, a, b)
  end

  --- Describe a reply code (550, "550"), an enhanced code ("5.1.1",
  -- "X.1.1"), a whole reply ("550 5.1.1 User unknown") or a text holding
  -- one (a log line, "smtp error [221] 2.0.0 bye": found as find does).
  -- Returns a table (see docs/codes.md), or nil, message, code with code
  -- "syntax" (not a code) or "unknown" (an enhanced code with nothing known).
  function M.describe(x)
    local tx = type(x)
    if tx == "number" then
      if x ~= floor(x) then return nil, NOTCODE, "syntax" end
      return reply_table(x)
    end
    if tx ~= "string" then
      error(format("bad argument #1 to 'describe' (string expected, got %s)", tx), 0)
    end
    local s = trim(x)
    if not s then return nil, NOTCODE, "syntax" end
    if match(s, "^%d%d%d$") then return reply_table(tonumber(s)) end
    if match(s, "^[%dXx]+%.%d+%.%d+$") then
      local c, sb, d = parse_enhanced(s)
      if not c then return nil, NOTCODE, "syntax" end
      return enhanced_table(c, sb, d)
    end
    -- a log line may put the reply code in brackets: "[221] 2.0.0 bye"
    local code, rest = match(s, "^%[(%d%d%d)%]%s*(.*)$")
    if code then s = code .. " " .. rest end
    local p = core.parse(s, { lenient = true })
    if p then return reply_with_enhanced(p.code, p.class, p.subject, p.detail, p.text) end
    -- free text around a reply ("smtp error [221] 2.0.0 bye", a log line,
    -- "Diagnostic-Code: smtp; 550 ...", "Status: 5.1.1"): what find sees
    local f = core.find(s)
    if f and not f.weak then
      if f.code then
        return reply_with_enhanced(f.code, f.class, f.subject, f.detail, f.text)
      end
      return enhanced_table(f.class, f.subject, f.detail)
    end
    return nil, NOTCODE, "syntax"
  end

  local KINDS = { reply = "reply", enhanced = "enhanced", pair = "pair" }

  --- Iterate over the registry: for code, t in smtpcode.codes("reply") do.
  -- kind: "reply" (every reply code with a meaning), "enhanced" (the
  -- registry X.s.d entries) or "pair" (the common reply/enhanced pairs).
  -- Yields the code string and describe(code).
  function M.codes(kind)
    if type(kind) ~= "string" then
      error(format("bad argument #1 to 'codes' (string expected, got %s)", type(kind)), 0)
    end
    if not KINDS[kind] then
      error(format("bad argument #1 to 'codes' (invalid kind '%s')", escaped(kind)), 0)
    end
    local i, n = 0, core.registry_count(kind)
    return function()
      i = i + 1
      if i > n then return nil end
      local e = core.registry_at(kind, i)
      local t
      if kind == "reply" then
        t = reply_table(e.reply)
      elseif kind == "enhanced" then
        t = enhanced_table(0, e.subject, e.detail)
      else
        t = M.describe(e.code)
      end
      return e.code, t
    end
  end
end

-- }======================================================

return M
