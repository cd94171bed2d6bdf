-- bench/classify.lua: smtpcode.classify next to Sisimai->match (Perl) on the
-- same failure lines, and classify's cost per byte of text.
--
--   make bench      (runs this with lua5.4 and luajit)
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/classify.lua
--
-- Lines: the failure lines of examples/maillog.txt (transient or permanent
-- verdicts, or a failure without a code), plus the `diagnostic` column of
-- ../shared/corpus/sisimai5-bounces.tsv when that file exists (set
-- BENCH_SISIMAI_TSV to use another path, or to "" to leave it out).
-- Sisimai is timed by bench/sisimai-match.pl in a child perl process, which
-- measures CPU time inside Perl (start-up, module loading and a warm-up
-- pass excluded);
-- classify is timed with os.clock, CPU time too. Best of BENCH_ROUNDS
-- (default 3) rounds of at least 0.2 s each; classify and Sisimai rounds
-- alternate.
-- Environment: BENCH_ROUNDS, BENCH_BACKEND=capi|ffi (LuaJIT; classify uses the C API either way).

local smtpcode = require "smtpcode"

local clock, format = os.clock, string.format
local getenv = os.getenv
local floor = math.floor

if getenv("BENCH_BACKEND") and smtpcode._set_backend then
  smtpcode._set_backend(getenv("BENCH_BACKEND"))
end

local ROUNDS = tonumber(getenv("BENCH_ROUNDS") or "") or 3
local MIN_TIME = 0.2
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local root = here .. "/.."

local classify = smtpcode.classify

-- {======================================================
-- Lines (bench/classify_lines.lua)
-- =======================================================

package.path = here .. "/?.lua;" .. package.path
local lines, nlog, ndiag, diag_path = require "classify_lines" (root)
local nbytes = 0
for _, l in ipairs(lines) do nbytes = nbytes + #l end
if #lines == 0 then
  io.stderr:write("bench/classify.lua: no lines (examples/maillog.txt missing?)\n")
  os.exit(1)
end

-- }======================================================

-- {======================================================
-- Timing
-- =======================================================

-- Seconds per pass of f over `list`, in one round of >= MIN_TIME.
local function time_round(f, list)
  local n = #list
  local iters = 1
  while true do
    local t0 = clock()
    for _ = 1, iters do
      for i = 1, n do f(list[i]) end
    end
    local t = clock() - t0
    if t >= MIN_TIME then return t / iters end
    iters = iters * 2
  end
end

-- Best of ROUNDS rounds.
local function time_passes(list, f)
  f = f or classify
  local best = math.huge
  for _ = 1, ROUNDS do
    local per = time_round(f, list)
    if per < best then best = per end
  end
  return best
end

-- One round of Sisimai->match over the lines in file tmp, iters times:
-- seconds per pass, or nil and the output of the failed run.
local function sisimai_round(tmp, iters)
  local p = io.popen(format("perl %s/sisimai-match.pl %s %d 2>&1", here, tmp, iters))
  local out = p:read("*a")
  p:close()
  local n, it, secs, ver = out:match("lines (%d+) iterations (%d+) seconds ([%d%.]+) version (%S+)")
  if not n then return nil, out end
  return { per = tonumber(secs) / tonumber(it), lines = tonumber(n), version = ver }
end

-- }======================================================

local impl = jit and jit.version or _VERSION
print(format("classify vs Sisimai->match  (%s, smtpcode %s, %s backend)", impl,
  smtpcode._VERSION, smtpcode._BACKEND))
