-- bench/userparse.lua: the reply parsing a user writes in pure Lua with
-- string.match, shared by the "lua" contenders of bench/parse.lua (whole
-- replies) and bench/stream.lua (a line loop over reads).

local match, concat, floor, tonumber = string.match, table.concat, math.floor, tonumber

local M = {}

M.SEV = { [2] = "success", [3] = "intermediate", [4] = "transient", [5] = "permanent" }
local SEV = M.SEV

-- M.reply(): a function line -> the reply table once a last line ("250 ",
-- not "250-") ends the reply, false while it goes on, nil and "syntax" or
-- "inconsistent" on a bad line. line comes without its CR LF. The table:
-- code, enhanced, severity, text, lines.
function M.reply()
  local lines, code, enhanced = {}, nil, nil
  return function(line)
    local c, sep, rest = match(line, "^(%d%d%d)([ %-]?)(.*)$")
    if not c then return nil, "syntax" end
    if code and c ~= code then return nil, "inconsistent" end
    code = c
    local enh, text = match(rest, "^([245]%.%d%d?%d?%.%d%d?%d?) ?(.*)$")
    if enh then
      enhanced = enhanced or enh
      rest = text
    end
    lines[#lines + 1] = rest
    if sep == "-" then return false end
    local n = tonumber(code)
    local r = { code = n, enhanced = enhanced, severity = SEV[floor(n / 100)] or "unknown",
                text = concat(lines, "\n"), lines = lines }
    lines, code, enhanced = {}, nil, nil
    return r
  end
end

return M
