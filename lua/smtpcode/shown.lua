--- smtpcode.shown: a value as it appears in an error message of the Lua
-- modules (the C binding has its own, src/lua/lsmtpcode.c).

local type, tostring = type, tostring
local sub, format, byte, gsub = string.sub, string.format, string.byte, string.gsub

local _M = {}

--- escaped(s): s for an error message: its first 40 bytes, bytes outside printable
-- ASCII (and the quote and backslash) as \ddd, "..." when cut.
function _M.escaped(s)
  local q = gsub(sub(s, 1, 40), ".", function(c)
    local b = byte(c)
    if b < 32 or b > 126 or b == 39 or b == 92 then return format("\\%03d", b) end
  end)
  if #s > 40 then q = q .. "..." end
  return q
end

--- shown(v): any value for an error message: a string escaped, else its tostring
function _M.shown(v)
  if type(v) == "string" then return _M.escaped(v) end
  return tostring(v)
end

return _M
