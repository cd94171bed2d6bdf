-- classify on field replies: wording nobody tuned the rules to.
--
-- spec/fixtures/field-replies.tsv holds replies and log lines written for
-- this project from how real systems phrase things, none of them taken
-- from ../shared (where the rules were written and checked). The share
-- that agrees with our judged reason measures how the rules generalise.
--
-- First measurement, before any rule change made for this fixture (rules
-- of commit e4a954e), on the 349 rows first written: 280/349 reasons agree
-- (80.2%), 334/349 bounce answers agree (95.7%). Five rows were then
-- judged again (Postfix client access REJECT, Outlook 4.7.650 and RP-001,
-- a cause-less NDR, Mimecast "envelope blocked"); the old rules give
-- 285/349 on them. The 35 rows whose "why" ends in "(written after the
-- rule changes, as a check)" were added afterwards without tuning rules
-- to them: the old rules gave 32/35, the new ones 33/35.
-- The 183 rows whose "why" says "session 3 untuned check" were written in
-- a later session, again without looking at the rules, in ten batches:
-- 27/31, 21/23, 16/18, 15/27, 19/23, 7/13, 9/11, 15/18, 2/6 and 10/13
-- agreed with the reasons first judged, 141/183 (the fourth and tenth batch went looking for false hard bounces:
-- refusals of the sender, of a link, of a HELO name worded like an
-- unknown user or domain; the fifth for code-less client errors; the
-- sixth for content and relay refusals, the seventh for Chinese, Russian
-- and French providers, the eighth for Postfix recipient restrictions, the
-- ninth for the human text of non-delivery reports); twelve of those rows
-- were then re-judged in the rules' favour (they say so, with the first
-- judgement), 153/183; rules were then added (Exim's MX records pointing to
-- non-existent hosts, Exchange's per-hour limit for the number of
-- messages, "too many invalid recipients" as harvest protection, posting
-- restrictions of mailing lists, "unknown sender", "does not accept mail
-- from", links on content block lists, HELO names that do not resolve,
-- "no MX and no A record", PHPMailer's "SMTP connect() failed", TLS
-- versions required, Postfix's "not logged in", NetEase's "User
-- suspended", QQ's "Mail content denied", retired addresses, NDR texts
-- ("wasn't found at", "domain … couldn't be found"), "sender unknown",
-- "sender address syntax", the marker "sender has", the generic
-- "address rejected" limited to X.1 or no enhanced code (condition
-- noenh), and the @sender-reply marker: "(in reply to MAIL FROM command)"
-- makes an unknown user the sender's), and they agree 182/183.
-- Session 4: 88 rows in five batches (A big receivers and
-- gateways, B eleven languages, C delay notices, D benign log lines, E
-- logs, exceptions, webhooks, vendor prefixes and rarer reasons), written
-- and judged before the rules of that session's matching work (near words,
-- languages, suspended and closed accounts, spam scores): with the rules
-- as they stood then (bare words, delay notices and find's new contexts
-- already in) 79/88 agreed as first judged (A 12/18, B 36/37, C 5/7, D 9/9,
-- E 17/17); the rules of the session's start give 73/88; after: 88/88.
-- A second set of 47 rows (F eleven languages without an enhanced code, G
-- generic against specific wording, H benign lines and delay notices) was
-- written after those rules and before the next ones: 29/47 as first
-- judged (F 6/21, G 12/14, H 11/12: the languages had been matched as
-- whole phrases, and the enhanced codes of batch B had hidden it); the
-- rules then added ("does not exist", "full", "disabled" in each language,
-- as words near each other, sender markers in each language, Yahoo GL01,
-- IP not authorized for the sender's domain) give 47/47.
-- A third set of 30 rows (I client libraries and MTA logs, J Exchange and
-- Office 365 codes and rarer reasons), written after those: 26/30 as first
-- judged (I 11/12, J 15/18); two rows were re-judged in the rules' favour
-- (they say so, with the first judgement), 28/30; rules for "content
-- restrictions" and Exchange's SendAsDenied then give 30/30.
-- Batch K (30 rows, issue 12's double-encoded text): replies in eleven
-- languages double-encoded by a script (as Latin-1 or Windows-1252 reads
-- them) and two controls, written and judged before the repair's rules:
-- 28/30 with the repair and the rules as they stood (13/30 without the
-- repair); the apostrophe read as ASCII and Russian "учетная" (е for ё)
-- then gave 30/30. Batch L (21 rows: "not found" in those languages,
-- domains not found, the recipient's own block list, log-line controls):
-- 4/21 first judged; one row re-judged in the rules' favour (it says so);
-- 21/21 after the rules it asked for.
-- Batch M (12 rows: Google Groups' notice in Arabic, Greek, Persian,
-- Hebrew and Hindi, two of its lines alone, five controls) was first
-- judged 5/12 (only the controls), 12/12 after the five rules; batch N (6
-- rows: hedged lists of possible causes, two controls) 2/6, 4/6 after the
-- @ignore rules for hedged block-list and spam guesses.
-- Batch O (60 rows: client-library exceptions and webhooks, MTA log lines
-- of Exim, Sendmail, Postfix, qmail, OpenSMTPD, Exchange tracking, Haraka
-- and Courier, delay notices and benign lines, the eleven languages,
-- rarer reasons) was committed with its judgement (commit bfd852c) before
-- classify ran on it: 53/60 reasons, 52/60 full rows (reason and bounce)
-- as first judged; three rows repeating earlier ones were then left out
-- (50/57 and 49/57 on the rest); two rows re-judged in the rules' favour
-- (they say so, with the first judgement); after the rules it asked for
-- (anvil statistics ignored, "IP ... not permitted to send mail for
-- <domain>", Chinese frozen/disabled accounts): 55/57 reasons, 54/57
-- full rows. qmail's underscores and Exim's "message <id> delayed 24
-- hours" still miss (see docs/classify.md).
-- The benign lines of batches D and H were judged unknown/soft, what
-- classify then said of any code-less text it knew nothing about; classify
-- now gives such a text no bounce, and their bounce
-- column says "-" (the reason is still unknown).
-- Then: 562/568 (98.9%), bounce 568/568; then 796/802, bounce 802/802;
-- then 851/859, bounce 856/859 (batch O's two qmail rows and Exim's warning).
-- Session 5: batch P (47 rows: Office 365, Gmail, Yahoo, iCloud,
-- Proofpoint, Mimecast, Barracuda, Cisco, Trend Micro, Zoho, Yandex,
-- Mail.ru, T-Online, GMX, Orange, the eleven languages, delay notices,
-- Exchange, Postfix, Sendmail, Haraka and OpenSMTPD lines, controls) was
-- committed with its judgement (commit 12c3a55) before classify ran on it:
-- 41/47 reasons, 40/47 full rows (reason and bounce) as first judged.
-- Three rows were then re-judged in the rules' favour (they say so, with
-- the first judgement: Yahoo's 5.7.9 "policy reasons" is its DMARC answer,
-- Mimecast's "internal resources are temporarily unavailable" its
-- greylisting, Gmail's 4.7.28 is judged by its cause), 42/47 with the old
-- rules. After the changes it asked for (a multi-line reply's line break
-- and repeated code read as one blank, black lists in the other
-- languages, more delay wordings, Postfix's table lookup failure with an
-- X.3 code): 46/47. T-Online's "(BL)" tag still misses.
-- Now 897/906, bounce 903/906.
-- Session 6: batch Q (58 rows: exact wordings of Exchange Online, Gmail,
-- Yahoo, iCloud, Comcast, NetEase, Seznam; Symantec MessageLabs, Trend
-- Micro, FortiMail, Sophos, Hornetsecurity, Mimecast, Cisco; Exim,
-- Sendmail, OpenSMTPD, Haraka, Courier, hMailServer, Zimbra, Dovecot and
-- Exchange queue lines; Python, JavaMail, Go, nodemailer, PHP; SparkPost,
-- Mailgun, Postmark, SES; the eleven languages; delay notices, benign
-- lines, rarer reasons) was committed with its judgement (commit 61b1956)
-- before classify ran on it: 42/58 reasons, 42/58 full rows as first
-- judged. Seven rows were then left out because they share most of their
-- text with ../shared (reference/provider-replies.tsv, the corpus): 36/51
-- on the rest; two rows were re-judged in the rules' favour (they say
-- so, with the first judgement: Yahoo's TS01 deferral for complaints read
-- as throttling like TSS04, a bare line feed as policy), 38/51. After the
-- rules it asked for (NetEase's and Trend Micro's ids, Cisco's host access
-- reject, hMailServer's relay refusal, STARTTLS not offered and JavaMail's
-- TLS upgrade in client exceptions, address parse errors of client
-- libraries, a message too large and sending too fast in the other
-- languages, "rejected" in the other languages): 51/51.
-- Batch R (16 rows: variants of batch Q's families, delay notices, rarer
-- reasons, benign lines) was written after those rules, as a check, and
-- committed with its judgement before classify ran on it: 13/16 as first
-- judged; the families it showed ("does not exist", "blocked" and "invalid
-- address" about the sender in the other languages; an address that is
-- not valid, in English and the other languages) give 16/16.
-- Three controls written after (a size or frequency word alone, in a
-- notice that says nothing failed) guard the rules' exceed words.
-- Batch S (12 rows: delay notices in German, Polish, Chinese and Turkish,
-- the languages' usual refusals, client errors), written after batch R's
-- rules as a check and committed with its judgement before classify ran
-- on it: 9/12 as first judged (three delay notices), 12/12 after the
-- delay wordings it asked for.
-- Now 979/988, bounce 985/988. The floors are what the rules
-- reach now; raise them when the rules improve, never lower them to let a
-- change in.
local sc = require "smtpcode"

local REASON_FLOOR = 0.98
local BOUNCE_FLOOR = 0.99

local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")
local specdir, tsv = helper.specdir, helper.tsv

local ROWS = tsv(specdir .. "/fixtures/field-replies.tsv")
local HARD = { user_unknown = true, mailbox_disabled = true,
               bad_address = true, host_unknown = true }

local function input(r) return (r.text:gsub("\\n", "\r\n")) end
local function want_reason(r) return r.reason ~= "-" and r.reason or nil end
local function want_bounce(r) return (r.bounce == "hard" or r.bounce == "soft") and r.bounce or nil end
-- bounce "delayed": a delay notice: no bounce, delayed = true
local function bounce_ok(r, v)
  if r.bounce == "delayed" then return v.bounce == nil and v.delayed == true end
  return v.bounce == want_bounce(r) and v.delayed == nil
end

describe("classify on field replies", function()
  it("has a well-formed fixture of a few hundred rows", function()
    assert.is_true(#ROWS >= 250)
    local known = {}
    for _, n in ipairs((sc._core.reasons())) do known[n] = true end
    for i, r in ipairs(ROWS) do
      local where = "row " .. i .. ": " .. r.text:sub(1, 60)
      assert.is_true(r.text ~= "", where)
      assert.is_true(r.reason == "-" or known[r.reason] == true, where)
      assert.is_true(r.bounce == "-" or r.bounce == "hard" or r.bounce == "soft"
        or r.bounce == "delayed", where)
      -- bounce follows from the reason: no failure, no bounce; hard only
      -- for the address reasons; a delay notice has a reason, no bounce
      if r.reason == "-" then assert.equal("-", r.bounce, where) end
      if r.bounce == "-" then assert.is_true(r.reason == "-" or r.reason == "unknown", where) end
      if r.bounce == "delayed" then assert.is_false(HARD[r.reason] == true, where) end
      if r.bounce == "hard" then assert.is_true(HARD[r.reason], where) end
      assert.is_true(r.kind ~= "" and r.why ~= "", where)
    end
  end)

  it("agrees with our judged reason and bounce on most field replies", function()
    local n, ok, okb = 0, 0, 0
    local by, dis = {}, {}
    for _, r in ipairs(ROWS) do
      local v = sc.classify(input(r))
      local want, got = want_reason(r), v.reason
      local key = r.reason
      by[key] = by[key] or { n = 0, ok = 0 }
      n = n + 1
      by[key].n = by[key].n + 1
      if got == want then
        ok = ok + 1
        by[key].ok = by[key].ok + 1
      else
        dis[#dis + 1] = string.format("  want %s, got %s [%s] %s", r.reason,
          tostring(got), tostring(v.matched), r.text:sub(1, 90))
      end
      if bounce_ok(r, v) then okb = okb + 1 end
    end
    local keys = {}
    for k in pairs(by) do keys[#keys + 1] = k end
    table.sort(keys)
    local lines = { string.format(
      "\nfield replies: %d/%d reasons agree (%.1f%%), bounce %d/%d (%.1f%%)",
      ok, n, 100 * ok / n, okb, n, 100 * okb / n) }
    for _, k in ipairs(keys) do
      lines[#lines + 1] = string.format("  %-20s %3d/%3d", k, by[k].ok, by[k].n)
    end
    print(table.concat(lines, "\n"))
    if #dis > 0 then print(table.concat(dis, "\n")) end
    -- the untuned batches of sessions 4 and 5, by batch
    local bt, bn = {}, {}
    for _, r in ipairs(ROWS) do
      local b = r.why:match("session [456] untuned check, batch (%u)")
        or r.why:match("session 6 check, batch (%u)")
      if b then
        local v = sc.classify(input(r))
        bt[b] = bt[b] or { 0, 0 }
        bt[b][2] = bt[b][2] + 1
        if v.reason == want_reason(r) and bounce_ok(r, v) then bt[b][1] = bt[b][1] + 1 end
      end
    end
    for b in pairs(bt) do bn[#bn + 1] = b end
    table.sort(bn)
    local parts = {}
    for _, b in ipairs(bn) do parts[#parts + 1] = string.format("%s %d/%d", b, bt[b][1], bt[b][2]) end
    print("session 4, 5 and 6 untuned batches and check batches R, S (reason and bounce): "
      .. table.concat(parts, ", "))
    assert.is_true(ok / n >= REASON_FLOOR)
    assert.is_true(okb / n >= BOUNCE_FLOOR)
  end)

  it("gives no reason, bounce or retry to success and intermediate lines", function()
    local seen = 0
    for _, r in ipairs(ROWS) do
      if r.reason == "-" then
        seen = seen + 1
        local v = sc.classify(input(r))
        assert.is_nil(v.reason, r.text)
        assert.is_nil(v.bounce, r.text)
        assert.is_nil(v.retry, r.text)
        assert.is_true(v.severity == "success" or v.severity == "intermediate", r.text)
      end
    end
    assert.is_true(seen >= 10)
  end)
end)
