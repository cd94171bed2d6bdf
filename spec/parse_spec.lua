-- Wire-format parsing: smtpcode.parse, smtpcode.scan, smtpcode.status.
-- Cases W01..W50 are the wire inputs of docs/peers.md §2a-2b (shared
-- research), each with the RFC 5321 / RFC 2034 / RFC 3463 answer.

local smtpcode = require "smtpcode"
local initial = smtpcode._BACKEND

-- Each case: id, input, expected. Expected is either
--   { err = "syntax" | "incomplete" | "inconsistent" | "too_long" }, or
--   a table of fields the result must have (lines compared as arrays).
-- `opts` (optional) is passed to parse.
local cases = {
  -- 2a. framing and basic code
  { "W01", "250 OK\r\n", { code = 250, severity = "success", text = "OK", lines = { "OK" } } },
  { "W02", "250\r\n", { code = 250, text = "", lines = { "" } } },
  { "W03", "250 \r\n", { code = 250, text = "", lines = { "" } } },
  { "W04", "250-first\r\n250 last\r\n", { code = 250, text = "first\nlast", lines = { "first", "last" } } },
  { "W05", "250-a\r\n251 b\r\n", { err = "inconsistent" } },
  { "W06", "250-first\r\n", { err = "incomplete" } },
  { "W07", "250 OK\n", { code = 250, text = "OK" } },
  { "W08", "250-a\n250 b\n", { code = 250, lines = { "a", "b" } } },
  { "W09", "250-\r\n250 last\r\n", { code = 250, lines = { "", "last" } } },
  { "W10", "250-a\r\n250-b\r\n250\r\n", { code = 250, lines = { "a", "b", "" } } },
  { "W11", "2506-me\r\n250 x\r\n", { err = "syntax" } },
  { "W12", "199 x\r\n", { err = "syntax" } },
  { "W13", "600 x\r\n", { err = "syntax" } },
  { "W14", "260 x\r\n", { err = "syntax" } },
  { "W14 lenient", "260 x\r\n", { code = 260, nonstandard = true, text = "x" }, { lenient = true } },
  { "W15", "25 x\r\n", { err = "syntax" } },
  { "W16", "abc def\r\n", { err = "syntax" } },
  { "W17", " 250 OK\r\n", { err = "syntax" } },
  { "W18", "250  OK\r\n", { code = 250, text = " OK" } },
  { "W19", "250\tOK\r\n", { err = "syntax" } },
  { "W19 lenient", "250\tOK\r\n", { code = 250, text = "OK", nonstandard = true }, { lenient = true } },
  { "W20", "+25 x\r\n", { err = "syntax" } },
  { "W21", "2_5 x\r\n", { err = "syntax" } },
  { "W22", "250 OK\r\n250 second\r\n", { code = 250, lines = { "OK" }, length = 8 } },
  { "W23", "250-a\r\nfoo\r\n250 b\r\n", { err = "syntax" } },
  { "W31", "354 Start mail input; end with <CRLF>.<CRLF>\r\n",
    { code = 354, severity = "intermediate", text = "Start mail input; end with <CRLF>.<CRLF>" } },
  { "W32", "220 mx.example.com ESMTP \226\128\156quoted\226\128\157 \195\169\r\n",
    { code = 220, text = "mx.example.com ESMTP \226\128\156quoted\226\128\157 \195\169" } },
  { "W33", "250 a\0b\r\n", { code = 250, text = "a\0b" } },
  { "W34", "250 " .. ("x"):rep(600) .. "\r\n", { code = 250, text = ("x"):rep(600) } },
  { "W35", "250 " .. ("x"):rep(9000) .. "\r\n", { err = "too_long" } },
  { "W35 raised limit", "250 " .. ("x"):rep(9000) .. "\r\n", { code = 250, text = ("x"):rep(9000) },
    { max_line = 10000 } },
  { "W36", "250 a\rb\r\n", { code = 250, text = "a\rb" } },
  { "W39", "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
    { code = 250, lines = { "mx.example.com", "PIPELINING", "SIZE 10240000", "8BITMIME" } } },
  { "W44", "250-a\r\n250 b", { code = 250, lines = { "a", "b" } } },
  { "W46", "250-a\r\n250-b\r\n", { err = "incomplete" } },
  { "W50", "099 x\r\n", { err = "syntax" } },
  -- 2b. enhanced status codes
  { "W24", "550 5.1.1 <x@example.com>: Recipient address rejected\r\n",
    { code = 550, severity = "permanent", enhanced = "5.1.1", class = 5, subject = 1, detail = 1,
      text = "<x@example.com>: Recipient address rejected" } },
  { "W25", "550-5.1.1 first\r\n550 5.1.1 second\r\n",
    { code = 550, enhanced = "5.1.1", lines = { "first", "second" }, text = "first\nsecond" } },
  { "W26", "550 4.7.1 Try later\r\n",
    { code = 550, severity = "permanent", enhanced = "4.7.1", class = 4, mismatch = true } },
  { "W27", "451 5.7.1 x\r\n", { code = 451, severity = "transient", enhanced = "5.7.1", mismatch = true } },
  { "W28", "550 5.01.001 x\r\n", { code = 550, enhanced = false, text = "5.01.001 x" } },
  { "W29", "550 5.1.1000 x\r\n", { code = 550, enhanced = false, text = "5.1.1000 x" } },
  { "W30", "550 5.1.1.1 x\r\n", { code = 550, enhanced = false, text = "5.1.1.1 x" } },
  { "W37", "421-4.7.0 Too many connections\r\n421 4.7.0 closing\r\n",
    { code = 421, severity = "transient", enhanced = "4.7.0", lines = { "Too many connections", "closing" } } },
  { "W38", "550 #5.1.0 Address rejected\r\n", { code = 550, enhanced = false, text = "#5.1.0 Address rejected" } },
  { "W38 lenient", "550 #5.1.0 Address rejected\r\n",
    { code = 550, enhanced = "5.1.0", text = "Address rejected", nonstandard = true }, { lenient = true } },
  { "W40", "550-5.7.1 a\r\n550 5.7.2 b\r\n",
    { code = 550, enhanced = "5.7.1", enhanced_varies = true, lines = { "a", "b" } } },
  { "W41", "250 2.0.0 Ok: queued as 4ABC\r\n", { code = 250, enhanced = "2.0.0", text = "Ok: queued as 4ABC" } },
  { "W42", "550 5.7.1\r\n", { code = 550, enhanced = "5.7.1", text = "" } },
  { "W43", "5.7.1 Relaying denied\r\n", { err = "syntax" } },
  { "W45", "452 4.5.3 Too many recipients\r\n", { code = 452, severity = "transient", enhanced = "4.5.3" } },
  { "W47", "550 5.7.26 Unauthenticated email is not accepted\r\n",
    { code = 550, enhanced = "5.7.26", subject = 7, detail = 26 } },
  { "W48", "550 5.1.10 RESOLVER.ADR.RecipientNotFound\r\n", { code = 550, enhanced = "5.1.10", detail = 10 } },
  { "W49", "550 5.1.1\t tabbed\r\n", { code = 550, enhanced = false, text = "5.1.1\t tabbed" } },
  { "W49 lenient", "550 5.1.1\t tabbed\r\n", { code = 550, enhanced = "5.1.1", text = "tabbed", nonstandard = true },
    { lenient = true } },
  -- more framing
  { "empty input", "", { err = "incomplete" } },
  { "a two-digit line is not a reply", "25", { err = "syntax" } },
  -- a final line without its ending is complete as it stands (RFC 5321 4.2:
  -- the text is optional); waiting for more bytes is a stream reader's job
  { "a bare code without a line ending", "250", { code = 250, text = "", severity = "success" } },
  { "a bare code and a lone CR", "250\r", { code = 250, text = "" } },
  { "a bare final code after a continuation", "250-a\r\n250", { code = 250, text = "a\n" } },
  { "a continuation line without its ending", "250-a", { err = "incomplete" } },
  { "a final line without its ending", "250 ok", { code = 250, text = "ok" } },
  { "blank line inside a reply", "250-a\r\n\r\n250 b\r\n", { err = "syntax" } },
  { "3yz carries no enhanced code", "354 2.0.0 go ahead\r\n",
    { code = 354, enhanced = false, text = "2.0.0 go ahead" } },
  { "571 is non-standard", "571 5.7.1 DMARC verification failed\r\n", { err = "syntax" } },
  { "571 lenient", "571 5.7.1 DMARC verification failed\r\n",
    { code = 571, enhanced = "5.7.1", nonstandard = true, severity = "permanent" }, { lenient = true } },
  { "X.0.0 is an enhanced code", "421 4.0.0 busy\r\n", { code = 421, enhanced = "4.0.0", subject = 0, detail = 0 } },
  { "enhanced code needs a space after it", "550 5.1.1x\r\n", { code = 550, enhanced = false } },
  { "spaces after the enhanced code are dropped", "550 5.1.1   lots\r\n",
    { code = 550, enhanced = "5.1.1", text = "lots" } },
  { "max_lines", "250-a\r\n250-b\r\n250 c\r\n", { err = "too_long" }, { max_lines = 2 } },
  { "max_reply", "250-aaaa\r\n250-bbbb\r\n250 c\r\n", { err = "too_long" }, { max_reply = 12 } },
}

