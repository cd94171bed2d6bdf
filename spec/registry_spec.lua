-- The code registry, row by row: every row of the project's data/*.tsv and
-- of the shared reference tables (../shared/reference, beside the clone)
-- must be answered by smtpcode.describe / smtpcode.codes with the same
-- meaning. The reference checks are pending when ../shared is absent.

local smtpcode = require "smtpcode"
local core = smtpcode._core

local SHARED = "../shared/reference/"

local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")
local function readtsv(path) return helper.tsv(path, { empty_nil = true }) end

local function data(name)
  local rows = readtsv("data/" .. name)
  assert(rows, "cannot read data/" .. name)
  return rows
end

-- "RFC 7372; RFC 7208 §3" -> { "RFC 7372", "RFC 7208" }
local function rfcs(s)
  local out = {}
  for n in (s or ""):gmatch("RFC ?(%d+)") do out[#out + 1] = "RFC " .. n end
  return out
end

local function shared_it(name, file, fn)
  local rows = readtsv(SHARED .. file)
  if not rows then
    pending(name .. " (" .. SHARED .. file .. " not found)")
  else
    it(name, function() fn(rows) end)
  end
end

describe("registry data (data/*.tsv)", function()
  it("describes every row of data/enhanced.tsv in every class", function()
    local rows = data("enhanced.tsv")
    assert.are.equal(81, #rows)
    for _, r in ipairs(rows) do
      for _, cls in ipairs({ "X", "2", "4", "5" }) do
        local code = r.code:gsub("^X", cls)
        local t = assert(smtpcode.describe(code), code)
        assert.are.equal(code, t.code)
        assert.are.equal("enhanced", t.kind)
        assert.is_nil(t.fallback, code)
        assert.are.equal(r.title, t.title, code)
        assert.are.equal(r.description, t.description, code)
        assert.are.equal(r.references, t.references, code)
        assert.are.equal(r.standard, t.standard, code)
        assert.are.equal(r.basic_codes, t.basic_codes, code)
        assert.are.equal(r.class_note, t.class_note, code)
        assert.are.equal(r.remarks, t.remarks, code)
      end
    end
  end)

  it("describes every row of data/reply.tsv, extension meanings in other_uses", function()
    local rows = data("reply.tsv")
    local alts = {}
    for _, r in ipairs(rows) do
      local t = assert(smtpcode.describe(tonumber(r.code)), r.code)
      assert.are.equal("reply", t.kind)
      assert.is_nil(t.fallback)
      if r.primary == "yes" then
        assert.are.equal(r.title, t.title, r.code)
        assert.are.equal(r.description, t.description, r.code)
        assert.are.equal(r.references, t.references, r.code)
        assert.are.equal(r.standard, t.standard, r.code)
        assert.are.equal(r.commands, t.commands, r.code)
        assert.are.equal(r.emitted_by, t.emitted_by, r.code)
        assert.are.equal(r.remarks, t.remarks, r.code)
      else
        alts[r.code] = (alts[r.code] or 0) + 1
        local found = false
        for _, u in ipairs(t.other_uses) do
          if u.title == r.title and u.description == r.description
            and u.references == r.references and u.standard == r.standard then
            found = true
          end
        end
        assert.is_true(found, r.code .. " " .. r.title)
      end
    end
    for code, n in pairs(alts) do
      assert.are.equal(n, #smtpcode.describe(code).other_uses, code)
    end
  end)

  it("describes the class and subject of data/classes.tsv and data/subjects.tsv", function()
    for _, r in ipairs(data("classes.tsv")) do
      local cls = r.code:sub(1, 1)
      local t = smtpcode.describe(cls .. ".1.1")
      assert.are.same({ code = r.code, title = r.title, description = r.description,
        references = r.references }, t.class)
    end
    for _, r in ipairs(data("subjects.tsv")) do
      local s = r.code:match("^X%.(%d+)")
      local t = smtpcode.describe("5." .. s .. ".0")
      assert.are.same({ code = r.code, title = r.title, description = r.description,
        references = r.references, control = r.control }, t.subject)
    end
  end)

  it("gives every digit of data/digits.tsv its meaning", function()
    local pos = { first = 1, second = 2, third = 3 }
    local n = 0
    for _, r in ipairs(data("digits.tsv")) do
      for part in r.digits:gmatch("[^,]+") do
        local lo, hi = part:match("^(%d)%-(%d)$")
        if not lo then lo, hi = part, part end
        for d = tonumber(lo), tonumber(hi) do
          local e = core.reply_digit(pos[r.position], d)
          assert.are.equal(r.title, e.title)
          assert.are.equal(r.description, e.description)
          n = n + 1
          if r.position == "first" and d >= 2 and d <= 5 then
            local t = smtpcode.describe(d * 100 + 99)
            assert.are.equal(r.title, t.class.title)
            assert.are.equal(d .. "yz", t.class.code)
          elseif r.position == "second" then
            local t = smtpcode.describe(500 + d * 10 + 9)
            assert.are.equal(r.title, t.subject.title)
          end
        end
      end
    end
    assert.are.equal(30, n)
  end)

  it("describes every pair of data/common.tsv as a pair", function()
    local rows = data("common.tsv")
    for _, r in ipairs(rows) do
      local code = r.reply .. " " .. r.enhanced
      local t = assert(smtpcode.describe(code), code)
      assert.are.equal("pair", t.kind)
      assert.are.equal(code, t.code)
      assert.are.equal(r.title, t.title)
      assert.are.equal(r.description, t.description)
      assert.are.equal(r.remarks, t.remarks)
      assert.are.equal(r.reply, t.reply.code)
      assert.are.equal(r.enhanced, t.enhanced.code)
    end
    local n = 0
    for _ in smtpcode.codes("pair") do n = n + 1 end
    assert.are.equal(#rows, n)
  end)

  it("lists every note of data/notes.tsv under its code over its whole range", function()
    local rows = data("notes.tsv")
    assert.is_true(#rows > 50)
    local function has(t, r)
      for _, n in ipairs(t.notes) do
        if n.provider == r.provider and n.code == r.code and n.meaning == r.meaning
          and n.example == r.example and n.source == r.source then
          return true
        end
      end
      return false
    end
    for _, r in ipairs(rows) do
      if r.code:match("^%d%d%d$") then
        assert.is_true(has(smtpcode.describe(r.code), r), r.code)
      else
        local cl, s, lo, hi = r.code:match("^([X245/]+)%.(%d+)%.(%d+)%-?(%d*)$")
        lo = tonumber(lo)
        hi = hi ~= "" and tonumber(hi) or lo
        for _, c in ipairs({ "2", "4", "5" }) do
          local applies = cl == "X" or cl:find(c, 1, true) ~= nil
          for d = lo, hi do
            local code = c .. "." .. s .. "." .. d
            assert.are.equal(applies, has(smtpcode.describe(code), r), code)
          end
        end
        assert.is_true(has(smtpcode.describe("X." .. s .. "." .. lo), r), r.code)
      end
    end
  end)
end)

describe("registry against the shared reference tables", function()
  local STATUS = { standard = "standard", extension = "extension",
    experimental = "experimental", ["registry-only"] = "registry", draft = "draft",
    ["non-standard"] = "non-standard" }

  shared_it("describes all 81 IANA registry entries with their registry facts",
    "enhanced-status-codes.tsv", function(rows)
      assert.are.equal(81, #rows)
      local seen = {}
      for _, r in ipairs(rows) do
        local t = assert(smtpcode.describe(r.code), r.code)
        assert.is_nil(t.fallback, r.code)
        assert.are.equal(r.code, t.code)
        if r.sample_text then assert.are.equal(r.sample_text, t.title, r.code) end
        assert.are.equal(r.basic_codes, t.basic_codes, r.code)
        assert.are.equal(r.class_note, t.class_note, r.code)
        for _, rfc in ipairs(rfcs(r.reference)) do
          assert.is_truthy(t.references:find(rfc, 1, true), r.code .. " " .. rfc)
        end
        if r.reference:find("^draft") then assert.are.equal("draft", t.standard) end
        seen[r.code] = true
      end
      local n = 0
      for code in smtpcode.codes("enhanced") do
        assert.is_true(seen[code], code)
        n = n + 1
      end
      assert.are.equal(81, n)
    end)

  shared_it("describes every 2xx-5xx reply code with its status and meanings",
    "reply-codes.tsv", function(rows)
      local codes = {}
      for _, r in ipairs(rows) do
        local code = tonumber(r.code)
        if code < 200 then
          assert.is_nil(smtpcode.describe(code), r.code)
        else
          local t = assert(smtpcode.describe(code), r.code)
          assert.is_nil(t.fallback, r.code)
          local status = assert(STATUS[r.status], r.status)
          if r.primary == "yes" then
            codes[r.code] = true
            assert.are.equal(status, t.standard, r.code)
            assert.are.equal(r.typical_commands ~= "-" and r.typical_commands or nil,
              t.commands, r.code)
            for _, rfc in ipairs(rfcs(r.defined_by)) do
              assert.is_truthy((t.references or ""):find(rfc, 1, true), r.code .. " " .. rfc)
            end
          else
            -- a meaning in an extension's context: described in our own
            -- sentences (data/reply.tsv), so matched by its standing and
            -- the commands it answers, not by the reference's wording
            local found = false
            for _, u in ipairs(t.other_uses) do
              if u.standard == status and (r.typical_commands == "-" or u.commands == nil
                  or u.commands == r.typical_commands) then found = true end
            end
            assert.is_true(found, r.code .. " " .. r.meaning)
          end
        end
      end
      local n = 0
      for code, t in smtpcode.codes("reply") do
        assert.is_true(codes[code], code)
        assert.are.equal(code, t.code)
        n = n + 1
      end
      local want = 0
      for _ in pairs(codes) do want = want + 1 end
      assert.are.equal(want, n)
    end)

  shared_it("describes every code of the common-codes page",
    "common-codes.tsv", function(rows)
      assert.is_true(#rows >= 21)
      for _, r in ipairs(rows) do
        local code = r.enhanced and (r.code .. " " .. r.enhanced) or r.code
        local t = assert(smtpcode.describe(code), code)
        assert.is_nil(t.fallback, code)
        if r.enhanced then
          assert.are.equal("pair", t.kind, code)
          assert.are.equal(r.enhanced, t.enhanced.code)
          assert.is_nil(t.enhanced.fallback, code)
        else
          assert.are.equal("reply", t.kind, code)
        end
        assert.are.equal(r.code, t.reply and t.reply.code or t.code)
        assert.is_truthy(#t.description > 20)
      end
    end)

  shared_it("names the registry's classes", "enhanced-status-classes.tsv", function(rows)
    for _, r in ipairs(rows) do
      local t = smtpcode.describe(r.code:sub(1, 1) .. ".0.0")
      assert.are.equal(r.summary, t.class.title)
    end
  end)

  shared_it("names the registry's subjects", "enhanced-status-subjects.tsv", function(rows)
    for _, r in ipairs(rows) do
      local t = smtpcode.describe(r.code:gsub("YYY$", "0"))
      assert.are.equal(r.summary, t.subject.title)
    end
  end)
end)

describe("registry descriptions", function()
  -- Each description is a sentence a person can read on its own: it starts
  -- with a capital letter, ends with a full stop and has at least five
  -- words (the stub of reply 542 was "Rejected.").
  local files = { ["reply.tsv"] = "description", ["enhanced.tsv"] = "description",
    ["common.tsv"] = "description", ["digits.tsv"] = "description",
    ["classes.tsv"] = "description", ["subjects.tsv"] = "description",
    ["notes.tsv"] = "meaning", ["reasons.tsv"] = "description", ["scopes.tsv"] = "description" }
  for file, col in pairs(files) do
    it("are sentences in data/" .. file, function()
      local bad = {}
      for _, r in ipairs(data(file)) do
        local d = r[col] or ""
        local words = select(2, d:gsub("%S+", ""))
        if words < 5 or not d:find("^[A-Z]") or not d:find("[.)]$") or d:find(" / ", 1, true) then
          bad[#bad + 1] = (r.code or r.reply or r.reason or r.scope or r.digits or "?") .. ": " .. d
        end
      end
      assert.same({}, bad)
    end)
  end

  it("describe(542) says what happened in a sentence", function()
    local t = smtpcode.describe(542)
    assert.is_truthy(#t.description > 40, t.description)
  end)
end)
