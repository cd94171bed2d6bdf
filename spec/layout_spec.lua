-- Files by concern: no hand-written C file of the core or the binding
-- (src/, src/lua/) over 950 lines, no hand-written Lua file (lua/, bin/)
-- over 600. A file is generated when its first lines say so ("generated
-- by ... do not edit", in any case, as every data/gen_*.lua writes): those
-- are tables, and are left out.

local helper = dofile("spec/helper.lua")

local MAX_C, MAX_LUA = 950, 600

local function ls(pattern)
  local p = assert(io.popen("ls -1 " .. pattern .. " 2>/dev/null"))
  local files = {}
  for name in p:lines() do files[#files + 1] = name end
  p:close()
  return files
end

-- Lines of a text (a last line without its line end counts), and whether
-- its head says it is generated.
local function measure(path)
  local text = assert(helper.read(helper.root .. "/" .. path), path)
  local _, n = text:gsub("\n", "")
  if #text > 0 and text:sub(-1) ~= "\n" then n = n + 1 end
  local head = text:sub(1, 400):lower()
  return n, head:find("generated", 1, true) ~= nil and head:find("do not edit", 1, true) ~= nil
end

local function oversize(patterns, max)
  local over, seen = {}, 0
  for _, pat in ipairs(patterns) do
    for _, f in ipairs(ls(helper.q(helper.root) .. "/" .. pat)) do
      local rel = f:sub(#helper.root + 2)
      local n, generated = measure(rel)
      if not generated then
        seen = seen + 1
        if n > max then over[#over + 1] = ("%s has %d lines"):format(rel, n) end
      end
    end
  end
  return over, seen
end

describe("the layout of the tree", function()
  it("tells generated files by their first lines", function()
    for _, f in ipairs { "src/rules_data.c", "src/registry_data.c", "src/bounce_data.c" } do
      local _, gen = measure(f)
      assert.is_true(gen, f)
    end
    local _, hand = measure("src/bounce.c")
    assert.is_false(hand)
  end)

  it("has no hand-written C file in src/ or src/lua/ over " .. MAX_C .. " lines", function()
    local over, seen = oversize({ "src/*.c", "src/*.h", "src/lua/*.c", "src/lua/*.h" }, MAX_C)
    assert.is_true(seen >= 10, "only " .. seen .. " C files found")
    assert.same({}, over)
  end)

  it("has no hand-written Lua file in lua/ or bin/ over " .. MAX_LUA .. " lines", function()
    local over, seen = oversize({ "lua/*.lua", "lua/smtpcode/*.lua", "bin/*" }, MAX_LUA)
    assert.is_true(seen >= 5, "only " .. seen .. " Lua files found")
    assert.same({}, over)
  end)
end)
