-- Differential spec: the FFI backend and the C API backend must give the
-- same answer (same results, same errors) for the same call, whatever the
-- input: random bytes, NUL bytes, invalid UTF-8, long strings, mutated
-- real replies and log lines, random options (wrong types included), and
-- `into` / `opts` tables with metatables whose metamethods raise or yield,
-- called inside coroutines. Runs where both backends exist (LuaJIT with
-- the JIT on); elsewhere the spec is pending.
--
-- Deterministic: a fixed seed (SMTPCODE_DIFF_SEED to try another) and a
-- bounded number of cases (SMTPCODE_DIFF_CASES, default 4000 per kind).

local smtpcode = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local type, tostring, next = type, tostring, next
local rawget, rawset, setmetatable = rawget, rawset, setmetatable
local char, rep, format, sub = string.char, string.rep, string.format, string.sub
local concat = table.concat
local floor = math.floor
local unpack = table.unpack or unpack
local cocreate, coresume, costatus, yield =
  coroutine.create, coroutine.resume, coroutine.status, coroutine.yield

local SEED = tonumber(os.getenv("SMTPCODE_DIFF_SEED") or "") or 10
local CASES = tonumber(os.getenv("SMTPCODE_DIFF_CASES") or "") or 4000

-- {======================================================
-- A small deterministic generator (the same numbers on every runtime)
-- =======================================================

local state = SEED
local function rand(n) -- 1..n
  state = (state * 1103515245 + 12345) % 2147483648
  return floor(state / 65536) % n + 1
end
local function pick(list) return list[rand(#list)] end
local function chance(p) return rand(1000) <= p * 1000 end

-- }======================================================

-- Real material to mutate: the sample mail log and the field replies.
local REAL = {}
do
  local f = io.open(helper.root .. "/examples/maillog.txt", "rb")
  if f then
    for l in f:lines() do
      if l:sub(1, 1) ~= "#" and #l > 0 then REAL[#REAL + 1] = l end
    end
    f:close()
  end
  local rows = helper.tsv(helper.specdir .. "/fixtures/field-replies.tsv") or {}
  for _, r in ipairs(rows) do
    for _, v in pairs(r) do
      if type(v) == "string" and v:find("^%d%d%d") then REAL[#REAL + 1] = v end
    end
  end
  if #REAL == 0 then REAL[1] = "550 5.1.1 <u@example.com>: Recipient address rejected: User unknown" end
end

local CODES = { "250", "220", "221", "354", "421", "450", "451", "452", "454", "500", "550",
  "551", "552", "553", "554", "571", "199", "600", "5", "55", "5500", "0x5", "" }
local ENH = { "", "5.1.1 ", "4.7.1 ", "2.0.0 ", "5.7.26 ", "4.4.7 ", "5.01.1 ", "5.1.1000 ",
  "#5.1.0 ", "X.1.1 ", "5.1.1\t", "9.9.9 ", "5.7.509 " }
local SEPS = { " ", "-", "\t", "", "  ", "\0" }
local ENDS = { "\r\n", "\n", "\r", "", "\r\r\n", "\0\r\n" }
local WORDS = { "user unknown", "mailbox full", "greylisted", "try again later", "blocked using",
  "spamhaus", "said:", "(in reply to RCPT TO command)", "relay access denied", "quota",
  "\255\254", "\192\128", "\237\160\128", "\226\128\174", "\0", "\27[31m", "\155", "((((",
  "550 ", "5.5.5.", "dsn=5.1.1, status=bounced", "Diagnostic-Code: smtp;", "   " }

local function randbytes(n)
  local t = {}
  for i = 1, n do t[i] = char(rand(256) - 1) end
  return concat(t)
end

local function text(n)
  local t = {}
  for i = 1, n do
    t[i] = chance(0.2) and randbytes(rand(6)) or pick(WORDS)
  end
  return concat(t, chance(0.8) and " " or "")
end

local function reply_line(code, sep)
  return code .. sep .. pick(ENH) .. text(rand(6) - 1)
end

-- a mutated copy of s: bytes replaced, inserted, cut
local function mutate(s)
  for _ = 1, rand(4) do
    local i = rand(#s + 1)
    local k = rand(4)
    if k == 1 then
      s = sub(s, 1, i - 1) .. char(rand(256) - 1) .. sub(s, i + 1)
    elseif k == 2 then
      s = sub(s, 1, i - 1) .. pick(WORDS) .. sub(s, i)
    elseif k == 3 then
      s = sub(s, 1, i - 1)
    else
      s = sub(s, 1, i - 1) .. pick(ENDS) .. sub(s, i)
    end
  end
  return s
end

local function input()
  local k = rand(10)
  if k == 1 then
    return randbytes(rand(200) - 1)
  elseif k <= 4 then -- a reply of one or more lines
    local code, n, out = pick(CODES), rand(4), {}
    for i = 1, n do
      local c = chance(0.9) and code or pick(CODES)
      local sep = i < n and "-" or (chance(0.7) and " " or pick(SEPS))
      out[i] = reply_line(c, sep) .. (chance(0.7) and "\r\n" or pick(ENDS))
    end
    return concat(out)
  elseif k <= 7 then
    return chance(0.5) and pick(REAL) or mutate(pick(REAL))
  elseif k == 8 then -- long
    local unit = pick { "550-5.1.1 x\r\n", " ", "5.", "said: 550 ", "\0", "a", "250-ok\n" }
    return pick(CODES) .. " " .. rep(unit, rand(20000))
  elseif k == 9 then
    return reply_line(pick(CODES), pick(SEPS)) .. rep(pick(WORDS), rand(3000))
  end
  return text(rand(12))
end

-- {======================================================
-- Option and into tables, with metatables
-- =======================================================

local function yielding_into()
  -- every metamethod yields, then acts; the calls run in coroutines
  return setmetatable({}, {
    __index = function(t, k) yield("index") return rawget(t, k) end,
    __newindex = function(t, k, v) yield("newindex") rawset(t, k, v) end,
  })
end

local function raising()
  return setmetatable({}, {
    __index = function(_, k) error("__index " .. tostring(k), 0) end,
    __newindex = function(_, k) error("__newindex " .. tostring(k), 0) end,
  })
end

local LIMITVALUES = { nil, 0, -1, 1, 2, 7, 64, 1000, 65536, 2 ^ 40, 0 / 0, math.huge, 1.5,
  "10", {}, true }

-- A recipe for opts: a function that builds a fresh table (so both
-- backends get equal, unshared arguments).
local function opts_recipe()
  local k = rand(8)
  if k <= 3 then return function() return nil end end
  local fields = {}
  if chance(0.5) then fields.lenient = pick { true, false, "yes", 0 } end
  for _, key in ipairs { "max_line", "max_lines", "max_reply" } do
    if chance(0.25) then fields[key] = LIMITVALUES[rand(#LIMITVALUES)] end
  end
  local meta = k == 6 and "index" or k == 7 and "raise" or k == 8 and "yield" or nil
  local hidden = { lenient = true, max_line = 3, max_lines = 1, max_reply = 5 }
  return function()
    local t = {}
    for kk, vv in pairs(fields) do t[kk] = vv end
    if meta == "index" then
      setmetatable(t, { __index = hidden })
    elseif meta == "raise" then
      setmetatable(t, getmetatable(raising()))
    elseif meta == "yield" then
      setmetatable(t, getmetatable(yielding_into()))
    end
    return t
  end, meta
end

local function into_recipe()
  local k = rand(9)
  if k <= 3 then return function() return nil end end
  if k == 4 then return function() return {} end end
  if k == 5 then -- stale fields from an earlier call
    return function()
      return { code = 999, enhanced = "9.9.9", lines = { "a", "b", "c", "d", "e" },
        reason = "spam", retry = true, mismatch = true, text = 1 }
    end
  end
  if k == 6 then return function() return raising() end, "raise" end
  if k == 7 then return function() return yielding_into() end, "yield" end
  if k == 8 then -- read-only: raises on any new key
    return function()
      return setmetatable({}, { __newindex = function() error("read-only table", 0) end })
    end, "raise"
  end
  local v = pick { 1, "into", true }
  return function() return v end
end

-- }======================================================

-- {======================================================
-- Running a call and comparing answers
-- =======================================================

-- Run f(args) in a coroutine; resume it until it ends (metamethods may
-- yield). Returns { ok, results... } and the number of yields.
local function run(f, args, n)
  local co = cocreate(function() return f(unpack(args, 1, n)) end)
  local out
  local yields = 0
  while true do
    local res = { coresume(co) }
    if costatus(co) == "dead" then
      out = res
      break
    end
    yields = yields + 1
    if yields > 1000 then return { false, "too many yields" }, yields end
  end
  return out, yields
end

-- Equal values: same type, tables with the same raw contents (compared
-- deeply, metatables not consulted).
local function same(a, b, seen)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if a ~= a and b ~= b then return true end -- NaN
    return a == b
  end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in next, a do
    if not same(v, rawget(b, k), seen) then return false end
  end
  for k in next, b do
    if rawget(a, k) == nil then return false end
  end
  return true
end

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return format("%q", #v > 80 and sub(v, 1, 80) .. "..." or v) end
  if type(v) ~= "table" or depth > 2 then return tostring(v) end
  local parts = {}
  for k, x in next, v do
    parts[#parts + 1] = tostring(k) .. "=" .. show(x, depth + 1)
    if #parts > 16 then break end
  end
  return "{" .. concat(parts, ", ") .. "}"
end

local FUNCS = {
  { "parse", 3 }, { "scan", 2 }, { "classify", 3 }, { "explain", 1 },
}

-- One case: the same call on both backends; a description of the
-- difference, or nil.
local function compare(fname, s, optsr, intor, nargs)
  local outs, intos, ys = {}, {}, {}
  for _, b in ipairs { "capi", "ffi" } do
    smtpcode._set_backend(b)
    local into = intor()
    local args = { s, optsr(), into }
    outs[b], ys[b] = run(smtpcode[fname], args, nargs)
    intos[b] = into
  end
  local a, c = outs.capi, outs.ffi
  local n = #a > #c and #a or #c
  for i = 1, n do
    local va, vc = a[i], c[i]
    -- a returned into is compared by contents below
    if not (type(va) == "table" and va == intos.capi and vc == intos.ffi) then
      if not same(va, vc) then
        return format("%s(%s): result %d differs: capi %s, ffi %s", fname, show(s), i,
          show(va), show(vc))
      end
    end
  end
  if type(intos.capi) == "table" and not same(intos.capi, intos.ffi) then
    return format("%s(%s): into differs: capi %s, ffi %s", fname, show(s),
      show(intos.capi), show(intos.ffi))
  end
  if ys.capi ~= ys.ffi then
    return format("%s(%s): %d yields on capi, %d on ffi", fname, show(s), ys.capi, ys.ffi)
  end
  return nil
end

-- }======================================================

local both = #smtpcode._backends() == 2

describe("the FFI and C API backends", function()
  local initial
  setup(function() initial = smtpcode._BACKEND end)
  teardown(function() smtpcode._set_backend(initial) smtpcode.clear_rules() end)

  for _, fn in ipairs(FUNCS) do
    local fname, nargs = fn[1], fn[2]
    it("give identical answers from " .. fname .. " on random inputs, options and into tables",
      function()
        if not both then
          pending("only the capi backend is available here")
          return
        end
        state = SEED + #fname -- each function its own, fixed sequence
        local problems, metas = {}, { raise = 0, yield = 0, index = 0 }
        for _ = 1, CASES do
          local s = input()
          local optsr, om = opts_recipe()
          local intor, im = into_recipe()
          if nargs < 2 then optsr = function() return nil end om = nil end
          if nargs < 3 then intor = function() return nil end im = nil end
          if om then metas[om] = metas[om] + 1 end
          if im then metas[im] = metas[im] + 1 end
          local p = compare(fname, s, optsr, intor, nargs)
          if p then
            problems[#problems + 1] = p
            if #problems >= 5 then break end
          end
        end
        assert.are.same({}, problems)
        -- the cases did reach the metatables they were meant to
        if nargs >= 2 then assert(metas.raise > 0 and metas.yield > 0, show(metas)) end
      end)
  end

  it("give identical answers from classify of random parse and find result tables", function()
    if not both then
      pending("only the capi backend is available here")
      return
    end
    state = SEED + 100
    local problems = {}
    for _ = 1, CASES do
      local s = input()
      local t = pick {
        function() return smtpcode._core.parse(s, { lenient = true }) end,
        function() return smtpcode.find(s) end,
        function() return { code = pick { 550, 451, "550", 1e9, 0 / 0 }, text = s,
          enhanced = pick { "5.1.1", "4.7.1", 5, nil } } end,
        function() return setmetatable({ text = s }, { __index = { code = 550 } }) end,
      }()
      if type(t) == "table" then
        local p = compare("classify", t, function() return nil end, function() return nil end, 1)
        if p then problems[#problems + 1] = p end
      end
      if #problems >= 5 then break end
    end
    assert.are.same({}, problems)
  end)

  it("give identical answers from classify while run-time rules are in place", function()
    if not both then
      pending("only the capi backend is available here")
      return
    end
    state = SEED + 200
    smtpcode.add_rule { reason = "blocklisted", match = { "blocked", "spamhaus" } }
    smtpcode.add_rule { reason = "rate_limited", match = "try again later", class = 4 }
    local problems = {}
    for _ = 1, floor(CASES / 4) do
      local intor = into_recipe()
      local p = compare("classify", input(), function() return nil end, intor, 3)
      if p then problems[#problems + 1] = p end
      if #problems >= 5 then break end
    end
    smtpcode.clear_rules()
    assert.are.same({}, problems)
  end)

  it("give the core's error message and code for each bad reply, as the reader does", function()
    -- one case per status, at line 1 and at a later line; c[4]: scan of
    -- the same bytes fails the same way (its errors are at line 1)
    local cases = {
      { "hello\r\n", "line 1 is not a valid reply line", "syntax", true },
      { "250-a\r\n250\0 x\r\n", "line 2 is not a valid reply line", "syntax" },
      { "250-first\r\n", "reply is incomplete at line 2", "incomplete" },
      { "250-a\r\n250-b\r\n", "reply is incomplete at line 3", "incomplete" },
      { "250-a\r\n251 b\r\n", "line 2 has a different reply code than line 1", "inconsistent" },
      { "250 " .. rep("y", 9000) .. "\r\n", "reply exceeds a size limit at line 1", "too_long", true },
    }
    local backends = both and { "capi", "ffi" } or { smtpcode._BACKEND }
    for _, b in ipairs(backends) do
      smtpcode._set_backend(b)
      for _, c in ipairs(cases) do
        local res, msg, code = smtpcode.parse(c[1])
        assert.is_nil(res, b .. " " .. show(c[1]))
        assert.are.equal(c[2], msg, b .. " " .. show(c[1]))
        assert.are.equal(c[3], code, b .. " " .. show(c[1]))
        local sres, smsg, scode = smtpcode.scan(c[1])
        if c[4] then
          assert.are.same({ nil, c[2], c[3] }, { sres, smsg, scode }, b .. " scan " .. show(c[1]))
        end
        if code ~= "incomplete" then -- the reader waits for more instead
          local r = smtpcode.reader()
          r:feed(c[1])
          local _, rmsg, rcode = r:feed("")
          assert.are.equal(c[2], rmsg, b .. " reader " .. show(c[1]))
          assert.are.equal(c[3], rcode)
        end
      end
    end
    smtpcode._set_backend(initial)
  end)

  it("never call a metamethod of the tables they are given (no yields, no raises)", function()
    if not both then
      pending("only the capi backend is available here")
      return
    end
    for _, b in ipairs { "capi", "ffi" } do
      smtpcode._set_backend(b)
      -- explain takes a parse or find result: a text, set raw, its metatable
      -- yielding on any other access
      local yielding_text = yielding_into()
      rawset(yielding_text, "text", "550 5.1.1 user unknown")
      local args = {
        { "parse", { "550-5.1.1 a\r\n550 5.1.1 b\r\n", yielding_into(), yielding_into() } },
        { "scan", { "550 5.1.1 a", yielding_into() } },
        { "classify", { "550 5.1.1 user unknown", nil, yielding_into() } },
        { "classify", { "550 5.1.1 user unknown", yielding_into(), yielding_into() } },
        { "explain", { yielding_text } },
      }
      for _, a in ipairs(args) do
        local res, yields = run(smtpcode[a[1]], a[2], 3)
        assert.is_true(res[1], b .. " " .. a[1] .. ": " .. tostring(res[2]))
        assert.are.equal(0, yields, b .. " " .. a[1])
      end
    end
  end)
end)
