-- The FFI cdef in lua/smtpcode/ffi.lua must describe the same structs as
-- src/smtpcode.h: the C module exports their sizes and field offsets.

local smtpcode = require "smtpcode"
local core = smtpcode._core
local layout = core._layout

-- The text of lua/smtpcode/ffi.lua, found on package.path.
local function ffi_source()
  local path = package.searchpath and package.searchpath("smtpcode.ffi", package.path)
    or "lua/smtpcode/ffi.lua"
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- Every struct the FFI backend declares: { name = { field, ... } }, read
-- from its cdef text (fields "int a; int b;" as it writes them).
local function declared_structs(text)
  local structs, n = {}, 0
  for name, body, name2 in text:gmatch("typedef%s+struct%s+([%w_]+)%s*(%b{})%s*([%w_]+)%s*;") do
    assert(name == name2, "typedef struct " .. name .. " ... " .. name2)
    local fields = {}
    for decl in body:sub(2, -2):gmatch("[^;]+") do
      local field = decl:match("([%w_]+)%s*$")
      if field then fields[#fields + 1] = field end
    end
    structs[name] = fields
    n = n + 1
  end
  return structs, n
end

describe("the FFI declarations", function()
  it("declare every field of every struct, at the offsets of src/smtpcode.h", function()
    local ok, ffi = pcall(require, "ffi")
    if not ok or not jit or not jit.status() then
      pending("no FFI (or the JIT is off) on this interpreter")
      return
    end
    assert.are.equal("ffi", smtpcode._backends()[2])
    local structs, n = declared_structs(ffi_source())
    assert.is_true(n >= 3, "the cdef declares the line, reply and verdict structs")
    local seen = {}
    for name, fields in pairs(structs) do
      assert.is_not_nil(layout[name], name .. ": the C module reports no size")
      assert.are.equal(layout[name], ffi.sizeof(name), name)
      seen[name] = true
      for _, field in ipairs(fields) do
        local key = name .. "." .. field
        assert.is_not_nil(layout[key], key .. ": the C module reports no offset")
        assert.are.equal(layout[key], ffi.offsetof(name, field), key)
        seen[key] = true
      end
    end
    -- and the C module reports no field the cdef leaves out
    for key in pairs(layout) do
      assert.is_true(seen[key] == true, key .. " is in the C layout but not in the cdef")
    end
  end)

  it("take every constant they use from the C module", function()
    local text = ffi_source()
    local used = 0
    for name in text:gmatch("K%.([%w_]+)") do
      assert.is_not_nil(core._constants[name], "core._constants." .. name)
      used = used + 1
    end
    assert.is_true(used > 0)
    -- no enum is declared in the cdef: values come from core._constants
    assert.is_nil(text:match("typedef%s+enum"))
  end)

  it("name severities and bounce kinds with the C module's strings", function()
    local sev, bounce = core._severity_names, core._bounce_names
    assert.are.same({ [0] = "unknown", [1] = "unknown", [2] = "success",
      [3] = "intermediate", [4] = "transient", [5] = "permanent" }, sev)
    assert.are.same({ "soft", "hard" }, bounce)
    for _, line in ipairs({ "250 ok", "354 go", "451 4.7.1 later", "550 5.1.1 no" }) do
      local _, severity = core.scan(line)
      assert.are.equal(sev[tonumber(line:sub(1, 1))], severity)
    end
  end)
end)

describe("_VERSION", function()
  it("is the version string of the C core, also named in the CHANGELOG", function()
    assert.is_string(smtpcode._VERSION)
    assert.matches("^%d+%.%d+%.%d+$", smtpcode._VERSION)
    local f = io.open("CHANGELOG.md")
    if not f then pending("CHANGELOG.md not found from " .. os.getenv("PWD")) return end
    local text = f:read("*a")
    f:close()
    assert.is_truthy(text:find(smtpcode._VERSION, 1, true), "CHANGELOG.md names " .. smtpcode._VERSION)
  end)

  it("matches the rockspec's version scheme", function()
    local dir = io.open("rockspec/smtpcode-scm-1.rockspec")
    if not dir then pending("no rockspec") return end
    local text = dir:read("*a")
    dir:close()
    assert.matches('version%s*=%s*"scm%-1"', text)
  end)
end)
