-- classify of multi-line replies: the code a receiver repeats at the start
-- of every line ("421-4.7.28 ") often falls in the middle of a sentence;
-- the text rules read the line break and that prefix as one blank
-- (src/classify.c, joinview), so phrases and near words across it hold.
local sc = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local function each_backend(fn) return helper.each_backend(sc, fn) end

describe("classify of a multi-line reply", function()
  it("matches a phrase split by a line break and the repeated code", function()
    each_backend(function(b)
      -- Gmail wraps its 4.7.28 reply inside "unusual rate of unsolicited"
      local v = sc.classify("421-4.7.28 [192.0.2.10      15] Our system has detected an unusual rate of\r\n" ..
        "421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n" ..
        "421 4.7.28 users from spam, mail sent from your IP address has been limited.")
      assert.equal("blocklisted", v.reason, b)
      -- a bare LF, and a last line with no enhanced code
      v = sc.classify("550-Requested action not taken: no such\n550 user here")
      assert.equal("user_unknown", v.reason, b)
      -- two near words across the break ("poor ~ reputation")
      v = sc.classify("554-5.7.1 Your IP has a poor\r\n554 5.7.1 sending reputation")
      assert.equal("blocklisted", v.reason, b)
    end)
  end)

  it("works on a double-encoded text repaired first (the same buffer, in place)", function()
    each_backend(function(b)
      -- "für" double-encoded, then Gmail's phrase split by the repeated code
      local v = sc.classify("421-4.7.28 Sperre f\195\131\194\188r 192.0.2.10: an unusual rate of\r\n" ..
        "421 4.7.28 unsolicited mail")
      assert.equal("blocklisted", v.reason, b)
    end)
  end)

  it("does not join lines that do not repeat the reply's code", function()
    each_backend(function(b)
      -- another code on the next line is a quoted reply, not a continuation
      local v = sc.classify("550-5.7.1 Message from unusual rate of\r\n421 4.7.0 unsolicited")
      assert.are_not.equal("blocklisted", v.reason, b)
    end)
  end)

  it("keeps the codes and severity of the reply", function()
    each_backend(function(b)
      local v = sc.classify("452-4.2.2 The recipient's inbox is out of storage\r\n452 4.2.2 space")
      assert.equal(452, v.code, b)
      assert.equal("4.2.2", v.enhanced, b)
      assert.equal("transient", v.severity, b)
      assert.equal("mailbox_full", v.reason, b)
    end)
  end)
end)
