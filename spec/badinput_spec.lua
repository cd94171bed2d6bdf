-- Bad-input catalogue: every public function of `smtpcode` (and of
-- `smtpcode.retry`) gets every Lua type in every argument and a set of
-- hostile strings and option tables, on every backend. Each call must
-- either return normally (a value, or nil + message + code string) or
-- raise "bad argument #<i> to '<name>' (...)"; nothing else may happen.
--
-- SIGS lists, per function, the Lua types each argument accepts and a
-- valid value for it. A public function missing from SIGS fails the spec:
-- add it here when you add it to the module.

local smtpcode = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local type, pcall, tostring = type, pcall, tostring
local pairs, ipairs = pairs, ipairs
local rep, format, char = string.rep, string.format, string.char
local sort, concat = table.sort, table.concat
local unpack = table.unpack or unpack

local okretry, retry = pcall(require, "smtpcode.retry")
if not okretry then retry = nil end

local REPLY = "550-5.1.1 first line\r\n550 5.1.1 <u@example.com> User unknown\r\n"
local LINE = "550 5.1.1 <u@example.com> User unknown\r\n"

-- { accepted types of arg 1, of arg 2, ... }, valid args
local SIGS = {
  parse = { { "string" }, { "nil", "table" }, { "nil", "table" }, good = { REPLY } },
  scan = { { "string" }, { "nil", "table" }, good = { LINE } },
  status = { { "string" }, good = { "5.7.26" } },
  -- find returns a bare nil when the text holds no code (documented)
  find = { { "string" }, good = { "host said: " .. LINE }, bare_nil = true },
  describe = { { "string", "number" }, good = { "550 5.1.1 User unknown" } },
  codes = { { "string" }, good = { "reply" } },
  classify = { { "string", "table" }, { "nil", "table" }, good = { LINE } },
  explain = { { "string", "table" }, good = { LINE } },
  add_rule = { { "table" }, good = { { reason = "blocklisted", match = "listed at" } } },
  clear_rules = { good = {} },
  reasons = { good = {} },
  -- conversations: the socket is any value with a receive method
  reader = { { "nil", "table" }, good = {} },
  read_reply = { { "table", "userdata" }, { "nil", "table" },
    good = { { receive = function() return nil, "closed", "" end } } },
  format = { { "number" }, { "nil", "string" }, { "string" }, { "nil", "table" },
    good = { 550, "5.1.1", "User unknown" } },
  bounce = { { "string" }, { "nil", "table" }, good = { "Content-Type: multipart/report; boundary=b\r\n\r\n"
    .. "--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\n"
    .. "Action: failed\r\nStatus: 5.1.1\r\n--b--\r\n" } },
}

local RETRY_SIGS = {
  policy = { { "nil", "table" }, good = {} },
  memory_store = { { "nil", "table" }, good = {} },
  tracker = { { "nil", "table" }, good = {} },
  shdict_store = { { "table", "userdata" }, { "nil", "table" },
    good = { { get = function() end, incr = function() end } } },
  redis_store = { { "table", "userdata", "function" }, { "nil", "table" },
    good = { function() return nil, "down" end, { log = function() end } } },
}

-- Methods of the objects retry hands out (self excluded from the numbers).
local ALL = { "nil", "boolean", "number", "string", "table", "function", "userdata", "thread" }
local METHOD_SIGS = {
  policy = {
    decide = { { "string", "table" }, { "nil", "table" },
      good = { LINE, { attempts = 1, first_attempt = 0, now = 0 } } },
    delay = { ALL, ALL, ALL, good = { "user_unknown", 2, 0.5 } },
    delays = { ALL, ALL, good = { "user_unknown", 3 } },
  },
  tracker = {
    pause = { { "string" }, { "nil", "number" }, good = { "example.net", 0 } },
    record = { { "string" }, { "table" }, { "nil", "number" },
      good = { "example.net", { action = "retry", reason = "rate_limited",
        scope = "destination" }, 0 } },
    failures = { { "string" }, good = { "example.net" } },
    pause_many = { { "table" }, { "nil", "number" }, good = { { "example.net" }, 0 } },
  },
}

-- one value of every Lua type (and awkward numbers)
local co = coroutine.create(function() end)
local TYPED = {
  { "nil", nil }, { "boolean", true }, { "boolean", false },
  { "number", 0 }, { "number", -1 }, { "number", 1.5 }, { "number", 2 ^ 53 },
  { "number", 0 / 0 }, { "number", math.huge }, { "number", -math.huge },
  { "string", "" }, { "table", {} }, { "table", { 1, 2, 3 } },
  { "function", print }, { "userdata", io.stdout }, { "thread", co },
}

