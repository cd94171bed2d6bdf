-- The LuaJIT FFI backend's scan shares one struct with every other call.
-- A finalizer may run in the middle of a call, compiled or not, and scan
-- another reply into that struct; the call it interrupted must still give
-- its own answer. Run in fresh processes (spec/fixtures/ffi_reentry.lua):
-- where a finalizer lands depends on the process's memory layout.
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")
local smtpcode = require "smtpcode"

describe("the FFI scan under finalizers that scan", function()
  it("answers as the C API in three fresh processes", function()
    if smtpcode._BACKEND ~= "ffi" then
      pending("needs LuaJIT's FFI backend; this run uses " .. tostring(smtpcode._BACKEND))
      return
    end
    local cmd = ("LUA_PATH='%s' LUA_CPATH='%s' %s spec/fixtures/ffi_reentry.lua 2>&1")
      :format(package.path, package.cpath, helper.interpreter())
    for n = 1, 3 do
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      local backend, bad = out:match("^backend (%S+) bad (%d+)")
      assert.are.equal("ffi", backend, out)
      assert.are.equal("0", bad, "process " .. n .. ": " .. out)
    end
  end)
end)