local function check(id, got, msg, code, want)
  if want.err then
    assert.is_nil(got, id)
    assert.are.equal(want.err, code, id .. ": " .. tostring(msg))
    assert.is_string(msg)
    return
  end
  assert.is_table(got, id .. ": " .. tostring(msg))
  for k, v in pairs(want) do
    if v == false then
      assert.is_nil(got[k], id .. ": " .. k)
    else
      assert.are.same(v, got[k], id .. ": " .. k)
    end
  end
  -- invariants of every successful parse
  assert.are.equal(#got.lines, select(2, got.text:gsub("\n", "")) + 1, id)
  assert.are.equal(math.floor(got.code / 100), tonumber(tostring(got.code):sub(1, 1)))
  if got.enhanced then
    local c, s, d = smtpcode.status(got.enhanced)
    assert.are.same({ got.class, got.subject, got.detail }, { c, s, d }, id)
  end
end

for _, backend in ipairs(smtpcode._backends()) do
  describe("parse (" .. backend .. " backend)", function()
    before_each(function() smtpcode._set_backend(backend) end)
    after_each(function() smtpcode._set_backend(initial) end)

    for _, c in ipairs(cases) do
      local id, input, want, opts = c[1], c[2], c[3], c[4]
      it("gives the RFC answer for " .. id, function()
        local got, msg, code = smtpcode.parse(input, opts)
        check(id, got, msg, code, want)
      end)
    end

    it("reports codes as integers", function()
      local r = smtpcode.parse("550 5.1.1 x")
      assert.are.equal("550", tostring(r.code))
      if math.type then assert.are.equal("integer", math.type(r.code)) end
    end)

    it("fills and returns the table given as `into`, clearing stale fields", function()
      local into = {}
      local r1 = smtpcode.parse("550-5.1.1 a\r\n550-5.1.1 b\r\n550 5.1.1 c\r\n", nil, into)
      assert.are.equal(into, r1)
      assert.are.same({ "a", "b", "c" }, into.lines)
      local lines = into.lines
      local r2 = smtpcode.parse("250 ok\r\n", nil, into)
      assert.are.equal(into, r2)
      assert.are.equal(lines, into.lines)
      assert.are.same({ "ok" }, into.lines)
      assert.is_nil(into.enhanced)
      assert.is_nil(into.class)
      assert.are.equal("success", into.severity)
      local r3 = smtpcode.parse("550 4.7.1 x", nil, into)
      assert.is_true(r3.mismatch)
      smtpcode.parse("250 2.0.0 ok", nil, into)
      assert.is_nil(into.mismatch)
    end)

    it("handles replies with more lines than its internal buffer", function()
      local parts = {}
      for i = 1, 100 do parts[i] = "250-line" .. i .. "\r\n" end
      parts[#parts + 1] = "250 end\r\n"
      local r = assert(smtpcode.parse(table.concat(parts)))
      assert.are.equal(101, #r.lines)
      assert.are.equal("line100", r.lines[100])
      assert.are.equal("end", r.lines[101])
    end)

    it("reports the failing line in the message", function()
      local r, msg, code = smtpcode.parse("250-a\r\n250-b\r\n251 c\r\n")
      assert.is_nil(r)
      assert.are.equal("inconsistent", code)
      assert.matches("line 3", msg)
    end)

    it("raises on wrong argument types", function()
      assert.has_error(function() smtpcode.parse(nil) end,
        "bad argument #1 to 'parse' (string expected, got nil)")
      assert.has_error(function() smtpcode.parse(550) end,
        "bad argument #1 to 'parse' (string expected, got number)")
      assert.has_error(function() smtpcode.parse("250 ok", "lenient") end,
        "bad argument #2 to 'parse' (table expected, got string)")
      assert.has_error(function() smtpcode.parse("250 ok", nil, 5) end,
        "bad argument #3 to 'parse' (table expected, got number)")
      assert.has_error(function() smtpcode.parse("250 ok", { max_line = -1 }) end)
      assert.has_error(function() smtpcode.parse("250 ok", { max_line = "x" }) end)
    end)

    -- A multi-line reply cut at every byte before its last line: a cut after
    -- a line ending or after a "-" is incomplete; a cut that leaves a final
    -- line of one or two digits is a syntax error, and one that leaves just
    -- the code ("250") ends the reply there (a final line without its line
    -- ending is complete) with the same code and the same earlier lines.
    local multi = {
      "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
      "550-5.1.1 The email account that you tried to reach does not exist.\r\n" ..
        "550-5.1.1 Please try double-checking the recipient's address.\r\n" ..
        "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser\r\n",
      "421-4.7.0 a\n421 4.7.0 b\n",
    }
    for n, reply in ipairs(multi) do
      it("reads every cut of multi-line reply " .. n .. " as incomplete, a syntax error or a shorter reply", function()
        local full = assert(smtpcode.parse(reply))
        local last_start = #reply - #(reply:match("[^\n]*\n$")) -- 0-based offset of the last line
        for cut = 0, #reply - 1 do
          local prefix = reply:sub(1, cut)
          local r, msg, code = smtpcode.parse(prefix)
          local partial = #(prefix:match("[^\n]*$"))
          if partial == 1 or partial == 2 then
            assert.is_nil(r, "cut " .. cut)
            assert.are.equal("syntax", code, "cut " .. cut .. ": " .. tostring(msg))
          elseif cut <= last_start and partial == 3 then
            assert.is_table(r, "cut " .. cut .. ": " .. tostring(msg))
            assert.are.equal(full.code, r.code)
            assert.are.equal("", r.lines[#r.lines])
            for i = 1, #r.lines - 1 do assert.are.equal(full.lines[i], r.lines[i]) end
          elseif cut <= last_start then
            assert.is_nil(r, "cut " .. cut)
            assert.are.equal("incomplete", code, "cut " .. cut .. ": " .. tostring(msg))
          elseif r then
            -- within the last line: same code, same earlier lines
            assert.are.equal(full.code, r.code)
            for i = 1, #full.lines - 1 do assert.are.equal(full.lines[i], r.lines[i]) end
          else
            assert.are.equal("incomplete", code, "cut " .. cut .. ": " .. tostring(msg))
          end
        end
      end)
    end
  end)

  describe("scan (" .. backend .. " backend)", function()
    before_each(function() smtpcode._set_backend(backend) end)
    after_each(function() smtpcode._set_backend(initial) end)

    it("returns code, severity, enhanced code, text and the continuation flag", function()
      local code, sev, enh, text, cont = smtpcode.scan("550-5.1.1 first line\r\n")
      assert.are.same({ 550, "permanent", "5.1.1", "first line", true }, { code, sev, enh, text, cont })
      code, sev, enh, text, cont = smtpcode.scan("250 PIPELINING")
      assert.are.same({ 250, "success", nil, "PIPELINING", false }, { code, sev, enh, text, cont })
      code, sev, enh, text, cont = smtpcode.scan("451 4.7.1 Greylisting in action, please come back later")
      assert.are.same({ 451, "transient", "4.7.1", "Greylisting in action, please come back later", false },
        { code, sev, enh, text, cont })
      code, sev, enh, text, cont = smtpcode.scan("354 End data with <CR><LF>.<CR><LF>\n")
      assert.are.same({ 354, "intermediate", nil, "End data with <CR><LF>.<CR><LF>", false },
        { code, sev, enh, text, cont })
    end)

    it("reads only the first line of its input", function()
      local code, _, _, text, cont = smtpcode.scan("250-a\r\n250 b\r\n")
      assert.are.same({ 250, "a", true }, { code, text, cont })
    end)

    it("gives nil, message, code for a non-reply line", function()
      local r, msg, code = smtpcode.scan("hello world")
      assert.is_nil(r)
      assert.is_string(msg)
      assert.are.equal("syntax", code)
      r, msg, code = smtpcode.scan("25")
      assert.is_nil(r)
      assert.is_string(msg)
      assert.are.equal("syntax", code)
      -- a line from a socket reader that strips CRLF: a bare code is valid
      assert.are.same({ 250, "success", nil, "", false }, { smtpcode.scan("250") })
      r, msg, code = smtpcode.scan("250 " .. ("y"):rep(10000))
      assert.is_nil(r)
      assert.is_string(msg)
      assert.are.equal("too_long", code)
    end)

    it("accepts options like parse", function()
      local code, _, enh = smtpcode.scan("550 #5.1.0 x", { lenient = true })
      assert.are.same({ 550, "5.1.0" }, { code, enh })
    end)

    it("agrees with parse line by line", function()
      for _, c in ipairs(cases) do
        local input, opts = c[2], c[4]
        local r = smtpcode.parse(input, opts)
        if r then
          local pos = 1
          for i = 1, #r.lines do
            local nl = input:find("\n", pos, true)
            local line = input:sub(pos, nl or #input)
            local code, sev, enh, text = smtpcode.scan(line, opts)
            assert.are.equal(r.code, code, c[1])
            assert.are.equal(r.severity, sev, c[1])
            assert.are.equal(r.lines[i], text, c[1])
            if i == 1 then assert.are.equal(r.enhanced, enh, c[1]) end
            pos = (nl or #input) + 1
          end
        end
      end
    end)

    it("raises on wrong argument types", function()
      assert.has_error(function() smtpcode.scan(nil) end,
        "bad argument #1 to 'scan' (string expected, got nil)")
      assert.has_error(function() smtpcode.scan({}) end,
        "bad argument #1 to 'scan' (string expected, got table)")
    end)
  end)
end

describe("status", function()
  it("splits a bare enhanced status code", function()
    assert.are.same({ 5, 7, 26 }, { smtpcode.status("5.7.26") })
    assert.are.same({ 2, 0, 0 }, { smtpcode.status("2.0.0") })
    assert.are.same({ 4, 4, 7 }, { smtpcode.status("4.4.7") })
    assert.are.same({ 5, 7, 509 }, { smtpcode.status("5.7.509") })
  end)

  it("rejects what RFC 3463 does not allow", function()
    for _, s in ipairs({ "5.01.1", "5.1.1000", "5.1.1.1", "3.1.1", "X.1.1", "5.1", "5.1.1 ", " 5.1.1",
                         "", "5..1", "5.1.01", "55.1.1", "5.1.1\0" }) do
      local c, msg, code = smtpcode.status(s)
      assert.is_nil(c, s)
      assert.is_string(msg)
      assert.are.equal("syntax", code)
    end
  end)

  it("raises on wrong argument types", function()
    assert.has_error(function() smtpcode.status(5.1) end,
      "bad argument #1 to 'status' (string expected, got number)")
  end)
end)

describe("status_names", function()
  it("names, from the core, every error code parse and scan return", function()
    local seen = {}
    for _, s in ipairs({ "abc", "250-more", "250-a\r\n251 b", ("x"):rep(100000) }) do
      local r, _, code = smtpcode.parse(s, { max_reply = 64 })
      assert.is_nil(r, s:sub(1, 20))
      seen[code] = true
    end
    local names = {}
    for k, v in pairs(smtpcode.status_names) do
      assert.is_true(k < 0, v)
      names[v] = true
    end
    for code in pairs(seen) do assert.is_true(names[code], code) end
    assert.are.same({ syntax = true, incomplete = true, inconsistent = true,
                      too_long = true, not_found = true }, names)
  end)
end)

describe("error texts", function()
  -- the C API keeps the texts of the first lines' errors once made: the
  -- same words on every call, at every line, before and after that bound
  it("say the failing line and the same words on every call", function()
    for n = 1, 70 do
      local good = ("250-x\r\n"):rep(n - 1)
      local bad = {
        { good .. "25x bad\r\n", "syntax", "line " .. n .. " is not a valid reply line" },
        { good .. "250-more", "incomplete", "reply is incomplete at line " .. (n + 1) },
      }
      if n > 1 then
        bad[3] = { good .. "251 other\r\n", "inconsistent",
                     "line " .. n .. " has a different reply code than line 1" }
      end
      for _, c in ipairs(bad) do
        for _ = 1, 2 do
          local r, msg, code = smtpcode.parse(c[1])
          assert.is_nil(r)
          assert.are.equal(c[3], msg)
          assert.are.equal(c[2], code)
        end
      end
    end
    for _ = 1, 2 do
      assert.are.same({ nil, "line 1 is not a valid reply line", "syntax" }, { smtpcode.scan("abc") })
      assert.are.same({ nil, "reply exceeds a size limit at line 1", "too_long" },
                      { smtpcode.scan(("x"):rep(100), { max_line = 10 }) })
    end
  end)
end)

describe("enhanced codes", function()
  -- the C API keeps the strings of the common codes once made (class,
  -- subject below 8, detail below 32): every code, inside that range and
  -- past it, twice (made, then kept), gives its own text and numbers
  it("read back as written, inside and past the kept range", function()
    for _ = 1, 2 do
      for _, c in ipairs({ 2, 4, 5 }) do
        for sb = 0, 10 do
          for _, d in ipairs({ 0, 1, 9, 10, 26, 31, 32, 33, 99, 100, 999 }) do
            local code = ("%d.%d.%d"):format(c, sb, d)
            local line = ("%d50 %s text %s"):format(c, code, code)
            local r = assert(smtpcode.parse(line))
            assert.are.same({ code, c, sb, d, "text " .. code },
                            { r.enhanced, r.class, r.subject, r.detail, r.text }, line)
            local into = assert(smtpcode.parse(line, nil, {}))
            assert.are.equal(code, into.enhanced, line)
            local sc, _, se, st = smtpcode.scan(line)
            assert.are.same({ c * 100 + 50, code, "text " .. code }, { sc, se, st }, line)
          end
        end
      end
    end
    -- the same numbers, other texts: not codes, so never the kept string
    for _, line in ipairs({ "550 5.01.1 x", "550 5.1.01 x", "550 05.1.1 x" }) do
      local r = assert(smtpcode.parse(line))
      assert.is_nil(r.enhanced, line)
      assert.are.equal(line:sub(5), r.text, line)
    end
    local r = assert(smtpcode.parse("550 #5.1.1 x", { lenient = true }))
    assert.are.same({ "5.1.1", "x", true }, { r.enhanced, r.text, r.nonstandard })
  end)
end)

describe("backends", function()
  it("give identical results for the same input", function()
    local list = smtpcode._backends()
    if #list < 2 then
      pending("only the " .. list[1] .. " backend is available here")
      return
    end
    local inputs = {}
    for _, c in ipairs(cases) do inputs[#inputs + 1] = { c[2], c[4] } end
    -- every cut of a few replies, lenient and strict
    local r = "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c"
    for i = 0, #r do
      inputs[#inputs + 1] = { r:sub(1, i) }
      inputs[#inputs + 1] = { r:sub(1, i), { lenient = true } }
    end
    for _, inp in ipairs(inputs) do
      local out = {}
      for _, b in ipairs(list) do
        smtpcode._set_backend(b)
        out[b] = { smtpcode.parse(inp[1], inp[2]) }
        out[b .. "scan"] = { smtpcode.scan(inp[1], inp[2]) }
      end
      assert.are.same(out.capi, out.ffi, inp[1])
      assert.are.same(out.capiscan, out.ffiscan, inp[1])
    end
    smtpcode._set_backend(initial)
  end)

  it("is named by _BACKEND", function()
    assert.is_truthy(smtpcode._BACKEND == "ffi" or smtpcode._BACKEND == "capi")
    if jit and jit.status() and os.getenv("SMTPCODE_BACKEND") ~= "capi" then
      assert.are.equal("ffi", smtpcode._BACKEND)
    end
  end)
end)