print(format("lines: %d failure lines of examples/maillog.txt + %d diagnostics of %s = %d lines, %.0f bytes/line",
  nlog, ndiag, diag_path and "sisimai5-bounces.tsv" or "(no corpus)", #lines, nbytes / #lines))

-- classify and Sisimai take turns, round after round, so that both see the
-- machine in the same moods (a shared machine is slower at times); each
-- keeps its best round.
local into = {}
local function classify_into(l) return classify(l, nil, into) end
local tmp = os.tmpname()
do
  local fh = assert(io.open(tmp, "wb"))
  for _, l in ipairs(lines) do fh:write((l:gsub("[\r\n]", " ")), "\n") end
  fh:close()
end
local best_c, best_i, best_s = math.huge, math.huge, nil
local s, err = sisimai_round(tmp, 1) -- sizes the timed rounds (warm-up)
local iters = s and math.max(1, floor(0.5 / s.per)) or nil
for _ = 1, ROUNDS do
  best_c = math.min(best_c, time_round(classify, lines))
  best_i = math.min(best_i, time_round(classify_into, lines))
  if iters then
    local r = sisimai_round(tmp, iters)
    if r and (not best_s or r.per < best_s.per) then best_s = r end
  end
end
os.remove(tmp)
local us_classify = best_c / #lines * 1e6
local us_into = best_i / #lines * 1e6
print(format("  %-28s %9.3f us/line  %12.0f lines/s", "smtpcode.classify", us_classify, 1e6 / us_classify))
print(format("  %-28s %9.3f us/line  %12.0f lines/s", "  ... into a reused table", us_into, 1e6 / us_into))
if best_s then
  local us_sisimai = best_s.per / best_s.lines * 1e6
  print(format("  %-28s %9.3f us/line  %12.0f lines/s", "Sisimai->match " .. best_s.version,
    us_sisimai, 1e6 / us_sisimai))
  print(format("  throughput ratio classify / Sisimai->match: %.0fx (into a reused table: %.0fx)",
    us_sisimai / us_classify, us_sisimai / us_into))
else
  print("  Sisimai->match: not run (" .. tostring(err):gsub("\n.*", "") .. ")")
end

-- {======================================================
-- Linear in the text length
-- =======================================================

-- Realistic text of any length: a Postfix bounce line whose reply text is
-- the corpus lines one after another, cut to size.
local filler = table.concat(lines, " ")
local function line_of(len)
  local head = "Mar  4 08:16:56 mail postfix/smtp[21941]: 94147676F6: to=<peggy@example.net>, " ..
    "relay=mx1.example.net[198.51.100.7]:25, dsn=5.1.1, " ..
    "status=bounced (host mx1.example.net[198.51.100.7] said: 550 5.1.1 "
  local tail = " user unknown (in reply to RCPT TO command))"
  local need = len - #head - #tail
  local body = filler
  while #body < need do body = body .. " " .. filler end
  return head .. body:sub(1, need):gsub("[%c]", " ") .. tail
end

print("classify cost by text length:")
for _, len in ipairs({ 100, 1000, 10000 }) do
  local l = len < 300 and ("550 5.1.1 <peggy@example.net>: Recipient address rejected: " ..
    string.rep("x", len - 75) .. " user unknown") or line_of(len)
  local list = {}
  for i = 1, 64 do list[i] = l end
  local per = time_passes(list) / #list
  print(format("  %6d bytes  %10.3f us/line  %7.2f ns/byte", #l, per * 1e6, per * 1e9 / #l))
end

-- {======================================================
-- Run-time rules (add_rule)
-- =======================================================

-- A rule that holds settles the verdict classify already has, in one
-- pass; what a user would write without add_rule classifies again with
-- the reason given (opts.reason) when the phrase is in the text.
do
  local lower, sfind = string.lower, string.find
  local opts = { reason = "policy", scope = "message", matched = "mine" }
  local function by_hand(l)
    local r = classify(l)
    if r.reason and sfind(lower(l), " ", 1, true) then r = classify(l, opts) end
    return r
  end
  local none = time_passes(lines)
  local hand = time_passes(lines, by_hand)
  smtpcode.add_rule { reason = "policy", scope = "message", match = "zz-never-there-zz" }
  local miss = time_passes(lines)
  smtpcode.clear_rules()
  smtpcode.add_rule { reason = "policy", scope = "message", match = " " } -- holds on every line
  local hit = time_passes(lines)
  smtpcode.clear_rules()
  local function us(t) return t / #lines * 1e6 end
  print("classify with run-time rules (time per line; ratio to classify without rules):")
  print(format("  %-40s %9.3f us/line", "no rules", us(none)))
  print(format("  %-40s %9.3f us/line  %5.2fx", "one rule that never holds", us(miss), miss / none))
  print(format("  %-40s %9.3f us/line  %5.2fx", "one rule that holds on every line", us(hit), hit / none))
  print(format("  %-40s %9.3f us/line  %5.2fx", "by hand: classify, then again with opts", us(hand),
    hand / none))
end