-- hostile strings, built once
local MB = 1024 * 1024
local HOSTILE = {
  { "empty", "" },
  { "NUL", "\0" },
  { "NUL in the code", "5\0000 5.1.1 x\r\n" },
  { "NUL in the text", "550 5.1.1 a\0b\r\n" },
  { "NUL before CRLF", "550 5.1.1 x\0\r\n" },
  { "invalid UTF-8", "550 5.1.1 \255\254\192\128 \237\160\128 \244\144\128\128\r\n" },
  { "invalid UTF-8 only", "\255\255\192" },
  { "CR-only lines", "250-a\r250-b\r250 c\r" },
  { "LF-only lines", "250-a\n250-b\n250 c\n" },
  { "bare CR", "\r" },
  { "bare LF", "\n" },
  { "blank", "   \t  " },
  { "a megabyte of digits", rep("5", MB) },
  { "a megabyte of dots", rep(".", MB) },
  { "a megabyte of 5.1.1", rep("5.1.1 ", 174763) },
  { "a megabyte of 550- lines without an end", rep("550-\r\n", 174763) },
  { "a megabyte of 550-5.1.1 lines without an end", rep("550-5.1.1 x\r\n", 87382) },
  { "a line 10 times the line limit", "550 " .. rep("x", 81920) .. "\r\n" },
  { "a one-megabyte line", "550 5.1.1 " .. rep("x", MB) .. "\r\n" },
  { "a 100,000-line reply", rep("250-ok\r\n", 99999) .. "250 ok\r\n" },
  { "100,000 short lines without codes", rep("x\n", 100000) },
  { "a megabyte of opening brackets", rep("([<'\"", 209716) .. "550 5.1.1 x" },
  { "a megabyte of said:", rep("said: ", 174763) },
}
-- a NUL byte at every position of a small reply
for i = 1, #REPLY do
  HOSTILE[#HOSTILE + 1] = { "NUL at byte " .. i, REPLY:sub(1, i - 1) .. "\0" .. REPLY:sub(i + 1) }
end
-- every byte value after a code
for b = 0, 255, 17 do
  HOSTILE[#HOSTILE + 1] = { "byte " .. b .. " after the code", "550" .. char(b) .. "5.1.1 x\r\n" }
end

-- hostile option tables
local HOSTILE_TABLES = {
  {}, { lenient = true }, { lenient = "yes" }, { max_line = 0 }, { max_line = -1 },
  { max_line = 0 / 0 }, { max_line = math.huge }, { max_line = 2 ^ 40 },
  { max_line = "10" }, { max_lines = 1 }, { max_reply = 1 }, { max_reply = {} },
  { reason = "no_such_reason" }, { reason = 1 }, { scope = {} }, { lines = "x" },
  { lines = { "old", "lines", "to", "overwrite" }, text = 1 },
}

local function typename(v)
  return type(v)
end

local function accepts(list, t)
  for _, a in ipairs(list) do
    if a == t then return true end
  end
  return false
end

-- A call that runs more than BUDGET Lua VM instructions is taken for a
-- hang (count hook; the JIT is off meanwhile so the hook always fires).
local BUDGET = 20000000
local function guarded(f, ...)
  local jitmod = rawget(_G, "jit")
  if jitmod then jitmod.off() end
  debug.sethook(function()
    debug.sethook()
    error("instruction budget exceeded: a hang or runaway loop", 2)
  end, "", BUDGET)
  local res = { pcall(f, ...) }
  debug.sethook()
  if jitmod then jitmod.on() end
  return res
end

-- Call f with args[1..n]; check the outcome. Returns nil or a complaint.
local function judge(name, f, args, n, pos, must_raise, bare_nil)
  local res = guarded(f, unpack(args, 1, n))
  local ok = res[1]
  if not ok then
    local msg = tostring(res[2])
    local want = "bad argument #%d+ to '" .. name .. "'"
    if not msg:find(want) then
      return format("%s raised a non-argument error: %s", name, msg:sub(1, 200))
    end
    if pos then
      -- the argument number named is the one that was wrong
      local k = tonumber(msg:match("bad argument #(%d+)"))
      if k ~= pos then
        return format("%s: error names argument #%d, the bad one is #%d: %s", name, k, pos, msg)
      end
    end
    return nil
  end
  if must_raise then
    return format("%s accepted a %s as argument #%d", name, typename(args[pos]), pos)
  end
  local v, msg, code = res[2], res[3], res[4]
  if v == nil and not (bare_nil and msg == nil) then
    if type(msg) ~= "string" or type(code) ~= "string" then
      return format("%s returned nil, %s, %s (want nil, message, code)", name,
        tostring(msg), tostring(code))
    end
  end
  return nil
end

local function publicnames(mod)
  local names = {}
  for k, v in pairs(mod) do
    if type(v) == "function" and type(k) == "string" and k:sub(1, 1) ~= "_" then
      names[#names + 1] = k
    end
  end
  sort(names)
  return names
end

local function catalogue(mod, sigs, nameof, names)
  local problems, seen = {}, {}
  local function note(p)
    if p and not seen[p] and #problems < 30 then
      seen[p] = true
      problems[#problems + 1] = p
    end
  end

  for _, name in ipairs(names or publicnames(mod)) do
    local sig = sigs[name]
    if sig then
      local f = mod[name]
      local ename = nameof and nameof(name) or name
      local nargs = #sig
      -- every Lua type in every position
      for pos = 1, nargs do
        for _, tv in ipairs(TYPED) do
          local args = {}
          for i = 1, nargs do args[i] = sig.good[i] end
          args[pos] = tv[2]
          local must = not accepts(sig[pos], tv[1])
          note(judge(ename, f, args, nargs, pos, must, sig.bare_nil))
        end
        -- a missing argument counts as nil
        if not accepts(sig[pos], "nil") and pos == 1 then
          note(judge(ename, f, {}, 0, 1, true))
        end
      end
      -- hostile strings in every string position
      for pos = 1, nargs do
        if accepts(sig[pos], "string") and sig[pos] ~= ALL then
          for _, h in ipairs(HOSTILE) do
            local args = {}
            for i = 1, nargs do args[i] = sig.good[i] end
            args[pos] = h[2]
            local p = judge(ename, f, args, nargs, pos, false, sig.bare_nil)
            if p then note(h[1] .. ": " .. p) end
          end
        end
        if accepts(sig[pos], "table") then
          for _, t in ipairs(HOSTILE_TABLES) do
            local args = {}
            for i = 1, nargs do args[i] = sig.good[i] end
            args[pos] = t
            note(judge(ename, f, args, nargs, pos, false, sig.bare_nil))
          end
        end
      end
    end
  end
  return problems
end

local function each_backend(fn) return helper.each_backend(smtpcode, fn) end

describe("the bad-input catalogue", function()
  it("knows the argument kinds of every public function of smtpcode", function()
    local missing = {}
    for _, name in ipairs(publicnames(smtpcode)) do
      if not SIGS[name] then missing[#missing + 1] = name end
    end
    assert.are.same({}, missing,
      "add these functions to SIGS in spec/badinput_spec.lua: " .. concat(missing, ", "))
  end)

  it("knows the argument kinds of every public function of smtpcode.retry", function()
    if not retry then
      pending("smtpcode.retry is not there")
      return
    end
    local missing = {}
    for _, name in ipairs(publicnames(retry)) do
      if not RETRY_SIGS[name] then missing[#missing + 1] = name end
    end
    assert.are.same({}, missing,
      "add these functions to RETRY_SIGS in spec/badinput_spec.lua: " .. concat(missing, ", "))
  end)
end)

describe("every public function of smtpcode", function()
  it("answers every Lua type, hostile string and option table with a value, "
    .. "nil + message + code, or a clear argument error (every backend)", function()
    each_backend(function(b)
      local problems = catalogue(smtpcode, SIGS)
      if smtpcode.clear_rules then smtpcode.clear_rules() end
      assert.are.same({}, problems, "backend " .. b)
    end)
  end)
end)

describe("every public function of smtpcode.retry", function()
  it("answers every Lua type and hostile string with a value or a clear argument error",
    function()
      if not retry then
        pending("smtpcode.retry is not there")
        return
      end
      assert.are.same({}, catalogue(retry, RETRY_SIGS))
    end)
end)

describe("the methods of smtpcode.retry objects", function()
  for kind, methods in pairs(METHOD_SIGS) do
    it("of " .. kind .. " answer bad input with a value or a clear argument error", function()
      if not retry then
        pending("smtpcode.retry is not there")
        return
      end
      local obj = retry[kind]()
      local mod, names = {}, {}
      for m in pairs(methods) do
        assert.is_function(obj[m], kind .. ":" .. m)
        mod[m] = function(...) return obj[m](obj, ...) end
        names[#names + 1] = m
      end
      sort(names)
      assert.are.same({}, catalogue(mod, methods, nil, names))
    end)
  end
end)

describe("the methods of a smtpcode.reader", function()
  it("answer every Lua type and hostile chunk with replies, nil + message + code, "
    .. "or a clear argument error (every backend)", function()
    local methods = {
      feed = { { "string" }, good = { "250 ok\r\n" } },
      pending = { good = {} },
      reset = { good = {} },
    }
    each_backend(function(b)
      local r = smtpcode.reader()
      local mod, names = {}, {}
      for m in pairs(methods) do
        mod[m] = function(...) return r[m](r, ...) end
        names[#names + 1] = m
      end
      sort(names)
      assert.are.same({}, catalogue(mod, methods, nil, names), "backend " .. b)
    end)
  end)

  it("holds no more than max_reply + 1 bytes whatever it is fed", function()
    each_backend(function(b)
      for _, h in ipairs(HOSTILE) do
        local r = smtpcode.reader()
        local s = h[2]
        for i = 1, #s, 65536 do
          r:feed(s:sub(i, i + 65535))
          assert.is_true(r:pending() <= 65537, b .. ": " .. h[1])
        end
      end
    end)
  end)
end)

describe("parse", function()
  it("returns nil, message, code for every hostile reply, with a stable code", function()
    local codes = { syntax = true, incomplete = true, inconsistent = true, too_long = true }
    each_backend(function()
      for _, h in ipairs(HOSTILE) do
        local r, msg, code = smtpcode.parse(h[2])
        if r == nil then
          assert.is_string(msg, h[1])
          assert.is_true(codes[code] == true, h[1] .. ": code " .. tostring(code))
        else
          assert.is_number(r.code, h[1])
          assert.is_true(r.length <= #h[2], h[1])
        end
      end
    end)
  end)

  it("gives too_long for inputs past the default limits", function()
    each_backend(function(b)
      for _, s in ipairs {
        "550 " .. rep("x", 81920) .. "\r\n",          -- a line 10x the limit
        rep("250-ok\r\n", 99999) .. "250 ok\r\n",       -- 100,000 lines
        rep("550-5.1.1 x\r\n", 87382),                 -- no end, a megabyte
        "550 5.1.1 " .. rep("x", MB) .. "\r\n",
      } do
        local r, _, code = smtpcode.parse(s)
        assert.is_nil(r, b)
        assert.are.equal("too_long", code, b)
      end
    end)
  end)

  it("reads a 100,000-line reply when the limits allow it", function()
    local s = rep("250-ok\r\n", 99999) .. "250 last\r\n"
    each_backend(function(b)
      local r = smtpcode.parse(s, { max_lines = 100000, max_reply = #s })
      assert.is_table(r, b)
      assert.are.equal(100000, #r.lines, b)
      assert.are.equal("last", r.lines[100000], b)
      assert.are.equal(#s, r.length, b)
      local r2, _, code = smtpcode.parse(s, { max_lines = 99999, max_reply = #s })
      assert.is_nil(r2, b)
      assert.are.equal("too_long", code, b)
    end)
  end)

  it("keeps NUL bytes and invalid UTF-8 of the text as they are", function()
    each_backend(function(b)
      local r = smtpcode.parse("550 5.1.1 a\0b\255\r\n")
      assert.are.equal("a\0b\255", r.text, b)
      assert.are.equal("5.1.1", r.enhanced, b)
    end)
  end)

  it("treats a NUL inside the code as a syntax error", function()
    each_backend(function(b)
      local r, _, code = smtpcode.parse("5\0000 x\r\n")
      assert.is_nil(r, b)
      assert.are.equal("syntax", code, b)
    end)
  end)
end)

describe("scan", function()
  it("reads CR-only input as a single line and LF-only input line by line", function()
    each_backend(function(b)
      local code, _, _, _, cont = smtpcode.scan("250-a\n250 b\n")
      assert.are.equal(250, code, b)
      assert.is_true(cont, b)
      -- with CR only there is no line end: a bare CR is not one, so the
      -- whole input is one line whose text holds the CRs
      local c2, _, _, text = smtpcode.scan("250 a\r250 b\r")
      if c2 then assert.are.equal("a\r250 b", text, b) end
    end)
  end)
end)

-- {======================================================
-- Hostile input, round two: the Lua layer and the FFI backend. Each case
-- failed before its fix; each runs on every backend of every runtime.
-- =======================================================

local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local cocreate, coresume, yield = coroutine.create, coroutine.resume, coroutine.yield

-- a table whose metamethods raise: it must never be consulted
local function raising()
  return setmetatable({}, {
    __index = function(_, k) error("__index called for " .. tostring(k), 0) end,
    __newindex = function(_, k) error("__newindex called for " .. tostring(k), 0) end,
  })
end

describe("explain of a success that carries only an enhanced code", function()
  local POSTFIX = "Jan 10 12:00:01 mx postfix/local[4242]: 4ABC123: to=<u@example.com>, "
    .. "relay=local, delay=0.12, delays=0.01/0/0/0.11, dsn=2.0.0, status=sent "
    .. "(delivered to maildir)"

  it("explains it as not an error instead of raising (every backend)", function()
    each_backend(function(b)
      for _, x in ipairs { "Status: 2.0.0", POSTFIX, "dsn=2.1.5, status=sent (delivered)" } do
        local ok, text, c = pcall(smtpcode.explain, x)
        assert.is_true(ok, b .. ": " .. tostring(text))
        assert.are.equal("success", c.severity, b)
        assert.is_nil(c.code, b)
        assert.truthy(text:find("not an error", 1, true), b)
        assert.truthy(text:find("^2%.%d%.%d: "), b)
        assert.truthy(text:find("\nWhat it means: %a"), b)
      end
    end)
  end)

  it("explains the classify table of such a line the same way", function()
    each_backend(function(b)
      local c = smtpcode.classify("Status: 2.0.0")
      local t1 = smtpcode.explain(c)
      local t2 = smtpcode.explain("Status: 2.0.0")
      assert.are.equal(t2, t1, b)
    end)
  end)
end)

describe("explain of a malformed classify table", function()
  it("raises bad argument naming the field, never an internal error", function()
    local base = { severity = "permanent", description = "d", advice = "a" }
    local function with(k, v)
      local t = {}
      for kk, vv in pairs(base) do t[kk] = vv end
      t[k] = v
      return t
    end
    for _, case in ipairs {
      { "enhanced", 5 }, { "enhanced", {} }, { "enhanced", "5.1" }, { "enhanced", "5.1.1.1" },
      { "code", "550" }, { "code", 55.5 }, { "code", 1e300 }, { "code", 0 / 0 },
      { "reason", 1 }, { "retry", "yes" }, { "bounce", 2 }, { "matched", {} },
      { "severity", "bogus" },
    } do
      local ok, msg = pcall(smtpcode.explain, with(case[1], case[2]))
      assert.is_false(ok, case[1])
      assert.truthy(msg:find("^bad argument #1 to 'explain'"), msg)
      assert.truthy(msg:find("'" .. case[1] .. "'", 1, true), msg)
    end
    -- well-formed: fine
    assert.is_string((smtpcode.explain(with("enhanced", "5.1.1"))))
  end)
end)

describe("describe", function()
  it("gives the code of an integral float as an integer string (550.0 -> \"550\")", function()
    assert.are.equal("550", smtpcode.describe(550.0).code)
    assert.are.equal("421", smtpcode.describe(421.0).code)
    local _, c = smtpcode.explain({ code = 550.0, severity = "permanent",
      description = "d", advice = "a" })
    assert.are.equal(550.0, c.code)
    assert.truthy(smtpcode.explain({ code = 550.0, severity = "permanent",
      description = "d", advice = "a" }):find("^550: "))
  end)

  -- VM instructions a call runs (JIT off so the count hook sees them all)
  local function instructions(f, ...)
    local jitmod = rawget(_G, "jit")
    if jitmod then jitmod.off() end
    local n = 0
    debug.sethook(function() n = n + 1 end, "", 100)
    f(...)
    debug.sethook()
    if jitmod then jitmod.on() end
    return n * 100
  end

  it("skips leading blanks with bounded work: 10 MB of them cost what 1 MB costs", function()
    local one, ten = rep(" ", MB) .. "550", rep(" \t", 5 * MB) .. "550"
    local i1, i10 = instructions(smtpcode.describe, one), instructions(smtpcode.describe, ten)
    assert(i10 <= i1 + 1000, format("%d instructions for 10 MB vs %d for 1 MB", i10, i1))
    local r, _, code = smtpcode.describe(ten)
    assert.is_nil(r)
    assert.are.equal("syntax", code)
  end)

  it("still finds a code after up to 64 KiB of blanks, and not after more", function()
    assert.are.equal("550", smtpcode.describe(rep(" ", 65536) .. "550").code)
    assert.are.equal("5.1.1", smtpcode.describe(rep("\r\n", 1000) .. "5.1.1 ").code)
    assert.is_nil((smtpcode.describe(rep(" ", 65537) .. "550")))
  end)
end)

describe("codes with a bad kind", function()
  it("names it in printable ASCII, truncated, never the raw bytes", function()
    for _, kind in ipairs { "\0\255\27[31mred", "\226\128\174bidi", rep("\155", 1000), "a'b\\c" } do
      local ok, msg = pcall(smtpcode.codes, kind)
      assert.is_false(ok)
      assert.truthy(msg:find("^bad argument #1 to 'codes' %(invalid kind '"), msg)
      assert.is_nil(msg:find("[^\32-\126]"), msg)
      assert(#msg < 240, #msg)
    end
    local _, msg = pcall(smtpcode.codes, "\0\255")
    assert.truthy(msg:find("'\\000\\255'", 1, true), msg)
  end)
end)

describe("run-time rules", function()
  after_each(function() smtpcode.clear_rules() end)

  it("read only the first 64 KiB of the text, as the built-in rules do", function()
    smtpcode.add_rule { reason = "blocklisted", match = "zz-listed-zz" }
    each_backend(function(b)
      local near = "550 5.7.1 " .. rep("x", 1000) .. " zz-listed-zz"
      local far = "550 5.7.1 " .. rep("x", 65536) .. " zz-listed-zz"
      assert.are.equal("blocklisted", smtpcode.classify(near).reason, b)
      local c = smtpcode.classify(far)
      assert.are_not.equal("blocklisted", c.reason, b)
      assert.is_true(c.truncated, b)
      -- a table's text too
      assert.are_not.equal("blocklisted", smtpcode.classify({ code = 550, text = far }).reason, b)
    end)
  end)

  it("are capped at 1000: the next add_rule raises, clear_rules makes room", function()
    for i = 1, 1000 do
      assert.are.equal(i, smtpcode.add_rule { reason = "spam", match = "phrase " .. i })
    end
    local ok, msg = pcall(smtpcode.add_rule, { reason = "spam", match = "one more" })
    assert.is_false(ok)
    assert.truthy(msg:find("^bad argument #1 to 'add_rule' %(too many rules"), msg)
    assert.are.equal("spam", smtpcode.classify("550 phrase 1000").reason)
    smtpcode.clear_rules()
    assert.are.equal(1, smtpcode.add_rule { reason = "spam", match = "one more" })
  end)
end)

describe("tables with metatables", function()
  it("are written raw as into and read raw as opts, on every backend", function()
    each_backend(function(b)
      -- a read-only into: works, fields set raw, metamethods never called
      local into = raising()
      local r = smtpcode.parse(REPLY, nil, into)
      assert.are.equal(into, r, b)
      assert.are.equal(550, rawget(into, "code"), b)
      assert.are.equal("User unknown", rawget(into, "lines")[2]:match("User unknown"), b)
      local c = raising()
      assert.are.equal(c, smtpcode.classify(LINE, nil, c), b)
      assert.are.equal("user_unknown", rawget(c, "reason"), b)
      assert.are.equal("hard", rawget(c, "bounce"), b)
      -- into.lines with a raising metatable is filled raw too
      local t = { lines = raising() }
      smtpcode.parse(REPLY, nil, t)
      assert.are.equal("first line", rawget(t.lines, 1), b)
      -- an opts whose __index supplies lenient changes nothing
      local lenient = setmetatable({}, { __index = { lenient = true, max_line = 2 } })
      local r2, _, code = smtpcode.parse("571 x\r\n", lenient)
      assert.is_nil(r2, b)
      assert.are.equal("syntax", code, b)
      assert.is_nil((smtpcode.scan("571 x", lenient)), b)
      assert.are.equal(571, smtpcode.parse("571 x\r\n", { lenient = true }).code, b)
      -- opts that raise on any access: never consulted
      assert.are.equal(550, smtpcode.parse(REPLY, raising()).code, b)
      assert.are.equal(550, (smtpcode.scan(LINE, raising())), b)
      assert.are.equal("user_unknown", smtpcode.classify(LINE, raising()).reason, b)
      -- classify of a parse-result table whose __index would add a code
      local x = setmetatable({ text = "mailbox unavailable" }, { __index = { code = 550 } })
      assert.is_nil(smtpcode.classify(x).code, b)
      -- explain of a raising table: an argument error of explain's (a table
      -- with no code, enhanced or text is no result to explain), never the
      -- metamethod's
      local ok, err = pcall(smtpcode.explain, raising())
      assert.is_false(ok, b)
      assert.truthy(tostring(err):find("bad argument #1 to 'explain'", 1, true), b)
    end)
  end)

  it("never run their metamethods, in any table argument of any function", function()
    -- every table position of every public function, given tables whose
    -- metamethods raise: a value, nil + message + code, or bad argument
    local function tables()
      return {
        raising(),
        setmetatable({ reason = "spam", match = "x" }, getmetatable(raising())),
        setmetatable({}, { __index = { reason = "spam", match = "x", lenient = true,
          code = 550, text = "user unknown", advice = "a", description = "d",
          severity = "permanent" } }),
      }
    end
    each_backend(function(b)
      local problems = {}
      for name, sig in pairs(SIGS) do
        for pos = 1, #sig do
          if accepts(sig[pos], "table") then
            for k, t in ipairs(tables()) do
              local args = {}
              for i = 1, #sig do args[i] = sig.good[i] end
              args[pos] = t
              local p = judge(name, smtpcode[name], args, #sig, pos, false, sig.bare_nil)
              if p then problems[#problems + 1] = format("%s table %d: %s", b, k, p) end
            end
          end
        end
      end
      smtpcode.clear_rules()
      assert.are.same({}, problems)
    end)
  end)

  it("as add_rule's rule are read raw, and a bad value is named escaped", function()
    finally(function() smtpcode.clear_rules() end)
    local r = setmetatable({ match = "zz-house-zz" }, { __index = { reason = "spam" } })
    local ok, msg = pcall(smtpcode.add_rule, r)
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'add_rule' (reason must be one of the reasons, got nil)", msg)
    ok, msg = pcall(smtpcode.add_rule, { reason = "\27[2J" .. rep("\155", 100), match = "x" })
    assert.is_false(ok)
    assert.is_nil(msg:find("[^\32-\126]"), msg)
    assert.truthy(msg:find("got \\027[2J\\155", 1, true), msg)
    -- a match list with a raising __index: its raw entries
    local m = setmetatable({ "zz-house-zz" }, getmetatable(raising()))
    assert.are.equal(1, smtpcode.add_rule { reason = "policy", match = m })
    assert.are.equal("policy", smtpcode.classify("550 zz-house-zz").reason)
  end)

  it("with a yielding __newindex, in interleaved coroutines, give each call its own answer",
    function()
      each_backend(function(b)
        local function yielding()
          return setmetatable({}, { __newindex = function(t, k, v)
            yield()
            rawset(t, k, v)
          end })
        end
        local got = {}
        local jobs = {
          { "classify", "550 5.1.1 <u@example.com>: user unknown" },
          { "classify", "451 4.7.1 Greylisted, please try again later" },
          { "parse", "250-first\r\n250 2.0.0 ok\r\n" },
          { "parse", "421-busy\r\n421 4.3.2 try later\r\n" },
        }
        local cos = {}
        for i, j in ipairs(jobs) do
          cos[i] = cocreate(function()
            got[i] = smtpcode[j[1]](j[2], nil, yielding())
          end)
        end
        for _ = 1, 40 do
          for i = 1, #cos do coresume(cos[i]) end
        end
        local c1, c2 = got[1], got[2]
        assert.are.equal("user_unknown", rawget(c1, "reason"), b)
        assert.are.equal("hard", rawget(c1, "bounce"), b)
        assert.is_false(rawget(c1, "retry"), b)
        assert.are.equal("greylisted", rawget(c2, "reason"), b)
        assert.is_true(rawget(c2, "retry"), b)
        assert.are.equal("first\nok", rawget(got[3], "text"), b)
        assert.are.equal("busy\ntry later", rawget(got[4], "text"), b)
        assert.are.equal(421, rawget(got[4], "code"), b)
      end)
    end)

  it("survive finalizers that call smtpcode in the middle of a call", function()
    -- a finalizer may run at any allocation; it must not overwrite the
    -- answer of the call it interrupts (the FFI backend shares buffers)
    local newproxy = rawget(_G, "newproxy")
    local function garbage()
      local mt = { __gc = function()
        smtpcode.classify("451 4.7.1 greylisted, try again later")
        smtpcode.parse("421-a\r\n421 4.3.2 " .. rep("y", 30) .. "\r\n")
        smtpcode.scan("421 4.3.2 zzz", { max_line = 3 })
        smtpcode.parse("421 x\r\n", { lenient = true, max_lines = 1, max_reply = 8 })
      end }
      if newproxy then
        debug.setmetatable(newproxy(false), mt)
      else
        setmetatable({}, mt)
      end
    end
    local LONG = rep("250-a line of a long reply\r\n", 39)
    local LONG_OPTS = { max_lines = 50, max_reply = 4096 }
    each_backend(function(b)
      local bad, first = 0, nil
      local function wrong(what)
        bad = bad + 1
        first = first or what
      end
      local function verdict(c, what)
        if c.bounce ~= "hard" or c.retry ~= false or c.reason ~= "user_unknown" then
          wrong(format("%s: %s %s %s", what, tostring(c.reason), tostring(c.bounce),
            tostring(c.retry)))
        end
      end
      local into = {}
      for i = 1, 20000 do
        garbage()
        verdict(smtpcode.classify("550 5.1.1 user unknown"), "classify")
        verdict(smtpcode.classify("550 5.1.1 user unknown", nil, into), "classify into")
        local r = smtpcode.parse("250-first line\r\n250-second\r\n250 third " .. i .. "\r\n")
        if r.text ~= "first line\nsecond\nthird " .. i then wrong("parse: " .. r.text) end
        local code, _, enh, text = smtpcode.scan("550 5.1.1 hello " .. i)
        if code ~= 550 or enh ~= "5.1.1" or text ~= "hello " .. i then
          wrong("scan: " .. tostring(code) .. " " .. tostring(text))
        end
        -- more lines than the FFI keeps on its stack: parsed twice, with opts
        for _ = 1, 4 do
          garbage()
          local r2, msg = smtpcode.parse(LONG .. "250 end " .. i .. "\r\n", LONG_OPTS)
          if not r2 or #r2.lines ~= 40 or r2.lines[40] ~= "end " .. i then
            wrong("long parse: " .. tostring(msg or r2.lines[40]))
          end
        end
      end
      collectgarbage()
      assert.are.equal(0, bad, b .. ": " .. tostring(first))
    end)
  end)

  it("keep scan's answer when a finalizer scans another line in the interpreter", function()
    -- the FFI scan reads its shared struct, then allocates the strings it
    -- returns; interpreted (a trace runs no finalizer), every allocation
    -- may run one that scans another line into that struct
    local jit = rawget(_G, "jit")
    local newproxy = rawget(_G, "newproxy")
    local mt = { __gc = function() smtpcode.scan("421-4.3.2 busy") end }
    local function garbage()
      if newproxy then debug.setmetatable(newproxy(false), mt) else setmetatable({}, mt) end
    end
    each_backend(function(b)
      local scan = smtpcode.scan
      -- (jit.off takes Lua functions only: the FFI backend's scan)
      local off = jit and jit.off and pcall(jit.off, scan)
      local bad, first = 0, nil
      for i = 1, 20000 do
        for _ = 1, 8 do garbage() end
        local code, sev, enh, text, cont = scan("550 5.1.1 <u" .. i .. "@example.org> unknown")
        if code ~= 550 or sev ~= "permanent" or enh ~= "5.1.1" or cont ~= false
            or text ~= "<u" .. i .. "@example.org> unknown" then
          bad = bad + 1
          first = first or format("%s %s %s %s", tostring(code), tostring(enh),
            tostring(text), tostring(cont))
        end
      end
      if off then jit.on(scan) end
      collectgarbage()
      assert.are.equal(0, bad, b .. ": " .. tostring(first))
    end)
  end)

  it("give the C API's answers while finalizers call smtpcode at random points", function()
    -- a finalizer runs at an allocation or when a trace exits, so anywhere
    -- in a call; random calls of parse, scan and classify (options, into)
    -- with finalizers making random calls of their own, each answer
    -- compared with the C functions' (which share nothing)
    local core = smtpcode._core
    local seed = 7
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return math.floor(seed / 65536) % n + 1
    end
    local TEXTS = { "550 5.1.1 user unknown", "451 4.7.1 greylisted, try again later",
      "552 5.2.2 mailbox full", "554 5.7.1 blocked using zen.spamhaus.org", "421 4.3.2 try later",
      "250 2.0.0 ok", "Connection timed out", "550 5.7.26 DMARC policy", "553 5.1.8 sender domain",
      "530 5.7.0 Authentication required", "550 5.1.10 RecipientNotFound", "450 4.2.1 slow down" }
    local REPLIES = { "250-a\r\n250-b\r\n250 c\r\n", "550-5.1.1 x\r\n550 5.1.1 y\r\n",
      rep("250-a line of a long reply\r\n", 39) .. "250 end\r\n", "421 4.3.2 z\r\n",
      "571 x\r\n", "250-only\r\n" }
    local OPTS = { false, { lenient = true }, { max_lines = 50, max_reply = 4096 },
      { max_lines = 2 }, { max_line = 5 } }
    local function pickcall()
      local k = rnd(4)
      if k <= 2 then return "classify", TEXTS[rnd(#TEXTS)], k == 2 end
      return k == 3 and "parse" or "scan", REPLIES[rnd(#REPLIES)], OPTS[rnd(#OPTS)] or nil
    end
    local function same(a, b)
      if type(a) ~= type(b) then return false end
      if type(a) ~= "table" then return a == b end
      for k, x in pairs(a) do if not same(x, b[k]) then return false end end
      for k in pairs(b) do if a[k] == nil then return false end end
      return true
    end
    local newproxy = rawget(_G, "newproxy")
    local mt = { __gc = function()
      for _ = 1, 3 do
        local f, x, o = pickcall()
        if f == "classify" then smtpcode.classify(x, nil, o and {} or nil) else smtpcode[f](x, o) end
      end
    end }
    local function garbage()
      if newproxy then debug.setmetatable(newproxy(false), mt) else setmetatable({}, mt) end
    end
    each_backend(function(b)
      local bad, first = 0, nil
      for _ = 1, 50000 do
        for _ = 1, rnd(3) do garbage() end
        local f, x, o = pickcall()
        local got, want
        if f == "classify" then
          got = { smtpcode.classify(x, nil, o and {} or nil) }
          want = { core.classify(x, nil, o and {} or nil) }
        else
          got = { smtpcode[f](x, o) }
          want = { core[f](x, o) }
        end
        if not same(got, want) then
          bad = bad + 1
          first = first or format("%s(%q)", f, x:sub(1, 40))
        end
      end
      collectgarbage()
      assert.are.equal(0, bad, b .. ": " .. tostring(first))
    end)
  end)
end)

-- }======================================================
