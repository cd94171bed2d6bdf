-- bench/harness.lua: smtpcode's functions as extra rows of the shared
-- baseline harness (../shared/bench/bench.lua --extra bench/harness.lua),
-- measured in the same process as its idiomatic parsers and its minimal
-- bindings (capi_multi on PUC Lua, ffi_multi on LuaJIT): see bench/cg.sh.
--   smtpcode_scan        scan(line): code, severity, enhanced, text, continued
--   smtpcode_parse       parse(line): a new table per line
--   smtpcode_parse_into  parse(line, nil, t): one reused table, through a
--                        one-line Lua function (the harness passes the
--                        table as the second argument, parse takes it third)
--   shape_floor_rawset, shape_floor_ctor (PUC Lua, when SMTPCODE_SHAPE_FLOOR
--                        names bench/shape_floor.c built): parse's table
--                        with no parsing, the floor of parse
--   smtpcode_parse_wrap  parse(line) through the same kind of function: the
--                        difference to smtpcode_parse is that function's cost
-- parse answers nil for a continuation line ("250-...") on its own, and its
-- table has no `class` name or `continued`: its rows are timed, not
-- cross-checked (run bench.lua with --no-validate when they are included).
return function(add)
  local smtpcode = require "smtpcode"
  if os.getenv("SMTPCODE_BACKEND") and smtpcode._set_backend then
    smtpcode._set_backend(os.getenv("SMTPCODE_BACKEND"))
  end
  local scan, parse = smtpcode.scan, smtpcode.parse
  add("smtpcode_scan", "multi", scan, "smtpcode.scan")
  if os.getenv("BENCH_SCAN_ONLY") then return end
  add("smtpcode_parse", "table", parse, "smtpcode.parse, a new table")
  add("smtpcode_parse_into", "fill", function(line, t) return parse(line, nil, t) end,
    "smtpcode.parse into a reused table")
  add("smtpcode_parse_wrap", "table", function(line) return parse(line) end,
    "smtpcode.parse, a new table, through a Lua function")
  -- the floor of parse on PUC Lua: its table built with no parsing at all
  -- (bench/shape_floor.c, built by bench/cg.sh, which names it here)
  local so = os.getenv("SMTPCODE_SHAPE_FLOOR")
  if so and so ~= "" then
    local floor = assert(package.loadlib(so, "luaopen_shapefloor"))()
    add("shape_floor_rawset", "table", floor.rawset, "parse's table, no parsing (lua_rawset)")
    add("shape_floor_ctor", "table", floor.ctor, "parse's table, no parsing (a Lua constructor)")
  end
end
