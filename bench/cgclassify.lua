-- bench/cgclassify.lua: instructions per classify call under callgrind,
-- over the lines of bench/classify.lua (bench/classify_lines.lua).
--
--   bash bench/cg.sh         (runs this and the shared harness, prints a table)
--
-- Run under valgrind --tool=callgrind with SMTPBENCH_SO pointing at the
-- shared harness's C module (../shared/bench/build.sh), whose client
-- requests zero and dump the counts: eight warm-up passes, then four
-- counted passes per row, dumped as "cgclassify:ROW:LINES".
--   classify       classify(line), a new table
--   classify_into  classify(line, nil, into), one reused table
-- The C core alone (smtpcode_find + smtpcode_classify) is counted by
-- bench/cclassify.c (make bench); the difference is the binding's cost.

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local smtpcode = require "smtpcode"
if os.getenv("SMTPCODE_BACKEND") and smtpcode._set_backend then
  smtpcode._set_backend(os.getenv("SMTPCODE_BACKEND"))
end
local sb = assert(package.loadlib(assert(os.getenv("SMTPBENCH_SO"), "SMTPBENCH_SO"),
  "luaopen_smtpbench"))()
local lines = require "classify_lines" (here .. "/..")
local n = #lines
local classify = smtpcode.classify

local function pass_new()
  local acc = 0
  for i = 1, n do
    local r = classify(lines[i])
    if r.reason then acc = acc + 1 end
  end
  return acc
end

local into = {}
local function pass_into()
  local acc = 0
  for i = 1, n do
    local r = classify(lines[i], nil, into)
    if r.reason then acc = acc + 1 end
  end
  return acc
end

local label = os.getenv("CG_LABEL") or (jit and "luajit" or _VERSION)
for _, row in ipairs({ { "classify", pass_new }, { "classify_into", pass_into } }) do
  for _ = 1, 8 do row[2]() end -- warm-up: caches filled, traces settled
  collectgarbage("collect")
  sb.cg_zero()
  for _ = 1, 4 do row[2]() end
  sb.cg_dump(label .. ":" .. row[1] .. ":" .. 4 * n)
end
