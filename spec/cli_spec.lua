-- bin/smtpcode: the command line, run with the interpreter that runs busted
-- (lua5.1 .. lua5.4, luajit) from the repository root, on the bundled mail
-- log examples/maillog.txt and on stdin.

local smtpcode = require "smtpcode"

local io, os = io, os
local ipairs, pairs, tonumber, pcall, require = ipairs, pairs, tonumber, pcall, require
local format = string.format

-- The interpreter: the first argument before the script (busted's arg[-1]),
-- else the name that matches this Lua.
local function interpreter()
  local i, lua = -1, nil
  while arg and arg[i] do
    lua = arg[i]
    i = i - 1
  end
  if lua then return lua end
  if jit then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

local LUA = interpreter()
local LOG = "examples/maillog.txt"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run bin/smtpcode with the arguments (a list) and an optional stdin text.
-- Returns stdout, stderr, exit status.
local function run(args, stdin, env)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = q(a) end
  local errf = os.tmpname()
  local inf
  local cmd = (env or "") .. " " .. q(LUA) .. " bin/smtpcode " .. table.concat(quoted, " ")
  if stdin then
    inf = os.tmpname()
    local fh = assert(io.open(inf, "wb"))
    fh:write(stdin)
    fh:close()
    cmd = cmd .. " < " .. q(inf)
  else
    cmd = cmd .. " < /dev/null"
  end
  local p = assert(io.popen(cmd .. " 2> " .. q(errf) .. "; echo \"exit=$?\""))
  local out = p:read("*a")
  p:close()
  local fh = assert(io.open(errf, "rb"))
  local err = fh:read("*a")
  fh:close()
  os.remove(errf)
  if inf then os.remove(inf) end
  local status = tonumber(out:match("exit=(%d+)\n$"))
  out = out:gsub("exit=%d+\n$", "")
  return out, err, status
end

local function lines_of(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

local function split_tabs(l)
  local t = {}
  for f in (l .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = f end
  return t
end

local REASON = { ["-"] = true }
for _, r in ipairs(smtpcode._core.reasons()) do REASON[r] = true end
local SEVERITY = { success = true, intermediate = true, transient = true, permanent = true, unknown = true }

-- The lines of the mail log, to look a result's line number up.
local log_lines = {}
for l in io.lines(LOG) do log_lines[#log_lines + 1] = l end

describe("bin/smtpcode classify", function()
  local out, err, status
  setup(function() out, err, status = run({ "classify", LOG }) end)

  it("prints one tab-separated result per delivery line of the log, then a summary", function()
    assert.equal(0, status)
    assert.equal("", err)
    local results, summary = {}, {}
    for _, l in ipairs(lines_of(out)) do
      if l:sub(1, 1) == "#" then summary[#summary + 1] = l
      else results[#results + 1] = l end
    end
    assert.truthy(#results > 100)
    assert.equal("# where\treason\tseverity\tcode\tenhanced\tbounce\tretry\tscope\ttext" ..
      "\ttime\tdirection\tqueue_id\trecipient\tstatus\tmta", summary[1])
    table.remove(summary, 1)
    for _, l in ipairs(results) do
      local f = split_tabs(l)
      assert.equal(15, #f, l)
      local n = tonumber(f[1]:match("^" .. LOG:gsub("%.", "%%.") .. ":(%d+)$"))
      assert.truthy(n, l)
      assert.truthy(REASON[f[2]], l)
      assert.truthy(SEVERITY[f[3]], l)
      assert.truthy(f[4] == "-" or f[4]:match("^[2-5]%d%d$"), l)
      assert.truthy(f[5] == "-" or f[5]:match("^[245]%.%d+%.%d+$"), l)
      assert.truthy(f[6] == "-" or f[6] == "hard" or f[6] == "soft", l)
      assert.truthy(f[7] == "-" or f[7] == "yes" or f[7] == "no", l)
      -- the result agrees with classify on that line of the file
      local c = smtpcode.classify(log_lines[n])
      assert.equal(c.severity, f[3], l)
      assert.equal(c.reason or "-", f[2], l)
      assert.equal(c.code and tostring(c.code) or "-", f[4], l)
      -- time, direction, queue id and recipient as the line has them
      local line = log_lines[n]
      assert.equal(line:sub(1, #f[10]), f[10], l)
      assert.truthy(line:find("^%a%a%a [ %d]%d %d%d:%d%d:%d%d ") and #f[10] == 15
        or line:find("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d ") and #f[10] == 19, l)
      assert.truthy(f[11] == "outbound" or f[11] == "inbound", l)
      if f[12] ~= "-" then
        assert.truthy(line:find(" " .. f[12] .. ": ", 1, true) or line:find(" " .. f[12] .. " ", 1, true), l)
      end
      assert.truthy(f[13] ~= "-" or f[14] == "expired", l)
      if f[13] ~= "-" then assert.truthy(line:find("to=<" .. f[13] .. ">", 1, true)
        or line:find(" " .. f[13], 1, true), l) end
      if line:find("NOQUEUE: reject:", 1, true) then
        assert.equal("inbound", f[11], l)
        assert.equal("-", f[12], l)
        assert.equal("reject", f[14], l)
        -- Postfix's trailer is not part of the text
        assert.falsy(f[9]:find("proto=", 1, true), l)
      end
    end
    assert.truthy(summary[1]:find(format("^# summary: %d lines read, %d results", #log_lines, #results)))
    local total = out:match("\n# total +[%d%- ]- (%d+)\n")
    assert.equal(#results, tonumber(total))
  end)

  it("skips mail log lines that are not about a delivery", function()
    local skipped = 0
    for _, l in ipairs(lines_of(out)) do
      local n = tonumber(l:match("^[^\t]*:(%d+)\t"))
      if n then
        local line = log_lines[n]
        assert.falsy(line:find("connect from", 1, true), line)
        assert.falsy(line:find("message%-id="), line)
        assert.falsy(line:find(" Completed$"), line)
        assert.falsy(line:find(" <= ", 1, true), line)
      end
    end
    for _, l in ipairs(log_lines) do
      if l:find("connect from", 1, true) then skipped = skipped + 1 end
    end
    assert.truthy(skipped > 0)
    assert.truthy(tonumber(out:match("(%d+) skipped")) >= skipped)
  end)

  it("counts each failure reason of the log in the summary", function()
    local counted = {}
    for _, l in ipairs(lines_of(out)) do
      local f = split_tabs(l)
      if #f == 15 and f[2] ~= "-" and l:sub(1, 1) ~= "#" then counted[f[2]] = (counted[f[2]] or 0) + 1 end
    end
    for reason, n in pairs(counted) do
      if reason ~= "unknown" then
        local row = out:match("\n# " .. reason .. " +([^\n]*)")
        assert.truthy(row, reason)
        assert.equal(n, tonumber(row:match("(%d+)$")), reason)
      end
    end
    assert.truthy(counted.user_unknown and counted.greylisted and counted.blocklisted)
  end)

  it("reads qmail-send delivery lines, with their spaces and line breaks restored", function()
    local S = "@4000000065e5c9d41c7a2b3c "
    local log = table.concat({
      S .. "new msg 4711",
      S .. "info msg 4711: bytes 2345 from <bob@example.net> qp 123 uid 89",
      S .. "starting delivery 4713: msg 4711 to remote ann@example.org",
      S .. "delivery 4713: failure: 192.0.2.7_does_not_like_recipient./Remote_host_said:"
        .. "_550_5.1.1_<ann@example.org>:_Recipient_address_rejected:_User_unknown/Giving_up_on_192.0.2.7./",
      S .. "delivery 4714: deferral: Connected_to_192.0.2.7_but_connection_died._(#4.4.2)/",
      S .. "starting delivery 4715: msg 4712 to remote bob@example.org",
      S .. "delivery 4715: success: 192.0.2.7_accepted_message./Remote_host_said:_250_2.0.0_Ok:_queued_as_AB12/",
      S .. "status: local 0/10 remote 1/20",
      S .. "end msg 4711",
      "Mar  4 09:12:01 mail qmail: 1709543521.123456 delivery 4717: failure:"
        .. " 192.0.2.7_does_not_like_recipient./Remote_host_said:_552_5.2.2_Mailbox_full/Giving_up_on_192.0.2.7./",
    }, "\n") .. "\n"
    local o, e, st = run({ "classify" }, log)
    assert.equal(0, st)
    assert.equal("", e)
    local got = {}
    for _, l in ipairs(lines_of(o)) do
      local f = split_tabs(l)
      if f[1]:match("^%-:%d+$") then
        got[#got + 1] = table.concat({ f[1], f[2], f[3], f[4], f[12], f[13], f[14], f[15] }, " ")
      end
    end
    -- deliveries 4713 and 4715 were started on line 3 and 7 (message 4711
    -- and 4712); 4714 and 4717 were not seen starting
    assert.same({ "-:4 user_unknown permanent 550 4711 ann@example.org bounced qmail",
      "-:5 network transient - - - deferred qmail",
      "-:7 - success 250 4712 bob@example.org sent qmail",
      "-:10 mailbox_full permanent 552 - - bounced qmail" }, got)
    assert.truthy(o:find("10 lines read, 4 results, 6 skipped", 1, true))
  end)

  it("reads stdin when no file is given, and for -", function()
    local input = "550 5.1.1 <bob@example.net>: User unknown\r\nhello world\n" ..
      "451 4.7.1 Greylisting in action, please come back later\n"
    for _, args in ipairs({ { "classify" }, { "classify", "-" } }) do
      local o, e, st = run(args, input)
      assert.equal(0, st)
      assert.equal("", e)
      local l = lines_of(o)
      assert.same({ "-:1", "user_unknown", "permanent", "550", "5.1.1", "hard", "no", "recipient",
        "<bob@example.net>: User unknown", "-", "-", "-", "-", "-", "other" }, split_tabs(l[2]))
      assert.equal("-:3", split_tabs(l[3])[1])
      assert.equal("greylisted", split_tabs(l[3])[2])
      assert.truthy(o:find("# summary: 3 lines read, 2 results, 1 skipped", 1, true))
    end
  end)

  it("reports an unreadable file, goes on with the others and exits with status 1", function()
    local o, e, st = run({ "classify", "spec/no-such-file.log", LOG, "spec" })
    assert.equal(1, st)
    assert.truthy(e:find("smtpcode: cannot open spec/no-such-file.log: No such file or directory", 1, true))
    assert.truthy(e:find("smtpcode: cannot read spec: ", 1, true))
    assert.truthy(o:find(format("# summary: %d lines read", #log_lines), 1, true))
    assert.truthy(o:find("2 unreadable", 1, true))
  end)

  it("prints JSON lines with --json, and the summary as the last object", function()
    local ok, cjson = pcall(require, "cjson")
    if not ok then
      pending("lua-cjson is not installed for " .. (jit and jit.version or _VERSION))
      return
    end
    local o, e, st = run({ "classify", "--json", LOG })
    assert.equal(0, st)
    assert.equal("", e)
    local l = lines_of(o)
    local n = 0
    for i = 1, #l - 1 do
      local r = cjson.decode(l[i])
      assert.truthy(SEVERITY[r.severity])
      assert.truthy(r.where:find("^examples/maillog%.txt:%d+$"))
      n = n + 1
    end
    local s = cjson.decode(l[#l]).summary
    assert.equal(#log_lines, s.lines)
    assert.equal(n, s.results)
    assert.equal(s.lines, s.results + s.skipped)
    assert.truthy(s.reasons.user_unknown.permanent > 0)
  end)

  it("says clearly that --json needs lua-cjson when it is missing", function()
    local v = jit and "5_1" or _VERSION:match("%d+%.%d+"):gsub("%.", "_")
    local env = "LUA_CPATH='/nonexistent/?.so' LUA_CPATH_" .. v .. "='/nonexistent/?.so'"
    local o, e, st = run({ "classify", "--json", LOG }, nil, env)
    assert.equal(2, st)
    assert.equal("", o)
    assert.truthy(e:find("--json needs lua-cjson", 1, true))
  end)
end)

describe("bin/smtpcode explain", function()
  it("explains the text given as arguments", function()
    local o, _, st = run({ "explain", "smtp", "error", "[221]", "2.0.0", "bye" })
    assert.equal(0, st)
    assert.equal((smtpcode.explain("smtp error [221] 2.0.0 bye")) .. "\n", o)
    assert.truthy(o:find("not an error", 1, true))
  end)

  it("explains each line of stdin, and a multi-line reply once", function()
    local o, _, st = run({ "explain" }, "554 5.1.8\n\n451 4.7.1 Greylisting in action, please come back later\n")
    assert.equal(0, st)
    assert.equal((smtpcode.explain("554 5.1.8")) .. "\n\n" ..
      (smtpcode.explain("451 4.7.1 Greylisting in action, please come back later")) .. "\n", o)
    o = run({ "explain" }, "550-5.1.1 The email account that you tried to reach does not exist.\r\n" ..
      "550 5.1.1 Please try double-checking the recipient's address.\r\n")
    local _, heads = o:gsub("What it means:", "")
    assert.equal(1, heads)
  end)
end)

describe("bin/smtpcode", function()
  it("describes a code from the registry", function()
    local o, _, st = run({ "describe", "5.7.26" })
    assert.equal(0, st)
    assert.truthy(o:find("^5%.7%.26 %(enhanced%)\n"))
    assert.truthy(o:find(smtpcode.describe("5.7.26").title, 1, true))
    local _, e, st2 = run({ "describe", "hello" })
    assert.equal(1, st2)
    assert.truthy(e:find("^smtpcode: describe: hello: "))
  end)

  it("prints help and version, and refuses unknown commands", function()
    local o, _, st = run({ "--help" })
    assert.equal(0, st)
    assert.truthy(o:find("^usage: smtpcode explain"))
    o, _, st = run({ "--version" })
    assert.equal(0, st)
    assert.truthy(o:find("^smtpcode " .. smtpcode._VERSION:gsub("%p", "%%%0")))
    local _, e, st3 = run({ "frobnicate" })
    assert.equal(2, st3)
    assert.truthy(e:find("unknown command 'frobnicate'", 1, true))
  end)
end)
