-- smtpcode.reader, smtpcode.read_reply and smtpcode.format, on
-- every backend: the replies come from the parse of the backend in use.

local smtpcode = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local rep, char, sub, format = string.rep, string.char, string.sub, string.format
local concat = table.concat

local function each_backend(fn) return helper.each_backend(smtpcode, fn) end

-- Under valgrind (spec/c/valgrind.sh runs the suite under memcheck, about
-- 50 times slower) the exhaustive loops take every STRIDE-th case: memcheck
-- looks for memory errors; the full runs are the other busted stages.
local STRIDE = (os.getenv("LD_PRELOAD") or ""):find("vgpreload", 1, true) and 23 or 1

-- {======================================================
-- The corpus: every reply the other specs use, as it comes on the wire
-- =======================================================

local CORPUS = {}
do
  -- examples/replies.txt: blocks separated by blank lines, CRLF per line
  local block = {}
  local function flush()
    local wire = concat(block, "\r\n") .. "\r\n"
    local p = smtpcode.parse(wire)
    if #block > 0 and p and p.length == #wire then CORPUS[#CORPUS + 1] = wire end
    block = {}
  end
  for line in io.lines(helper.root .. "/examples/replies.txt") do
    if line:sub(1, 1) ~= "#" then
      if line == "" then flush() else block[#block + 1] = line end
    end
  end
  flush()
  -- the field replies (spec/fixtures) that are replies, "\n" = CRLF
  for _, r in ipairs(helper.tsv(helper.root .. "/spec/fixtures/field-replies.tsv")) do
    local wire = r.text:gsub("\\n", "\r\n") .. "\r\n"
    if smtpcode.parse(wire) and smtpcode.parse(wire).length == #wire then
      CORPUS[#CORPUS + 1] = wire
    end
  end
  -- the shared reference: published provider replies
  if helper.shared then
    for _, r in ipairs(helper.tsv(helper.shared .. "/reference/provider-replies.tsv")) do
      if r.reply_code ~= "" then
        local wire = r.reply_code .. " " .. (r.enhanced_code ~= "" and (r.enhanced_code .. " ") or "")
          .. r.text .. "\r\n"
        local p = smtpcode.parse(wire)
        if p and p.length == #wire then CORPUS[#CORPUS + 1] = wire end
      end
    end
  end
  -- LF-only endings and a final line of a bare code
  CORPUS[#CORPUS + 1] = "250-mx.example.net\n250-PIPELINING\n250 SIZE 10240000\n"
  CORPUS[#CORPUS + 1] = "250-first\r\n250\r\n"
end

-- What parse reads in s, reply after reply.
local function parse_all(s, opts)
  local out, pos = {}, 1
  while pos <= #s do
    local r, _, code = smtpcode.parse(sub(s, pos), opts)
    if not r then
      out[#out + 1] = { error = code }
      break
    end
    out[#out + 1] = r
    pos = pos + r.length
  end
  return out
end

-- What a reader gives when s is fed in the chunks cut at the given ends.
local function feed_all(s, cuts, opts)
  local r, out, prev = smtpcode.reader(opts), {}, 0
  cuts[#cuts + 1] = #s
  for _, c in ipairs(cuts) do
    local got, _, code = r:feed(sub(s, prev + 1, c))
    prev = c
    if not got then
      out[#out + 1] = { error = code }
      return out, r
    end
    for _, t in ipairs(got) do out[#out + 1] = t end
  end
  local got, _, code = r:feed("")
  if not got then out[#out + 1] = { error = code } end
  return out, r
end
-- }======================================================

describe("smtpcode.reader", function()
  it("has a corpus of replies to read", function()
    assert.is_true(#CORPUS >= 100, "corpus has " .. #CORPUS .. " replies")
  end)

  it("gives parse's replies for every reply of the corpus cut at every byte", function()
    each_backend(function(b)
      for i = 1, #CORPUS, STRIDE do
        local wire = CORPUS[i]
        local want = parse_all(wire)
        for k = 0, #wire do
          local got, r = feed_all(wire, { k })
          assert.are.same(want, got, b .. ": reply " .. i .. " cut at " .. k)
          assert.are.equal(0, r:pending())
        end
      end
    end)
  end)

  it("gives parse's replies for two pipelined replies cut at every byte", function()
    each_backend(function(b)
      for i = 1, #CORPUS - 1, STRIDE do
        local s = CORPUS[i] .. CORPUS[i + 1]
        local want = parse_all(s)
        assert.are.equal(2, #want)
        -- every byte around the boundary, every 11th elsewhere (each reply
        -- alone is cut at every byte above)
        local edge = #CORPUS[i]
        for k = 1, #s - 1 do
          if (k >= edge - 8 and k <= edge + 8) or k % 11 == 0 then
            assert.are.same(want, (feed_all(s, { k })), b .. ": pair " .. i .. " cut at " .. k)
          end
        end
      end
    end)
  end)

  it("reads the whole corpus as one stream, byte by byte and in random chunks", function()
    local part = {}
    for i = 1, #CORPUS, STRIDE do part[#part + 1] = CORPUS[i] end
    local s = concat(part)
    local want = parse_all(s)
    assert.are.equal(#part, #want)
    each_backend(function(b)
      local cuts = {}
      for k = 1, #s - 1 do cuts[k] = k end
      assert.are.same(want, (feed_all(s, cuts)), b .. ": byte by byte")
      local seed = 42
      for _ = 1, 5 do
        cuts = {}
        local k = 0
        while true do
          seed = (seed * 16807) % 2147483647
          k = k + 1 + seed % 700
          if k >= #s then break end
          cuts[#cuts + 1] = k
        end
        assert.are.same(want, (feed_all(s, cuts)), b .. ": random chunks")
      end
      assert.are.same(want, (feed_all(s, {})), b .. ": one chunk")
    end)
  end)

  it("returns pipelined replies (RFC 2920) read in one chunk, in order", function()
    each_backend(function()
      local r = smtpcode.reader()
      local got = r:feed("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <x@example.com>: Recipient "
        .. "address rejected: User unknown\r\n354 End data with <CR><LF>.<CR><LF>\r\n")
      assert.are.equal(4, #got)
      assert.are.same({ 250, 250, 550, 354 }, { got[1].code, got[2].code, got[3].code, got[4].code })
      assert.are.equal("5.1.1", got[3].enhanced)
      assert.are.same({}, r:feed(""))
    end)
  end)

  it("keeps the bytes of an unfinished reply, and a final line without its LF", function()
    local r = smtpcode.reader()
    assert.are.same({}, r:feed("250-mx.example.net\r\n250 SIZE"))
    assert.are.equal(#"250-mx.example.net\r\n250 SIZE", r:pending())
    assert.are.same({}, r:feed(" 1000\r"))
    local got = r:feed("\n")
    assert.are.same({ "mx.example.net", "SIZE 1000" }, got[1].lines)
    assert.are.equal(0, r:pending())
  end)

  it("stops with too_long on a server that never ends a line, holding a bounded amount", function()
    each_backend(function()
      local r = smtpcode.reader()
      local chunk = rep("x", 1000)
      local res, msg, code, _
      for _ = 1, 100 do
        res, msg, code = r:feed(chunk)
        assert.is_true(r:pending() <= 8193 + 1000)
        if not res then break end
      end
      assert.is_nil(res)
      assert.are.equal("too_long", code)
      assert.is_string(msg)
      -- and it stays stopped until reset
      res, _, code = r:feed("250 ok\r\n")
      assert.is_nil(res)
      assert.are.equal("too_long", code)
      assert.are.equal(0, r:pending())
      r:reset()
      assert.are.equal(250, r:feed("250 ok\r\n")[1].code)
    end)
  end)

  it("stops with too_long on endless continuation lines (max_lines, max_reply)", function()
    local r = smtpcode.reader()
    local res, code
    for _ = 1, 2000 do
      res, _, code = r:feed("250-x\r\n")
      if not res then break end
      assert.is_true(r:pending() <= 65537)
    end
    assert.are.equal("too_long", code)
    r = smtpcode.reader({ max_reply = 100 })
    for _ = 1, 100 do
      res, _, code = r:feed("250-abcdefghij\r\n")
      if not res then break end
      assert.is_true(r:pending() <= 101)
    end
    assert.are.equal("too_long", code)
  end)

  it("gives the error parse gives (syntax, inconsistent, too_long), after the good replies", function()
    local cases = {
      { "250 ok\r\nhello\r\n", "syntax" },
      { "250-a\r\n251 b\r\n", "inconsistent" },
      { "250-a\r\n250-b\r\n550 c\r\n", "inconsistent" },
      { "250 " .. rep("y", 9000) .. "\r\n", "too_long" },
      { "250-\r\n250\0 x\r\n", "syntax" },
      { "250 ok\r\n671 5.7.1 x\r\n", "syntax" },
    }
    each_backend(function(b)
      for _, c in ipairs(cases) do
        local want = parse_all(c[1])
        assert.are.equal(c[2], want[#want].error, c[1])
        for k = 0, #c[1] do
          assert.are.same(want, (feed_all(c[1], { k })), b .. ": " .. c[1]:sub(1, 30) .. " cut at " .. k)
        end
      end
      local r = smtpcode.reader()
      local got = r:feed("250 ok\r\n250-a\r\n251 b\r\n")
      assert.are.equal(1, #got)
      local res, msg, code = r:feed("")
      assert.is_nil(res)
      assert.are.equal("inconsistent", code)
      assert.matches("line 2", msg)
    end)
  end)

  it("applies parse's options (lenient, limits)", function()
    local r = smtpcode.reader({ lenient = true })
    local got = r:feed("571 5.7.1 Relay denied\r\n")
    assert.are.equal(571, got[1].code)
    assert.is_true(got[1].nonstandard)
    local res, _, code = smtpcode.reader():feed("571 5.7.1 Relay denied\r\n")
    assert.is_nil(res)
    assert.are.equal("syntax", code)
    res, _, code = smtpcode.reader({ max_line = 10 }):feed("250 0123456789")
    assert.is_nil(res)
    assert.are.equal("too_long", code)
  end)

  it("raises on a wrong argument", function()
    local r = smtpcode.reader()
    assert.has_error(function() r:feed(nil) end, "bad argument #1 to 'feed' (string expected, got nil)")
    assert.has_error(function() r.feed({}, "x") end, "bad argument #1 to 'feed' (reader expected, got table)")
    assert.has_error(function() smtpcode.reader(1) end, "bad argument #1 to 'reader' (table expected, got number)")
    assert.has_error(function() smtpcode.reader({ max_line = "x" }) end)
  end)
end)

-- {======================================================
-- read_reply on sockets that are scripts
-- =======================================================

-- LuaSocket's receive("*l"): lines without CR LF; nil, err, partial at the end.
local function luasocket(data, err)
  local pos = 1
  return { receive = function(_, pat)
    assert(pat == "*l")
    local e = data:find("\n", pos, true)
    if e then
      local line = data:sub(pos, e - 1):gsub("\r", "")
      pos = e + 1
      return line
    end
    local partial = data:sub(pos)
    pos = #data + 1
    return nil, err or "closed", partial
  end }
end

-- A cosocket: receiveany(max) gives what has "arrived" (steps of given sizes).
local function cosocket(data, sizes, err)
  local pos, i = 1, 0
  return { receive = function() error("not used") end,
    receiveany = function(_, max)
      if pos > #data then return nil, err or "closed" end
      i = i + 1
      local n = math.min(max, sizes[(i - 1) % #sizes + 1])
      local s = data:sub(pos, pos + n - 1)
      pos = pos + n
      return s
    end }
end

describe("smtpcode.read_reply", function()
  local SESSION = "220 mx.example.net ESMTP\r\n250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
    .. "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@example.net>: Recipient address rejected: "
    .. "User unknown in local recipient table\r\n354 End data with <CR><LF>.<CR><LF>\r\n"

  it("reads a session reply by reply from LuaSocket and cosockets cut anywhere", function()
    local want = parse_all(SESSION)
    each_backend(function(b)
      local socks = { luasocket(SESSION) }
      for _, sizes in ipairs({ { 1 }, { 3, 7 }, { 4096 }, { 13, 1, 100 } }) do
        socks[#socks + 1] = cosocket(SESSION, sizes)
      end
      for si, sock in ipairs(socks) do
        for i = 1, #want do
          local r, msg = smtpcode.read_reply(sock)
          assert.is_table(r, b .. " socket " .. si .. " reply " .. i .. ": " .. tostring(msg))
          assert.are.same(want[i], r)
        end
        local r, _, code = smtpcode.read_reply(sock)
        assert.is_nil(r)
        assert.are.equal("closed", code)
      end
    end)
  end)

  it("says timeout, and goes on where it stopped when more comes", function()
    local parts = { "250-mx.example.net\r\n250-PIPE" }
    local sock = { receiveany = function()
      local s = table.remove(parts, 1)
      if s then return s end
      return nil, "timeout"
    end, receive = function() end }
    local r, _, code = smtpcode.read_reply(sock)
    assert.is_nil(r)
    assert.are.equal("timeout", code)
    parts[1] = "LINING\r\n250 SIZE\r\n"
    r = smtpcode.read_reply(sock)
    assert.are.same({ "mx.example.net", "PIPELINING", "SIZE" }, r.lines)
  end)

  it("gives syntax, inconsistent and too_long", function()
    local r, _, code = smtpcode.read_reply(luasocket("HTTP/1.1 400 Bad Request\r\n\r\n"))
    assert.is_nil(r)
    assert.are.equal("syntax", code)
    r, _, code = smtpcode.read_reply(cosocket("250-a\r\n251 b\r\n", { 5 }))
    assert.is_nil(r)
    assert.are.equal("inconsistent", code)
    -- a server that never ends its line: the reader stops it
    local n = 0
    local endless = { receive = function() end, receiveany = function()
      n = n + 1
      return rep("z", 4096)
    end }
    r, _, code = smtpcode.read_reply(endless)
    assert.is_nil(r)
    assert.are.equal("too_long", code)
    assert.is_true(n <= 3)
    -- LuaSocket hands over what it had when it timed out
    r, _, code = smtpcode.read_reply(luasocket(rep("z", 10000), "timeout"))
    assert.is_nil(r)
    assert.are.equal("too_long", code)
    r, _, code = smtpcode.read_reply(luasocket("250 a", "timeout"))
    assert.is_nil(r)
    assert.are.equal("timeout", code)
  end)

  it("takes an empty read with no error for the end of the stream (no endless loop)", function()
    local calls = 0
    local sock = { receive = function() end, receiveany = function()
      calls = calls + 1
      if calls > 5 then error("read_reply keeps reading an empty stream") end
      return ""
    end }
    local r, _, code = smtpcode.read_reply(sock)
    assert.is_nil(r)
    assert.are.equal("closed", code)
  end)

  it("uses the reader given in opts, and raises on a wrong argument", function()
    local rd = smtpcode.reader()
    local r = smtpcode.read_reply(cosocket("250 a\r\n251 b\r\n", { 100 }), { reader = rd })
    assert.are.equal(250, r.code)
    assert.are.equal(251, smtpcode.read_reply(cosocket("", { 1 }), { reader = rd }).code)
    assert.has_error(function() smtpcode.read_reply(nil) end,
      "bad argument #1 to 'read_reply' (socket expected, got nil)")
    assert.has_error(function() smtpcode.read_reply({}) end,
      "bad argument #1 to 'read_reply' (socket expected (no receive method))")
    assert.has_error(function() smtpcode.read_reply(luasocket(""), 5) end,
      "bad argument #2 to 'read_reply' (table expected, got number)")
  end)
end)
-- }======================================================

-- {======================================================
-- format
-- =======================================================

-- Random texts: printable words, spaces, tabs, line breaks, control bytes,
-- 8-bit bytes, and things that look like codes.
local function generator(seed)
  local function rnd(n)
    seed = (seed * 16807) % 2147483647
    return seed % n
  end
  local PIECES = { "user", "unknown", "5.1.1", "#4.2.2", "250", "550-", "\r\n250 ok", "\n",
    "\r", "\r\n", "\0", "\t", " ", "  ", "<bob@example.com>", "\255\254", "é", "\226\128\168",
    "\194\133", "\127", "\27[31m", "x" }
  return rnd, function()
    local t, n = {}, rnd(40)
    for i = 1, n do
      local k = rnd(#PIECES + 3)
      if k >= #PIECES then
        t[i] = rep(char(97 + rnd(26)), 1 + rnd(rnd(4) == 0 and 700 or 12))
      else
        t[i] = PIECES[k + 1]
      end
      if rnd(2) == 0 then t[i] = t[i] .. " " end
    end
    return concat(t)
  end
end

local CODES = { { 250, "2.0.0" }, { 250, nil }, { 354, nil }, { 421, "4.3.2" }, { 450, nil },
  { 451, "4.7.1" }, { 550, "5.1.1" }, { 554, nil }, { 552, "5.3.4" }, { 220, nil } }

-- The text as format writes it, without spaces and line breaks: the bytes
-- it keeps ("?" for a replaced one); utf8 keeps well-formed sequences.
local function visible(t, utf8)
  t = t:gsub("[%s]", "")
  if not utf8 then return (t:gsub("[^\33-\126]", "?")) end
  return t
end

describe("smtpcode.format", function()
  it("writes one reply that parse reads back with the same code, enhanced code and lines", function()
    each_backend(function(b)
      local rnd, text = generator(7)
      for i = 1, math.floor(3000 / STRIDE) do
        local c = CODES[rnd(#CODES) + 1]
        local t = text()
        local opts = nil
        if rnd(3) == 0 then opts = { max_line = 20 + rnd(500) } end
        local out, msg, err = smtpcode.format(c[1], c[2], t, opts)
        local what = b .. " case " .. i .. ": " .. format("%q", t):sub(1, 200)
        if not out then
          assert.are.equal("too_long", err, what .. " " .. tostring(msg))
        else
          local p, perr = smtpcode.parse(out)
          assert.is_table(p, what .. " " .. tostring(perr))
          assert.are.equal(#out, p.length, what)
          assert.are.equal(c[1], p.code, what)
          assert.are.equal(c[2], p.enhanced, what)
          assert.is_nil(p.enhanced_varies)
          -- lenient reading agrees (no tab or "#" becomes a code)
          local pl = smtpcode.parse(out, { lenient = true })
          assert.are.same(p.lines, pl.lines, what)
          assert.are.equal(c[2], pl.enhanced, what)
          -- every line within max_line, CRLF after each, nothing else
          local max = opts and opts.max_line or 510
          local n = 0
          for line in out:gmatch("([^\n]*)\n") do
            n = n + 1
            assert.is_true(#line - 1 <= max, what)
            assert.are.equal("\r", line:sub(-1), what)
            assert.is_nil(line:sub(1, -2):find("[%z\1-\31\127-\255]"), what)
          end
          assert.are.equal(#p.lines, n, what)
          -- no byte of the text is lost: only spaces and line breaks move
          assert.are.equal(visible(t), visible(concat(p.lines)), what)
          -- written again from what parse read, the reply is the same
          assert.are.equal(out, smtpcode.format(c[1], c[2], concat(p.lines, "\n"), opts), what)
        end
      end
    end)
  end)

  it("gives back the text's lines exactly when they need no wrapping or replacing", function()
    local rnd = generator(99)
    for _ = 1, math.floor(500 / STRIDE) do
      local lines = {}
      for l = 1, 1 + rnd(5) do
        local words = {}
        for w = 1, 1 + rnd(12) do
          words[w] = rep(char(97 + rnd(26)), 1 + rnd(10)) .. (rnd(5) == 0 and "." or "")
        end
        lines[l] = concat(words, " ")
      end
      for _, c in ipairs(CODES) do
        local p = smtpcode.parse(smtpcode.format(c[1], c[2], concat(lines, "\r\n")))
        assert.are.same(lines, p.lines)
        assert.are.equal(c[2], p.enhanced)
      end
    end
  end)

  it("never lets CR, LF or NUL in the text forge a second reply", function()
    local attacks = {
      "ok\r\n250 2.0.0 forged", "ok\n250 forged", "ok\r250 forged", "ok\0\r\n250 forged",
      "ok\r\r\n250 forged", "\r\n\r\n250 forged\r\n", "ok\n.\r\nMAIL FROM:<x@y>",
      "ok\226\128\168250 forged", "ok\194\133250 forged", "<a@b>\r\n354 go ahead",
    }
    for _, a in ipairs(attacks) do
      for _, c in ipairs(CODES) do
        local out = smtpcode.format(c[1], c[2], a)
        local p = smtpcode.parse(out)
        assert.are.equal(#out, p.length, format("%q", a))
        assert.are.equal(c[1], p.code)
        for line in out:gmatch("([^\n]*)\n") do
          assert.are.equal(tostring(c[1]), line:sub(1, 3), format("%q", out))
        end
        local got = smtpcode.reader():feed(out .. "250 next\r\n")
        assert.are.equal(2, #got)
        assert.are.equal("next", got[2].text)
      end
    end
    assert.are.equal("550-5.1.1 ok\r\n550 5.1.1 250 forged?\r\n",
      smtpcode.format(550, "5.1.1", "ok\r\n250 forged\0"))
  end)

  it("writes the enhanced code on every line and wraps at spaces under 512 octets", function()
    local text = rep("The mailbox is full, try again later. ", 40)
    local out = smtpcode.format(452, "4.2.2", text)
    local n = 0
    for line in out:gmatch("([^\n]*\n)") do
      n = n + 1
      assert.is_true(#line <= 512)
      assert.matches("^452[- ]4%.2%.2 %S", line)
    end
    assert.is_true(n >= 3)
    local p = smtpcode.parse(out)
    assert.are.equal(text, concat(p.lines, " "))
    -- a word longer than a line is cut
    out = smtpcode.format(550, nil, rep("a", 1200))
    p = smtpcode.parse(out)
    assert.are.equal(rep("a", 1200), concat(p.lines))
  end)

  it("replaces non-printable bytes with ?, keeps UTF-8 with opts.utf8", function()
    assert.are.equal("550 a?b?c d\r\n", smtpcode.format(550, nil, "a\0b\27c\td"))
    assert.are.equal("550 caf??\r\n", smtpcode.format(550, nil, "café"))
    assert.are.equal("550 café ? ?\r\n", smtpcode.format(550, nil, "café \255 \194\133", { utf8 = true }))
    assert.are.equal("550  5.1.1 not an enhanced code\r\n",
      smtpcode.format(550, nil, "5.1.1 not an enhanced code"))
    assert.are.equal("550  #5.1.1 x\r\n", smtpcode.format(550, nil, "#5.1.1 x"))
    assert.are.equal("250\r\n", smtpcode.format(250, nil, ""))
    assert.are.equal("250 2.0.0\r\n", smtpcode.format(250, "2.0.0", ""))
    assert.are.equal("250-a\r\n250-\r\n250 b\r\n", smtpcode.format(250, nil, "a\n\nb"))
  end)

  it("refuses an invalid code and a class mismatch with nil, message, errcode", function()
    local cases = {
      { 650, nil, "syntax" }, { 199, nil, "syntax" }, { 260, nil, "syntax" }, { 250.5, nil, "syntax" },
      { -1, nil, "syntax" }, { 0 / 0, nil, "syntax" }, { 2 ^ 40, nil, "syntax" },
      { 550, "5.1", "syntax" }, { 550, "5.01.1", "syntax" }, { 550, "", "syntax" },
      { 550, "5.1.1 ", "syntax" }, { 550, "3.1.1", "syntax" },
      { 550, "4.7.1", "inconsistent" }, { 250, "5.0.0", "inconsistent" },
      { 354, "2.0.0", "inconsistent" },
    }
    for _, c in ipairs(cases) do
      local out, msg, code = smtpcode.format(c[1], c[2], "x")
      assert.is_nil(out, tostring(c[1]) .. " " .. tostring(c[2]))
      assert.is_string(msg)
      assert.are.equal(c[3], code, tostring(c[1]) .. " " .. tostring(c[2]))
    end
    local out, _, code = smtpcode.format(550, "5.1.1", rep("x ", 40000))
    assert.is_nil(out)
    assert.are.equal("too_long", code)
    out, _, code = smtpcode.format(550, "5.1.1", "x", { max_line = 12 })
    assert.is_nil(out)
    assert.are.equal("too_long", code)
    assert.is_string(smtpcode.format(550, "5.1.1", rep("x ", 40000), { max_reply = 200000, max_lines = 5000 }))
    assert.has_error(function() smtpcode.format("550", nil, "x") end,
      "bad argument #1 to 'format' (number expected, got string)")
    assert.has_error(function() smtpcode.format(550, 5, "x") end)
    assert.has_error(function() smtpcode.format(550, nil, nil) end,
      "bad argument #3 to 'format' (string expected, got nil)")
  end)
end)
-- }======================================================
