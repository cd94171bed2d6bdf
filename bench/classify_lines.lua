-- bench/classify_lines.lua: the lines bench/classify.lua and
-- bench/cgclassify.lua classify: the failure lines of examples/maillog.txt
-- (transient or permanent verdicts, or a failure without a code), then the
-- `diagnostic` column of ../shared/corpus/sisimai5-bounces.tsv when that
-- file exists (BENCH_SISIMAI_TSV: another path, or "" to leave it out).
--   local lines, nlog, ndiag, diag_path = require "classify_lines" (root)

-- Delivery lines that failed: Postfix status=deferred/bounced/expired and
-- smtpd rejects, Exim "**" (failed) and "==" (deferred) lines.
local function is_failure_line(line)
  local st = line:match(" status=(%a+)")
  if st then return st ~= "sent" end
  return line:find(" reject: ", 1, true) or line:find(" ** ", 1, true)
    or line:find(" == ", 1, true)
end

local function failure_lines_of_log(path)
  local out = {}
  local fh = io.open(path, "rb")
  if not fh then return out end
  for line in fh:lines() do
    line = line:gsub("\r$", "")
    if is_failure_line(line) then out[#out + 1] = line end
  end
  fh:close()
  return out
end

local function diagnostics_of(path)
  local out = {}
  if not path or path == "" then return out, nil end
  local fh = io.open(path, "rb")
  if not fh then return out, nil end
  local header = fh:read("*l")
  local col
  local i = 0
  for name in (header .. "\t"):gmatch("([^\t]*)\t") do
    i = i + 1
    if name == "diagnostic" then col = i end
  end
  if not col then fh:close(); return out, nil end
  for line in fh:lines() do
    local j, field = 0, nil
    for f in (line .. "\t"):gmatch("([^\t]*)\t") do
      j = j + 1
      if j == col then field = f; break end
    end
    if field and field:find("%S") then out[#out + 1] = field end
  end
  fh:close()
  return out, path
end

return function(root)
  local log_lines = failure_lines_of_log(root .. "/examples/maillog.txt")
  local tsv = os.getenv("BENCH_SISIMAI_TSV")
  if tsv == nil then tsv = root .. "/../shared/corpus/sisimai5-bounces.tsv" end
  local diag_lines, diag_path = diagnostics_of(tsv)
  local lines = {}
  for _, l in ipairs(log_lines) do lines[#lines + 1] = l end
  for _, l in ipairs(diag_lines) do lines[#lines + 1] = l end
  return lines, #log_lines, #diag_lines, diag_path
end
