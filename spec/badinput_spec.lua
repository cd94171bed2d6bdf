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
