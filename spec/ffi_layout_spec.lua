-- The FFI cdef in lua/smtpcode/ffi.lua must describe the same structs as
-- src/smtpcode.h: the C module exports their sizes and field offsets.

local smtpcode = require "smtpcode"
local layout = smtpcode._core._layout

describe("the FFI declarations", function()
  it("match the C struct layout", function()
    local ok, ffi = pcall(require, "ffi")
    if not ok or not jit or not jit.status() then
      pending("no FFI (or the JIT is off) on this interpreter")
      return
    end
    assert.are.equal("ffi", smtpcode._backends()[2])
    local checked = 0
    for key, value in pairs(layout) do
      local struct, field = key:match("^([%w_]+)%.([%w_]+)$")
      if struct then
        assert.are.equal(value, ffi.offsetof(struct, field), key)
      else
        assert.are.equal(value, ffi.sizeof(key), key)
      end
      checked = checked + 1
    end
    assert.is_true(checked >= 3)
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
