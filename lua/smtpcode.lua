-- smtpcode: read SMTP replies and say what they mean.
--
-- Front module over the C core `smtpcode.core`. On LuaJIT with the JIT on,
-- the hot functions (`scan`, `parse`, `classify` of a text) call the same
-- exported C functions through the FFI (lua/smtpcode/ffi.lua); elsewhere
-- they are the Lua C API functions of the core.
-- `smtpcode._BACKEND` says which ("ffi" or "capi"). The environment
-- variable SMTPCODE_BACKEND=capi forces the C API; `smtpcode._set_backend`
-- switches at run time (for tests).
--
-- The rest lives by concern under lua/smtpcode/: describe.lua (describe,
-- codes), rules.lua (add_rule, clear_rules), stream.lua (reader,
-- read_reply, format), explain.lua (explain).

local core = require "smtpcode.core"

local tostring = tostring
local getenv = os.getenv

local M = {
  _VERSION = core._VERSION,
  _core = core,
}

-- The C API implementations are always available.
-- classify(x [, opts [, into]]): why a reply failed. x is a text (log
-- line, exception message, reply) or a parse/find result table. `into`:
-- a table to fill and return instead of a new one (hot loops). The C
-- API backend is the C function itself, argument checks included.
local capi = {
  parse = core.parse,
  scan = core.scan,
  classify = core.classify,
}

-- error code names by negative status, as the core names them
M.status_names = core._status_names

local backends = { capi = capi }
local ffiimpl = require("smtpcode.ffi").load()
if ffiimpl then backends.ffi = ffiimpl end

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

-- add_rule(r), clear_rules(): run-time classify rules, in
-- lua/smtpcode/rules.lua (while any exist, classify goes to the C
-- function on every backend: it calls their hook).
do
  local rules = require "smtpcode.rules"
  if ffiimpl then rules.on_hooked = ffiimpl.set_hooked end
  M.add_rule, M.clear_rules = rules.add_rule, rules.clear_rules
end

-- find(text): the reply code and enhanced status code in free text (log
-- lines, exception messages, DSN fields), or nil. C API only: it returns
-- a table either way, so the FFI would not save the allocation.
M.find = core.find
-- bounce(message [, opts]): a whole bounce message, read by the C
-- core (src/bounce.c); the C API function on every backend.
M.bounce = core.bounce

-- reasons(): the record of every reason of classify, in the reasons' order
-- (data/reasons.tsv, compiled into the core): a new table at each call.
M.reasons = core.reason_records

-- describe(x), codes(kind): the registry (what every code means), in
-- lua/smtpcode/describe.lua over the C core's tables.
do
  local describe = require "smtpcode.describe"
  M.describe, M.codes = describe.describe, describe.codes
end

return M
