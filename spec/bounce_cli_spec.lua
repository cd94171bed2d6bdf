-- `smtpcode bounce`: the command line on bounce files written here, an
-- mbox of two messages and a maildir (cur/, new/).
local helper = dofile("spec/helper.lua")

local q = helper.q

local function run(args)
  local all = { "bounce" }
  for i, a in ipairs(args) do all[i + 1] = a end
  return helper.cli(all)
end

local function write(path, s)
  local fh = assert(io.open(path, "wb"))
  fh:write(s)
  fh:close()
end

local qmail = "From: MAILER-DAEMON@mx.example.net\nSubject: failure notice\n\n" ..
  "Hi. This is the qmail-send program at mx.example.net.\n" ..
  "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n" ..
  "<ann@example.org>:\nRemote host said: 550 5.1.1 mailbox unknown\n\n" ..
  "<bob@example.com>:\nRemote host said: 452 4.2.2 mailbox full, try later\n\n" ..
  "--- Below this line is a copy of the message.\n\nSubject: hi\n\nhello\n"
local plain = "From: carol@example.org\nSubject: lunch\n\nnoon?\n"

describe("smtpcode bounce", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. q(dir .. "/md/cur") .. " " .. q(dir .. "/md/new") .. " " .. q(dir .. "/md/tmp"))
  end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  it("prints one line per recipient, then a summary", function()
    write(dir .. "/q.eml", qmail)
    local out, _, status = run { dir .. "/q.eml" }
    assert.are.equal(0, status)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(dir .. "/q.eml\tann@example.org\tfailed\tuser_unknown\t5.1.1\t550\thard\tno\t" ..
      "550 5.1.1 mailbox unknown", lines[1])
    assert.are.equal(dir .. "/q.eml\tbob@example.com\tfailed\tmailbox_full\t4.2.2\t452\tsoft\tyes\t" ..
      "452 4.2.2 mailbox full, try later", lines[2])
    assert.truthy(out:find("# 1 messages, 1 reports, 2 recipients", 1, true))
  end)

  it("splits an mbox and reads a maildir's cur/ and new/", function()
    write(dir .. "/mbox", "From MAILER-DAEMON Mon Dec  7 10:00:00 2026\n" .. qmail ..
      "\nFrom carol@example.org Mon Dec  7 10:01:00 2026\n" .. plain)
    local out = run { dir .. "/mbox" }
    assert.truthy(out:find(dir .. "/mbox#1\tann@example.org", 1, true))
    assert.truthy(out:find("# 2 messages, 1 reports, 2 recipients", 1, true))
    write(dir .. "/md/cur/1:2,S", qmail)
    write(dir .. "/md/new/2", plain)
    out = run { dir .. "/md" }
    assert.truthy(out:find(dir .. "/md/cur/1:2,S\tbob@example.com", 1, true))
    assert.truthy(out:find("# 2 messages, 1 reports, 2 recipients", 1, true))
    assert.truthy(out:find("not_bounce", 1, true))
  end)

  it("runs nothing a directory name spells (a maildir named with $(...))", function()
    local md = dir .. "/md$(touch " .. dir .. "/ran)`touch " .. dir .. "/ran2`"
    os.execute("mkdir -p " .. q(md .. "/new") .. " " .. q(md .. "/cur"))
    write(md .. "/new/1", qmail)
    local out = run { md }
    assert.is_nil(io.open(dir .. "/ran"), "a shell ran $(...) from the directory name")
    assert.is_nil(io.open(dir .. "/ran2"), "a shell ran `...` from the directory name")
    assert.truthy(out:find("ann@example.org", 1, true), out)
  end)

  it("reads an mbox in pieces: a message over the limit is skipped unread, CRLF mboxes split", function()
    -- 300 messages (a "From " line every 64 KiB chunk boundary and between),
    -- then one of 11 MiB (over bounce's 10 MiB), then one more
    local parts = {}
    for i = 1, 300 do
      parts[#parts + 1] = "From MAILER-DAEMON Mon Dec  7 10:00:00 2026\n" .. qmail
        .. string.rep("x", (i * 997) % 3000) .. "\n\n"
    end
    parts[#parts + 1] = "From big@example.org Mon Dec  7 10:00:00 2026\n" .. qmail
      .. string.rep(string.rep("y", 1023) .. "\n", 11 * 1024) .. "\n"
    parts[#parts + 1] = "From MAILER-DAEMON Mon Dec  7 10:00:00 2026\n" .. qmail
    write(dir .. "/mbox", table.concat(parts))
    local out, _, status = run { "--all", dir .. "/mbox" }
    assert.are.equal(0, status)
    assert.truthy(out:find("# 302 messages, 301 reports, 602 recipients", 1, true), out:sub(-400))
    assert.truthy(out:find(dir .. "/mbox#301\t-\ttoo_long", 1, true), out:sub(-400))
    assert.truthy(out:find(dir .. "/mbox#302\tbob@example.com", 1, true))
    -- CRLF line ends, and a single file over the limit
    local crlf = ("From a@b Mon Dec  7 10:00:00 2026\n" .. qmail .. "\n"):gsub("\n", "\r\n")
    write(dir .. "/crlf", crlf .. crlf)
    out = run { dir .. "/crlf" }
    assert.truthy(out:find("# 2 messages, 2 reports, 4 recipients", 1, true), out)
    write(dir .. "/huge.eml", qmail .. string.rep("z", 11 * 1024 * 1024))
    out = run { "--all", dir .. "/huge.eml" }
    assert.truthy(out:find(dir .. "/huge.eml\t-\ttoo_long", 1, true), out)
  end)

  it("writes JSON objects with --json", function()
    write(dir .. "/q.eml", qmail)
    local out = run { "--json", dir .. "/q.eml" }
    assert.truthy(out:find('"recipient":"ann@example.org"', 1, true))
    assert.truthy(out:find('"mta":"qmail"', 1, true))
    assert.truthy(out:find('{"summary":{', 1, true))
  end)

  it("exits 1 for an unreadable file and 2 without arguments", function()
    local _, err, status = run { dir .. "/missing.eml" }
    assert.are.equal(1, status)
    assert.truthy(err:find("cannot read", 1, true))
    _, _, status = run {}
    assert.are.equal(2, status)
  end)
  it("reads the corpus mailbox/mbox-0 (37 messages)", function()
    if not helper.shared then return pending("../shared not found") end
    local out = run { helper.shared .. "/corpus/emails/mailbox/mbox-0" }
    assert.truthy(out:find("# 37 messages, 37 reports", 1, true), out:sub(-300))
  end)
end)
