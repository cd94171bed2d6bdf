-- bounce_corpus_spec.lua: smtpcode.bounce on the 841 real bounces of
-- ../shared/corpus against Sisimai 5.1's labels (sisimai5-bounces.tsv).
-- Prints the figures; the disagreements go to build/bounce-corpus.txt
-- (judged in docs/bounce.md). Sisimai's pseudo codes X.0.9NN are not in
-- the mail: for them only the class is compared.
local helper = dofile("spec/helper.lua")
local smtpcode = require "smtpcode"
local shared = helper.shared

local readfile = helper.read

local function domain(a) return a and (a:match("@([^@]+)$") or ""):lower() end

describe("bounce on the Sisimai corpus", function()
  if not shared then
    it("needs ../shared", function() pending("../shared not found") end)
    return
  end
  local rows = helper.tsv(shared .. "/corpus/sisimai5-bounces.tsv")
  local cw = {}
  for _, r in ipairs(helper.tsv("spec/fixtures/sisimai-crosswalk.tsv")) do cw[r.sisimai] = r end
  local files, order = {}, {}
  for _, r in ipairs(rows) do
    if not r.file:match("^maildir/not/") then
      if not files[r.file] then files[r.file] = {}; order[#order + 1] = r.file end
      table.insert(files[r.file], r)
    end
  end

  it("reads every message Sisimai reads, and agrees on recipients, status, code and reason", function()
    local nfiles, readn, nrows, rok, sok, cok, allok = 0, 0, 0, 0, 0, 0, 0
    local n1, ok1, dis = 0, 0, {}
    for _, file in ipairs(order) do
      local want = files[file]
      local msg = readfile(shared .. "/corpus/emails/" .. file)
      assert.is_string(msg, file)
      nfiles = nfiles + 1
      local b, err, code = smtpcode.bounce(msg)
      local got = b and b.recipients or {}
      -- read: recognised as a report (its recipients are judged below)
      if b then readn = readn + 1
      else dis[#dis + 1] = string.format("%s\tnot read\t%s %s", file, tostring(err), tostring(code)) end
      local used = {}
      for i, w in ipairs(want) do
        nrows = nrows + 1
        local g = got[i]
        if not (g and domain(g.recipient) == w.rcpt_domain:lower() and not used[i]) then
          g = nil
          for j, x in ipairs(got) do
            if not used[j] and domain(x.recipient) == w.rcpt_domain:lower() then g = x; used[j] = true break end
          end
        else
          used[i] = true
        end
        local ra = g ~= nil
        -- Sisimai gives no status (complaints): nothing to compare; a pseudo
        -- code X.0.9NN: its class only; no reply code: nothing to compare
        local st = w.status
        local sa
        if st == "" then sa = g ~= nil
        elseif st:match("^%d%.0%.9%d%d$") then
          sa = g and (g.status == nil or g.status:sub(1, 1) == st:sub(1, 1))
        else sa = g and g.status == st end
        local ca
        if w.reply_code == "" then ca = g ~= nil
        else ca = g and tostring(g.code) == w.reply_code end
        sa, ca = not not sa, not not ca
        if ra then rok = rok + 1 end
        if sa then sok = sok + 1 end
        if ca then cok = cok + 1 end
        if ra and sa and ca then allok = allok + 1 end
        local m = cw[w.reason]
        local gr = g and (g.action == "complained" and "feedback"
          or g.action == "delivered" and "delivered" or g.reason) or "-"
        local ro = true
        if m and m.one_to_one == "yes" then
          n1 = n1 + 1
          local mapped = m.reason
          if w.reason == "feedback" or w.reason == "delivered" then mapped = w.reason end
          ro = gr == mapped
          if ro then ok1 = ok1 + 1 end
        end
        if not (ra and sa and ca and ro) then
          dis[#dis + 1] = string.format("%s\t%s\twant %s %s %s %s\tgot %s %s %s %s\t%s", file,
            (not ra and "recipient " or "") .. (not sa and "status " or "") .. (not ca and "code " or "") ..
            (not ro and "reason" or ""),
            w.rcpt_domain, w.status, w.reply_code, w.reason,
            g and domain(g.recipient) or "-", g and tostring(g.status) or "-", g and tostring(g.code) or "-", gr,
            (g and g.diagnostic or w.diagnostic or ""):sub(1, 100))
        end
      end
    end
    os.execute("mkdir -p build")
    local f = io.open("build/bounce-corpus.txt", "wb")
    if f then f:write(table.concat(dis, "\n"), "\n") f:close() end
    print(string.format("\nbounce corpus: %d/%d messages read; %d rows: recipient %d (%.1f%%), "
      .. "status %d (%.1f%%), code %d (%.1f%%), all three %d (%.1f%%); one-to-one reasons %d/%d (%.1f%%)",
      readn, nfiles, nrows, rok, 100 * rok / nrows, sok, 100 * sok / nrows, cok, 100 * cok / nrows,
      allok, 100 * allok / nrows, ok1, n1, 100 * ok1 / n1))
    -- Floors at the issue's targets (a regression guard): recipient+status+
    -- code 97%, reasons 90%; every message read but the one docs/bounce.md
    -- judges Sisimai wrong to read (lhost-postfix-75, an inbound session).
    assert.is_true(readn >= nfiles - 1)
    assert.is_true(allok / nrows >= 0.97)
    assert.is_true(ok1 / n1 >= 0.90)
  end)

  it("answers not_bounce for the maildir/not messages", function()
    local dir = shared .. "/corpus/emails/maildir/not/"
    local p = io.popen('ls "' .. dir .. '"')
    local n = 0
    for name in p:lines() do
      local b, _, code = smtpcode.bounce(readfile(dir .. name))
      assert.is_nil(b, name)
      assert.are.equal("not_bounce", code, name)
      n = n + 1
    end
    p:close()
    assert.is_true(n >= 3)
  end)
end)
