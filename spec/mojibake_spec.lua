-- classify reads double-encoded text repaired (src/mojibake.c): UTF-8 whose
-- bytes were read as Latin-1 or Windows-1252 and encoded again, as logs,
-- webhooks and forwarded bounces carry it; and a typographic apostrophe as
-- an ASCII one.
local sc = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local char, byte = string.char, string.byte

-- Windows-1252 0x80..0x9F as code points (nil: undefined, kept as U+0080+).
local W1252 = {
  [0x80] = 0x20AC, [0x82] = 0x201A, [0x83] = 0x0192, [0x84] = 0x201E,
  [0x85] = 0x2026, [0x86] = 0x2020, [0x87] = 0x2021, [0x88] = 0x02C6,
  [0x89] = 0x2030, [0x8A] = 0x0160, [0x8B] = 0x2039, [0x8C] = 0x0152,
  [0x8E] = 0x017D, [0x91] = 0x2018, [0x92] = 0x2019, [0x93] = 0x201C,
  [0x94] = 0x201D, [0x95] = 0x2022, [0x96] = 0x2013, [0x97] = 0x2014,
  [0x98] = 0x02DC, [0x99] = 0x2122, [0x9A] = 0x0161, [0x9B] = 0x203A,
  [0x9C] = 0x0153, [0x9E] = 0x017E, [0x9F] = 0x0178,
}

local function utf8char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  return char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

-- s double-encoded: each byte read as Latin-1, or as Windows-1252.
local function double(s, w1252)
  return (s:gsub("[\128-\255]", function(c)
    local b = byte(c)
    return utf8char(w1252 and W1252[b] or b)
  end))
end

local REPLIES = {
  "550 Адресат не найден",
  "452 Почтовый ящик переполнен",
  "550 收件人不存在",
  "550 ユーザーは存在しません",
  "452 La boîte aux lettres du destinataire est pleine",
  "550 Kullanıcı mevcut değil",
  "554 Nachricht als unerwünschte Werbung (Spam) abgewiesen",
}

describe("classify of double-encoded text", function()
  helper.each_backend(sc, function(backend)
    it("gives the verdict of the text itself, read as Latin-1 or as Windows-1252 (" .. backend .. ")", function()
      for _, s in ipairs(REPLIES) do
        local want = sc.classify(s)
        assert.not_equal("unknown", want.reason, s)
        for _, w in ipairs({ false, true }) do
          local d = double(s, w)
          assert.not_equal(s, d)
          local got = sc.classify(d)
          assert.equal(want.reason, got.reason, d)
          assert.equal(want.bounce, got.bounce, d)
          assert.equal(want.matched, got.matched, d)
        end
      end
    end)

    it("reads a double-encoded reply that the rules missed before (" .. backend .. ")", function()
      -- regression: "550 Ð\194\144Ð´Ñ\194\128..." came out unknown, a soft bounce
      local r = sc.classify(double("550 Адресат не найден"))
      assert.equal("user_unknown", r.reason)
      assert.equal("hard", r.bounce)
    end)

    it("reads a typographic apostrophe as an ASCII one (" .. backend .. ")", function()
      local r = sc.classify("550 L\226\128\153adresse n\226\128\153existe pas")
      assert.equal("user_unknown", r.reason)
      r = sc.classify("550 5.1.1 Ann wasn\226\128\153t found at example.org")
      assert.equal(sc.classify("550 5.1.1 Ann wasn't found at example.org").matched, r.matched)
      -- a double-encoded one too
      r = sc.classify(double("550 L\226\128\153adresse n\226\128\153existe pas", true))
      assert.equal("user_unknown", r.reason)
    end)

    it("leaves ASCII, proper UTF-8 and text that only looks double-encoded alone (" .. backend .. ")", function()
      for _, s in ipairs({
        "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
        "550 Adresse inconnue : l'utilisateur n'existe pas",
        "550 5.1.1 user \195\131 unknown \195\128\194\128",
        "550 5.1.1 user unknown \195",
      }) do
        assert.equal("user_unknown", sc.classify(s).reason, s)
      end
    end)

    it("reads a text whose repair does not fit SMTPCODE_MAX_REPAIR (8192) as it is (" .. backend .. ")", function()
      local d = double("550 Адресат не найден ") .. ("x"):rep(9000)
      local r = sc.classify(d)
      assert.equal("unknown", r.reason)
      assert.equal("permanent", r.severity)
      r = sc.classify(double("550 Адресат не найден ") .. ("x"):rep(7000))
      assert.equal("user_unknown", r.reason)
    end)
  end)
end)
