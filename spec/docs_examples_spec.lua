-- Every ```lua block of README.md and docs/*.md runs against the built
-- module, so that no example can drift from the code.
--
-- A block runs in a fresh environment where `smtpcode` is already
-- `require "smtpcode"` and `print` is captured. What the block states in its
-- comments is checked where it is stated in one of these forms:
--
--   expr                 -- .code 250, .severity "success"   fields of expr's first value
--   local c = expr       -- .reason "greylisted"               fields of c
--   -- c.reason "user_unknown", c.retry false                   fields of a variable
--   -- r.code == 550, r.lines == { "a",                         `==` is optional; a table
--   --                             "b" }                        literal may span comment lines
--   expr                 --> 250, "success", nil               every value expr returns
--   expr                 --> nil, "reply is ...", "syntax"     "..." in a string matches anything
--   expr                 --> error: bad argument #1 to 'parse'  expr raises, message contains it
--   expr                 --> 300, 1300   (a note)           a note after two spaces is not checked
--   local a, b = expr                                           then, on the next line:
--   --> 250, "success"                                          the values of a, b
--   print(x)                                                    then one line per printed line:
--   --> first line
--   --> second line
--
-- A comment whose value is not a Lua constant ("d.delay about 300 seconds")
-- is prose and is not checked. A block that cannot run here says why in an
-- HTML comment on the line before its fence:
--
--   <!-- example: skip REASON -->         not run; reported as skipped with REASON
--   <!-- example: needs smtpcode.log -->  run once lua/smtpcode/log.lua exists,
--                                         skipped with that reason until then
--
-- A block runs after the page's earlier blocks that run (in one scope, as a
-- reader reads the page): it may use their variables. Errors name the line
-- of the page.
-- A block without a marker that does not compile fails: it must run, or say
-- why it cannot.

local helper = dofile("spec/helper.lua")
local smtpcode = require "smtpcode"

local unpack = table.unpack or unpack
local root = helper.root

-- ------------------------------------------------------------ the pages

local function read(path) return assert(helper.read(path), path) end

local function pages()
  local list = { "README.md" }
  local p = assert(io.popen('ls "' .. root .. '/docs"'))
  for name in p:lines() do
    if name:match("%.md$") then list[#list + 1] = "docs/" .. name end
  end
  p:close()
  return list
end

-- Blocks of one page: { page, line (of the fence), lines, marker }.
local function blocks(page)
  local out, cur, prev = {}, nil, nil
  local n = 0
  for line in (read(root .. "/" .. page) .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if cur then
      if line:match("^%s*```%s*$") then
        out[#out + 1] = cur
        cur = nil
      else
        cur.lines[#cur.lines + 1] = line
      end
    elseif line:match("^%s*```lua%s*$") then
      local marker = prev and prev:match("^%s*<!%-%-%s*example:%s*(.-)%s*%-%->%s*$")
      cur = { page = page, line = n, lines = {}, marker = marker }
    end
    if line:match("%S") then prev = line end
  end
  assert(not cur, page .. ":" .. (cur and cur.line or 0) .. ": a ```lua block is not closed")
  return out
end

-- ------------------------------------------------------------ lexing

-- Split a line into code and comment, ignoring "--" inside strings; also
-- return the bracket depth change of the code part.
local function split(line)
  local i, depth, n = 1, 0, #line
  while i <= n do
    local ch = line:sub(i, i)
    if ch == '"' or ch == "'" then
      local j = i + 1
      while j <= n do
        local cj = line:sub(j, j)
        if cj == "\\" then j = j + 1
        elseif cj == ch then break end
        j = j + 1
      end
      i = j + 1
    elseif line:sub(i, i + 1) == "--" then
      return line:sub(1, i - 1), line:sub(i + 2), depth
    else
      if ch == "(" or ch == "{" or ch == "[" then depth = depth + 1
      elseif ch == ")" or ch == "}" or ch == "]" then depth = depth - 1 end
      i = i + 1
    end
  end
  return line, nil, depth
end

-- Split at top-level commas (outside strings and brackets).
local function items(s)
  local out, depth, start, i, n = {}, 0, 1, 1, #s
  while i <= n do
    local ch = s:sub(i, i)
    if ch == '"' or ch == "'" then
      local j = i + 1
      while j <= n and s:sub(j, j) ~= ch do
        if s:sub(j, j) == "\\" then j = j + 1 end
        j = j + 1
      end
      i = j
    elseif ch == "(" or ch == "{" or ch == "[" then depth = depth + 1
    elseif ch == ")" or ch == "}" or ch == "]" then depth = depth - 1
    elseif ch == "," and depth == 0 then
      out[#out + 1] = s:sub(start, i - 1)
      start = i + 1
    end
    i = i + 1
  end
  out[#out + 1] = s:sub(start)
  return out
end

local function balance(s)
  local _, _, d = split(s)
  return d
end

-- The values of a Lua constant expression list, or nil when s is prose.
local NOGLOBALS = setmetatable({}, { __index = function() error("not a constant", 0) end })
local function constant(s)
  if not s:match("%S") then return nil end
  local chunk = "return " .. s
  local f
  if setfenv then
    f = loadstring(chunk)
    if f then setfenv(f, NOGLOBALS) end
  else
    f = load(chunk, "=constant", "t", NOGLOBALS)
  end
  if not f then return nil end
  local r = { pcall(f) }
  if not r[1] then return nil end
  return { n = select("#", unpack(r)) - 1, unpack(r, 2, select("#", unpack(r))) }
end

local function is_expr(code)
  local chunk = "return " .. code
  if setfenv then return loadstring(chunk) ~= nil end
  return load(chunk, "=expr", "t", {}) ~= nil
end

-- ------------------------------------------------------------ checking

-- A stated string with "..." in it matches any text in place of the dots.
local function match_str(want, got)
  if type(got) ~= "string" then return false end
  if not want:find("...", 1, true) then return want == got end
  local pos = 1
  local pieces = {}
  local from = 1
  while true do
    local s = want:find("...", from, true)
    pieces[#pieces + 1] = want:sub(from, (s or 0) - 1)
    if not s then break end
    from = s + 3
  end
  for k, piece in ipairs(pieces) do
    if k == 1 then
      if got:sub(1, #piece) ~= piece then return false end
      pos = #piece + 1
    elseif k == #pieces then
      return piece == "" or (got:sub(-#piece) == piece and #got - #piece + 1 >= pos)
    else
      local s, e = got:find(piece, pos, true)
      if not s then return false end
      pos = e + 1
    end
  end
  return true
end

local function same(want, got)
  if type(want) == "string" then return match_str(want, got) end
  if type(want) ~= "table" then return want == got end
  if type(got) ~= "table" then return false end
  for k, v in pairs(want) do
    if not same(v, got[k]) then return false end
  end
  for k in pairs(got) do
    if want[k] == nil then return false end
  end
  return true
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. " = " .. show(x) end
  table.sort(parts)
  return "{ " .. table.concat(parts, ", ") .. " }"
end

-- The runtime half: functions the instrumented block calls.
local function runtime(state)
  local rt = {}
  function rt.pack(...) return { n = select("#", ...), ... } end
  function rt.field(where, subject, name, key, want)
    state.checks = state.checks + 1
    if type(subject) ~= "table" then
      error(string.format("%s: %s is %s, not a table", where, name, show(subject)), 0)
    end
    if not same(want, subject[key]) then
      error(string.format("%s: %s.%s is %s, the page says %s", where, name, key,
        show(subject[key]), show(want)), 0)
    end
  end
  function rt.values(where, got, want)
    state.checks = state.checks + 1
    local n = math.max(got.n, want.n)
    for i = 1, n do
      if not same(want[i], got[i]) then
        local g, w = {}, {}
        for k = 1, got.n do g[k] = show(got[k]) end
        for k = 1, want.n do w[k] = show(want[k]) end
        error(string.format("%s: returned %s, the page says %s", where,
          table.concat(g, ", "), table.concat(w, ", ")), 0)
      end
    end
  end
  function rt.raises(where, f, want)
    state.checks = state.checks + 1
    local ok, err = pcall(f)
    if ok then error(where .. ": no error, the page says: error: " .. want, 0) end
    err = tostring(err)
    if not (match_str("..." .. want .. "...", err)) then
      error(string.format("%s: error %q, the page says %q", where, err, want), 0)
    end
  end
  function rt.mark() state.out_mark = #state.out end
  function rt.output(where, want)
    state.checks = state.checks + 1
    local got = {}
    for i = state.out_mark + 1, #state.out do got[#got + 1] = state.out[i] end
    local text = table.concat(got, "\n")
    local w = table.concat(want, "\n")
    if not match_str(w, text) then
      error(string.format("%s: printed\n%s\nthe page says\n%s", where, text, w), 0)
    end
  end
  return rt
end

-- Rewrite a block into Lua that checks what its comments state.
local function instrument(b, first_line)
  local src, lines = {}, b.lines
  local depth = 0
  local last_code, last_locals = nil, nil
  local i = 1
  local function at(k) return string.format("%q", b.page .. ":" .. (first_line + k)) end
  local start = 1
  -- what line k of the block becomes stays on line k, so that errors name
  -- the page's line
  local function emit(s) src[start] = src[start] and src[start] .. " " .. s or s end
  while i <= #lines do
    start = i
    local line = lines[i]
    local code, comment, d = split(line)
    local top = depth == 0 and d == 0
    local handled = false
    if top and comment and comment:sub(1, 1) == ">" and code:match("%S") then
      -- expr --> values | error: text
      local rhs = comment:sub(2):gsub("^%s+", ""):gsub("%s+$", "")
      local expr = code:gsub("^%s+", ""):gsub("%s+$", "")
      local err = rhs:match("^error:%s*(.*)$")
      if not err and not constant(rhs) then -- "--> 300, 1300   (a note)"
        local v = rhs:match("^(.-)%s%s+%(.*%)$")
        if v and constant(v) then rhs = v end
      end
      if is_expr(expr) and err then
        emit(string.format("__rt.raises(%s, function() return %s end, %q)", at(i), expr, err))
        handled = true
      elseif is_expr(expr) and constant(rhs) then
        emit(string.format("__rt.values(%s, __rt.pack(%s), __rt.pack(%s))", at(i), expr, rhs))
        handled = true
      elseif expr:match("^print%s*%(") and is_expr(expr) then
        -- print(x) --> first line, more lines on --> lines below
        local want = { rhs }
        while lines[i + 1] and lines[i + 1]:match("^%s*%-%->") do
          i = i + 1
          want[#want + 1] = (lines[i]:gsub("^%s*%-%->%s?", ""))
        end
        emit("__rt.mark() " .. expr)
        local q = {}
        for k, w in ipairs(want) do q[k] = string.format("%q", w) end
        emit(string.format("__rt.output(%s, { %s })", at(i), table.concat(q, ", ")))
        handled = true
      end
    elseif top and not code:match("%S") and comment and comment:sub(1, 1) == ">" then
      -- a --> line under a code line
      if last_code and last_code:match("^%s*print%s*%(") then
        local want = {}
        i = i - 1
        while lines[i + 1] and lines[i + 1]:match("^%s*%-%->") do
          i = i + 1
          want[#want + 1] = (lines[i]:gsub("^%s*%-%->%s?", ""))
        end
        local q = {}
        for k, w in ipairs(want) do q[k] = string.format("%q", w) end
        emit(string.format("__rt.output(%s, { %s })", at(i), table.concat(q, ", ")))
        handled = true
      elseif last_locals then
        local rhs = comment:sub(2)
        if constant(rhs) then
          emit(string.format("__rt.values(%s, __rt.pack(%s), __rt.pack(%s))", at(i), last_locals, rhs))
        end
        handled = true
      end
    end
    if not handled then
      if top and code:match("^%s*print%s*%(") then emit("__rt.mark() " .. code)
      else emit(code) end
      -- field statements: "-- .f v" after an expression or a local, "-- x.f v"
      if top and comment and comment:sub(1, 1) ~= ">" and comment:sub(1, 1) ~= "-" then
        local subject
        local expr = code:gsub("^%s+", ""):gsub("%s+$", "")
        local lname = expr:match("^local%s+([%a_][%w_]*)%s*=")
        if lname then subject = lname
        elseif expr ~= "" and is_expr(expr) then
          src[start] = "local __e = " .. expr
          subject = "__e"
        end
        -- a table literal may continue on the comment lines below
        local text = comment
        while balance(text) > 0 and lines[i + 1] and lines[i + 1]:match("^%s*%-%-") do
          i = i + 1
          text = text .. " " .. lines[i]:gsub("^%s*%-%-", "")
        end
        for _, item in ipairs(items(text)) do
          local pat = "^%s*([%a_]?[%w_]*)%.([%a_][%w_]*)%s*(.*)$"
          local var, key, rest = item:match(pat)
          if not var then -- "prose: .field value"
            var, key, rest = (item:match("^[^:]-:%s+(%..*)$") or ""):match(pat)
          end
          if var then
            rest = rest:gsub("^==%s*", ""):gsub("%s+$", "")
            local v = constant(rest)
            if v and v.n == 1 then
              local name = var ~= "" and var or subject
              if name then
                emit(string.format("__rt.field(%s, %s, %q, %q, %s)", at(i), name,
                  var ~= "" and var or expr, key, rest))
              else -- "-- .key value" with nothing to check it on: say so
                emit(string.format("error(%s .. %q, 0)", at(i),
                  ": ." .. key .. " states a field of what? (write `x.key value` on the next line)"))
              end
            end
          end
        end
      end
    end
    if code:match("%S") then
      last_code = code
      last_locals = top and code:match("^%s*local%s+([%a_][%w_,%s]-)%s*=") or nil
    end
    depth = depth + d
    i = i + 1
  end
  for k = 1, #lines do src[k] = src[k] or "" end
  return src
end

-- The blocks of a chain as one chunk whose line numbers are the page's.
local function chunk_of(chain)
  local out = {}
  for _, c in ipairs(chain) do
    while #out < c.line do out[#out + 1] = "" end
    for _, l in ipairs(instrument(c, c.line)) do out[#out + 1] = l end
  end
  return table.concat(out, "\n")
end

local function compile(chunk, name, env)
  if setfenv then
    local f, err = loadstring(chunk, name)
    if f then setfenv(f, env) end
    return f, err
  end
  return load(chunk, name, "t", env)
end

-- ------------------------------------------------------------ the specs

local function module_file(mod)
  local rel = mod:gsub("%.", "/")
  for _, p in ipairs { "lua/" .. rel .. ".lua", "lua/" .. rel .. "/init.lua" } do
    if helper.readable(root .. "/" .. p) then return p end
  end
  return nil, "lua/" .. rel .. ".lua"
end

local all = {}
for _, page in ipairs(pages()) do
  for _, b in ipairs(blocks(page)) do all[#all + 1] = b end
end

describe("the Lua examples of README.md and docs/*.md", function()
  it("are found (README.md has at least five)", function()
    local n = 0
    for _, b in ipairs(all) do if b.page == "README.md" then n = n + 1 end end
    assert.is_true(n >= 5, "README.md has " .. n .. " lua blocks")
  end)

  -- The runnable blocks of a page so far: a block runs after them, in one
  -- scope, as a reader reads the page.
  local before = {}
  for _, b in ipairs(all) do
    local where = b.page .. ":" .. b.line
    local marker = b.marker or ""
    local reason = marker:match("^skip:?%s*(.*)$")
    local needs = marker:match("^needs%s+([%w_%.]+)")
    local chain = {}
    for _, p in ipairs(before[b.page] or {}) do chain[#chain + 1] = p end
    chain[#chain + 1] = b
    if b.marker and not (reason or needs) then
      it(where .. " has a known marker", function()
        error(where .. ": unknown example marker '" .. marker .. "'")
      end)
    elseif reason then
      assert(reason:match("%S"), where .. ": a skip marker needs a reason")
      pending(where .. ": " .. reason)
    else
      local missing
      if needs then
        local _, want = module_file(needs)
        if want then missing = want end
      end
      if missing then
        pending(where .. ": needs " .. needs .. " (" .. missing .. " is not in this tree yet)")
      else
        before[b.page] = chain
        it(where .. " runs and says what the code does", function()
          local state = { checks = 0, out = {}, out_mark = 0 }
          local env = setmetatable({
            smtpcode = smtpcode,
            __rt = runtime(state),
            print = function(...)
              local t = {}
              for k = 1, select("#", ...) do t[k] = tostring((select(k, ...))) end
              state.out[#state.out + 1] = table.concat(t, "\t")
            end,
          }, { __index = _G })
          local f, err = compile(chunk_of(chain), "=" .. b.page, env)
          assert(f, where .. ": does not compile (mark it <!-- example: skip REASON -->): "
            .. tostring(err))
          local path, cpath = package.path, package.cpath
          local ok, e = pcall(f)
          package.path, package.cpath = path, cpath
          if os.getenv("DOCS_EXAMPLES_VERBOSE") then
            io.stderr:write(where, ": ", state.checks, " checks\n")
          end
          smtpcode.clear_rules()
          assert(ok, tostring(e))
        end)
      end
    end
  end
end)

describe("the docs' checker", function()
  -- The checker itself: a drifted example must fail.
  local function run(lines)
    local b = { page = "test", line = 0, lines = lines }
    local state = { checks = 0, out = {}, out_mark = 0 }
    local env = setmetatable({ smtpcode = smtpcode, __rt = runtime(state),
      print = function(s) state.out[#state.out + 1] = tostring(s) end }, { __index = _G })
    local f = assert(compile(chunk_of { b }, "=test", env))
    local ok, err = pcall(f)
    return ok, err, state.checks
  end

  it("checks fields stated after an expression, a local and a variable", function()
    assert.same({ true, nil, 2 }, { run { 'smtpcode.parse("250 ok") -- .code 250, .severity "success"' } })
    assert.is_false((run { 'smtpcode.parse("250 ok") -- .code 251' }))
    assert.is_false((run { 'local c = smtpcode.classify("550 5.1.1 User unknown") -- .reason "spam"' }))
    assert.is_false((run { 'local c = smtpcode.classify("550 5.1.1 User unknown")', '-- c.bounce "soft"' }))
    assert.is_true((run { 'local c = smtpcode.classify("550 5.1.1 User unknown")', '-- c.bounce == "hard"' }))
  end)

  it("checks returned values, raised errors and printed lines", function()
    assert.is_true((run { 'smtpcode.status("5.7.26") --> 5, 7, 26' }))
    assert.is_false((run { 'smtpcode.status("5.7.26") --> 5, 7, 25' }))
    assert.is_true((run { 'smtpcode.parse("25") --> nil, "...", "syntax"' }))
    assert.is_false((run { 'smtpcode.parse("250 ok") --> error: bad argument' }))
    assert.is_true((run { 'smtpcode.parse(nil) --> error: bad argument #1 to \'parse\'' }))
    assert.is_true((run { 'local a, b = smtpcode.status("2.0.0")', '--> 2, 0' }))
    assert.is_false((run { 'local a, b = smtpcode.status("2.0.0")', '--> 2, 1' }))
    assert.is_true((run { 'print("a\\nb")', '--> a', '--> b' }))
    assert.is_false((run { 'print("a\\nb")', '--> a', '--> c' }))
  end)

  it("fails on a stated field it cannot attribute", function()
    assert.is_false((run { 'local a, b = smtpcode.explain("550 5.1.1 User unknown") -- .reason "user_unknown"' }))
  end)

  it("leaves prose alone", function()
    local ok, _, checks = run { 'local d = { delay = 310 }', '-- d.delay about 300 (seconds), d.at = now + delay' }
    assert.is_true(ok)
    assert.equal(0, checks)
  end)

  it("matches a stated string with ... in it", function()
    assert.is_true(match_str("rule ...: \"blocked using\"", 'rule 715: "blocked using"'))
    assert.is_false(match_str("rule 600: \"blocked using\"", 'rule 715: "blocked using"'))
    assert.is_true(match_str("a ... c", "a b c"))
    assert.is_false(match_str("a ... c", "a b d"))
    assert.is_true(match_str("a: ...\nend.", "a: b\nend."))
    assert.is_false(match_str("a: ...\nend.", "a: b\nend"))
  end)
end)
