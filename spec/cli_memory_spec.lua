-- bin/smtpcode keeps its memory flat on any input: hundreds of MB through a
-- pipe, as long lines, lines cut at 1 MiB, a line with no end, real log
-- lines and the hostile lines of spec/linear_spec.lua. The peak resident
-- set (VmHWM, as /usr/bin/time -f %M reports it) for 200 MB must stay
-- within 1.5 times the peak for 10 MB. Only ratios, never absolute figures.

local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local io, os = io, os
local rep, format = string.rep, string.format
local tonumber = tonumber

local LUA = helper.interpreter()
local TIME = "/usr/bin/time"
local q = helper.q

-- A chunk of about 2 MB: real log lines, then hostile ones.
local function make_chunk(path)
  local fh = assert(io.open(path, "wb"))
  local n = 0
  for l in io.lines(helper.root .. "/examples/maillog.txt") do
    fh:write(l, "\n")
    n = n + 1
    if n >= 150 then break end
  end
  fh:write("Mar 12 10:16:40 mx1 postfix/smtp[1]: ABC: to=<a@b>, status=deferred (",
    rep("status=a (", 40000), ")\n")
  fh:write(rep("postfix", 60000), "\n")
  fh:write("@400000006654a1b20c8d3e14 delivery 1: failure: ", rep("_", 100000), "\n")
  fh:write(rep("550-5.1.1 ", 20000), "\n")
  fh:write(rep(" ", 1024 * 1024 + 10), "x\n")         -- a line past 1 MiB
  fh:write(rep("\194\155\226\128\174\255", 20000), "\n")
  fh:close()
end

-- Peak RSS in KB of the command `input | bin/smtpcode args` (input: a
-- shell pipeline, or nil), and what /usr/bin/time wrote.
local function rss(input, args)
  local tm = os.tmpname()
  os.execute(format("%s%s -o %s -f %%M %s bin/smtpcode %s > /dev/null 2>&1",
    input and input .. " | " or "", TIME, q(tm), q(LUA), args))
  local fh = assert(io.open(tm, "rb"))
  local out = fh:read("*a")
  fh:close()
  os.remove(tm)
  return tonumber(out:match("(%d+)%s*$")), out
end

-- Peak RSS of `bin/smtpcode args` fed the chunk `times` times, then
-- `tail_bytes` bytes without a line end.
local function peak(args, chunk, times, tail_bytes)
  return rss(format("(for i in $(seq %d); do cat %s; done; head -c %d /dev/zero | tr '\\0' x)",
    times, q(chunk), tail_bytes), args)
end

-- Peak RSS of `bin/smtpcode bounce FILE` on an mbox of `times` copies of
-- the file `unit`.
local function bounce_peak(unit, times)
  local mbox = os.tmpname()
  os.execute(format("for i in $(seq %d); do cat %s; done > %s", times, q(unit), q(mbox)))
  local kb, out = rss(nil, "bounce " .. q(mbox))
  os.remove(mbox)
  return kb, out
end

describe("bin/smtpcode memory", function()
  it("stays flat from a 5 MB to a 100 MB mbox to bounce", function()
    if not helper.readable(TIME) then
      pending("no " .. TIME .. " (Debian package time)")
      return
    end
    -- about 1 MB of small bounces, each behind its "From " line
    local unit = os.tmpname()
    local fh = assert(io.open(unit, "wb"))
    local msg = "From MAILER-DAEMON Mon Dec  7 10:00:00 2026\n" ..
      "From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\n" ..
      "Hi. This is the qmail-send program at mx.example.net.\n" ..
      "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n" ..
      "<ann@example.org>:\nRemote host said: 550 5.1.1 mailbox unknown\n\n" ..
      "--- Below this line is a copy of the message.\n\nSubject: hi\n\n" .. rep("hello\n", 300) .. "\n"
    fh:write(rep(msg, math.floor(1024 * 1024 / #msg)))
    fh:close()
    local small, o1 = bounce_peak(unit, 5)
    local big, o2 = bounce_peak(unit, 100)
    os.remove(unit)
    assert.truthy(small, o1)
    assert.truthy(big, o2)
    assert(big < 1.5 * small, format("bounce: peak RSS %d KB for a 100 MB mbox vs %d KB for 5 MB", big, small))
  end)


  local chunk
  setup(function()
    chunk = os.tmpname()
    make_chunk(chunk)
  end)
  teardown(function() os.remove(chunk) end)

  for _, cmd in ipairs { "classify", "explain", "classify --json" } do
    it("stays flat from 10 MB to 200 MB of input to " .. cmd, function()
      if not helper.readable(TIME) then
        pending("no " .. TIME .. " (Debian package time)")
        return
      end
      if cmd:find("json", 1, true) and not pcall(require, "cjson") then
        pending("lua-cjson is not installed for " .. (jit and jit.version or _VERSION))
        return
      end
      local small, o1 = peak(cmd, chunk, 4, 2 * 1024 * 1024)
      local big, o2 = peak(cmd, chunk, 95, 10 * 1024 * 1024)
      assert.truthy(small, o1)
      assert.truthy(big, o2)
      assert(big < 1.5 * small, format("%s: peak RSS %d KB for 200 MB vs %d KB for 10 MB", cmd, big, small))
    end)
  end
end)
