-- gen_rules.lua: compile the classification data into C.
--
--   lua5.4 data/gen_rules.lua ROOT
--
-- Reads ROOT/data/rules.tsv (text rules) and ROOT/data/codes-reasons.tsv
-- (default reason of enhanced and reply codes), with the reason and scope
-- names of ROOT/data/reasons.tsv and ROOT/data/scopes.tsv; writes
-- ROOT/src/rules_data.c: an Aho-Corasick automaton over case-folded byte
-- classes, with every failure link resolved at build time (complete rows
-- for shallow states; deep states as "one class differs from this dense
-- row"; states that end phrases apart, with their dictionary links) plus
-- the rule, code and reason tables that src/classify.c uses (declared in
-- src/rules_data.h), with direct indexes for reply codes and enhanced-code
-- subjects. Prints the relative path it wrote. The output depends only on
-- the input files.

local root = arg[1] or "."

local function fail(fmt, ...)
  io.stderr:write("gen_rules: ", string.format(fmt, ...), "\n")
  os.exit(1)
end

-- The shared TSV reader, next to this script.
local tsv = dofile(((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/tsv.lua")

local function readtsv(name)
  local rows, err = tsv.read(root .. "/data/" .. name, { name = name, lines = true, columns = "most" })
  if not rows then fail("%s", err) end
  return rows
end

-- {====================================================== reasons

-- The reasons and scopes, numbered as the rows of data/reasons.tsv and
-- data/scopes.tsv (data/gen_reasons.lua writes their records).
local vocab = dofile(((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/vocab.lua").read(root, fail)
local REASON, SCOPE = vocab.reason, vocab.scope

-- }======================================================

-- {====================================================== byte classes

-- Class 0: bytes that occur in no phrase. Upper case folds to lower case;
-- tab, CR and LF fold to space.
local used = {}
local function fold(b)
  if b >= 65 and b <= 90 then return b + 32 end
  if b == 9 or b == 10 or b == 13 then return 32 end
  return b
end

-- }======================================================

-- {====================================================== rules

local rulerows = readtsv("rules.tsv")
local phrases, phraseid = {}, {}  -- phrase objects, key -> id (1-based)
local phrasetext = {}             -- text -> key
local rules = {}

local function addphrase(text, line, variant)
  local wbs, wbe = false, false
  if text:sub(1, 2) == "\\b" then wbs = true; text = text:sub(3) end
  if text:sub(-2) == "\\b" then wbe = true; text = text:sub(1, -3) end
  if text == "" then fail("rules.tsv:%d: empty phrase", line) end
  if text ~= text:lower() and not variant then fail("rules.tsv:%d: phrase not lower case: %s", line, text) end
  if text:find("[\t\r\n]") then fail("rules.tsv:%d: control byte in phrase", line) end
  local key = (wbs and "1" or "0") .. (wbe and "1" or "0") .. text
  -- one automaton state ends one phrase: the same words with other word
  -- boundaries would hide one of them
  local other = phrasetext[text]
  if other and other ~= key then
    fail("rules.tsv:%d: phrase %q is also written with other \\b ends", line, text)
  end
  phrasetext[text] = key
  local id = phraseid[key]
  if not id then
    id = #phrases + 1
    phraseid[key] = id
    phrases[id] = { text = text, wbs = wbs, wbe = wbe, marker = 0, first = {} }
    for i = 1, #text do used[fold(text:byte(i))] = true end
  end
  return id
end

-- Condition tokens: 2xx..5xx (reply class, or enhanced class without a
-- reply), 550 (reply code), 5.2.2 / X.2.2 / X.2 (enhanced code), nocode
-- (neither code), noenh (no enhanced code).
local function parsecond(tok, line)
  local c = tok:match("^([2345])xx$")
  if c then return { kind = 1, a = tonumber(c), b = 0, c = 0 } end
  c = tok:match("^(%d%d%d)$")
  if c then return { kind = 0, a = tonumber(c), b = 0, c = 0 } end
  local k, s, d = tok:match("^([2345X])%.(%d+)%.(%d+)$")
  if k then
    return { kind = 2, a = k == "X" and 0 or tonumber(k), b = tonumber(s), c = tonumber(d) }
  end
  k, s = tok:match("^([2345X])%.(%d+)$")
  if k then
    return { kind = 2, a = k == "X" and 0 or tonumber(k), b = tonumber(s), c = -1 }
  end
  if tok == "nocode" then return { kind = 3, a = 0, b = 0, c = 0 } end
  if tok == "noenh" then return { kind = 4, a = 0, b = 0, c = 0 } end
  fail("rules.tsv:%d: bad condition %q", line, tok)
end

-- The matcher folds ASCII case only. A phrase in another script that
-- starts a sentence is written with a capital ("Учётная запись
-- заблокирована", "Ç...", "Ł..."): for a first phrase whose first letter
-- is a lower-case Latin-1, Latin Extended-A, Greek or Cyrillic letter, the
-- rule is also made with that letter in upper case.
local function utf8enc(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 | (cp >> 6), 0x80 | (cp & 0x3F)) end
  return string.char(0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F))
end
local function upperfirst(text)
  local b1, b2 = text:byte(1, 2)
  if not b1 or b1 < 0xC0 or b1 >= 0xE0 or not b2 then return nil end
  local cp = ((b1 & 0x1F) << 6) | (b2 & 0x3F)
  local up
  if cp >= 0xE0 and cp <= 0xFE and cp ~= 0xF7 then up = cp - 0x20
  elseif cp >= 0x430 and cp <= 0x44F then up = cp - 0x20
  elseif cp >= 0x450 and cp <= 0x45F then up = cp - 0x50
  elseif cp >= 0x3B1 and cp <= 0x3C9 and cp ~= 0x3C2 then up = cp - 0x20
  elseif cp == 0x131 then up = 0x49 -- Turkish dotless i: I
  elseif (cp >= 0x100 and cp <= 0x137) or (cp >= 0x14A and cp <= 0x177) then
    if cp % 2 == 1 then up = cp - 1 end
  elseif (cp >= 0x139 and cp <= 0x148) or (cp >= 0x179 and cp <= 0x17E) then
    if cp % 2 == 0 then up = cp - 1 end
  end
  if not up then return nil end
  return utf8enc(up) .. text:sub(3)
end

local expanded = {}
for _, r in ipairs(rulerows) do
  expanded[#expanded + 1] = r
  if r.reason:sub(1, 1) ~= "@" or r.reason == "@delayed" then
    local first, rest = r.match, ""
    local i = r.match:find(" && ", 1, true)
    local i2 = r.match:find(" ~ ", 1, true)
    if i2 and (not i or i2 < i) then i = i2 end
    if i then first, rest = r.match:sub(1, i - 1), r.match:sub(i) end
    local wb = first:sub(1, 2) == "\\b" and "\\b" or ""
    local up = upperfirst(first:sub(#wb + 1))
    if up then
      local c = {}
      for k, v in pairs(r) do c[k] = v end
      c.match, c.variant = wb .. up .. rest, true
      expanded[#expanded + 1] = c
    end
  end
end

for _, r in ipairs(expanded) do
  local line = r._line
  local match = r.match
  if match == "" then fail("rules.tsv:%d: empty match", line) end
  -- "a && b": b later in the text; "a ~ b": b later, within NEAR words of
  -- a in the same sentence (src/classify.c, near())
  local ids, near = {}, {}
  do
    local rest, op = match, false
    while true do
      local i, j, sep = rest:find(" (&&) ")
      local i2, j2 = rest:find(" ~ ", 1, true)
      if i2 and (not i or i2 < i) then i, j, sep = i2, j2, "~" end
      local p = i and rest:sub(1, i - 1) or rest
      ids[#ids + 1] = addphrase(p, line, r.variant and #ids == 0)
      near[#ids] = op
      if not i then break end
      op = sep == "~"
      rest = rest:sub(j + 1)
    end
  end
  if r.reason == "@ignore" then
    -- words that decide nothing: the phrases inside them do not count
    if #ids ~= 1 then fail("rules.tsv:%d: a marker has one phrase", line) end
    phrases[ids[1]].ignore = true
  elseif r.reason == "@delayed" then
    -- a delay notice: the text says delivery is late and will go on
    if #ids ~= 1 then fail("rules.tsv:%d: a marker has one phrase", line) end
    phrases[ids[1]].delayed = true
  elseif r.reason == "@sender" or r.reason == "@recipient" or r.reason == "@sender-reply" then
    if #ids ~= 1 then fail("rules.tsv:%d: a marker has one phrase", line) end
    phrases[ids[1]].marker = r.reason == "@sender" and 2 or r.reason == "@recipient" and 1 or 3
  else
    local reason = REASON[r.reason]
    if not reason then fail("rules.tsv:%d: unknown reason %q", line, r.reason) end
    local prio = tonumber(r.prio)
    if not prio or prio < 1 or prio > 99 or prio % 1 ~= 0 then
      fail("rules.tsv:%d: prio must be 1..99", line)
    end
    local scope = 0
    if r.scope ~= "" then
      scope = SCOPE[r.scope] or fail("rules.tsv:%d: bad scope %q", line, r.scope)
    end
    local who = 0
    if r.who == "recipient" then who = 1
    elseif r.who == "sender" then who = 2
    elseif r.who ~= "" and r.who ~= "any" then fail("rules.tsv:%d: bad who %q", line, r.who) end
    local conds = {}
    if r.when ~= "" and r.when ~= "-" then
      for tok in r.when:gmatch("[^,%s]+") do conds[#conds + 1] = parsecond(tok, line) end
    end
    local flags, alone = 0, false
    for tok in r.flags:gmatch("[^,%s]+") do
      if tok == "rcpts552" then flags = flags | 1
      elseif tok == "alone" then alone = true
      else fail("rules.tsv:%d: bad flags %q", line, r.flags) end
    end
    -- A bare word (one phrase, no blank in it) never decides a failure on
    -- its own: without a reply or enhanced code the rule does not hold,
    -- unless the data says the token is proof alone (an errno name, a
    -- provider's message id).
    -- (Chinese and Japanese write no blanks: a phrase of theirs is words,
    -- not one word, so it is not bare.)
    local t1 = phrases[ids[1]].text
    if #ids == 1 and not t1:find(" ", 1, true) and not t1:find("[\224-\239]") and not alone then
      flags = flags | 2
    end
    local total = 0
    for _, id in ipairs(ids) do total = total + #phrases[id].text end
    if #ids > 4 then fail("rules.tsv:%d: at most 4 phrases", line) end
    rules[#rules + 1] = { reason = reason, prio = prio, scope = scope, who = who,
      conds = conds, flags = flags, ids = ids, near = near, line = line, match = match,
      total = total }
  end
end

for i, r in ipairs(rules) do
  local p = phrases[r.ids[1]]
  p.first[#p.first + 1] = i - 1
  for _, id in ipairs(r.ids) do phrases[id].inrule = true end
end
-- Rules of a first phrase in order of precedence (prio, then total length,
-- then line), so the first one that holds is the phrase's best.
for _, p in ipairs(phrases) do
  table.sort(p.first, function(a, b)
    local ra, rb = rules[a + 1], rules[b + 1]
    if ra.prio ~= rb.prio then return ra.prio > rb.prio end
    if ra.total ~= rb.total then return ra.total > rb.total end
    return a < b
  end)
end

-- Byte classes: folded bytes that occur in a phrase get classes 1..n.
local cls, ncls = {}, 1
for b = 0, 255 do
  if used[b] then cls[b] = ncls; ncls = ncls + 1 end
end
local bytecls = {}
for b = 0, 255 do bytecls[b] = cls[fold(b)] or 0 end
if ncls > 255 then fail("too many byte classes") end

-- }======================================================

-- {====================================================== automaton

local states = { { next = {}, depth = 0, out = -1 } } -- state 1 = root
for id, p in ipairs(phrases) do
  local s = 1
  for i = 1, #p.text do
    local c = bytecls[p.text:byte(i)]
    local t = states[s].next[c]
    if not t then
      states[#states + 1] = { next = {}, depth = states[s].depth + 1, out = -1 }
      t = #states
      states[s].next[c] = t
    end
    s = t
  end
  states[s].out = id - 1
end
if #states > 65535 then fail("too many states (%d)", #states) end

-- Breadth-first failure and dictionary links.
local queue, qh = {}, 1
local rootst = states[1]
rootst.fail, rootst.dict = 1, 0
for c = 1, ncls - 1 do
  local t = rootst.next[c]
  if t then
    states[t].fail = 1
    states[t].dict = 0
    queue[#queue + 1] = t
  end
end
while qh <= #queue do
  local s = queue[qh]; qh = qh + 1
  local st = states[s]
  for c = 1, ncls - 1 do
    local t = st.next[c]
    if t then
      local f = st.fail
      while f ~= 1 and not states[f].next[c] do f = states[f].fail end
      local ft = states[f].next[c]
      if ft and ft ~= t then states[t].fail = ft else states[t].fail = 1 end
      local tf = states[states[t].fail]
      states[t].dict = tf.out >= 0 and states[t].fail or tf.dict
      queue[#queue + 1] = t
    end
  end
end

-- }======================================================

-- {====================================================== codes

local coderows = readtsv("codes-reasons.tsv")
local enh, reply = {}, {}
for _, r in ipairs(coderows) do
  local reason = REASON[r.reason] or fail("codes-reasons.tsv:%d: unknown reason %q", r._line, r.reason)
  local st = tonumber(r.strength)
  if not st or st < 1 or st > 99 then fail("codes-reasons.tsv:%d: strength 1..99", r._line) end
  local c = r.code
  local k, s, d = c:match("^([245X])%.(%d+)%.(%d+)$")
  if k then
    enh[#enh + 1] = { k == "X" and 0 or tonumber(k), tonumber(s), tonumber(d), reason, st, c }
  else
    k, s = c:match("^([245X])%.(%d+)$")
    if k then
      enh[#enh + 1] = { k == "X" and 0 or tonumber(k), tonumber(s), -1, reason, st, c }
    elseif c:match("^%d%d%d$") then
      reply[#reply + 1] = { tonumber(c), reason, st }
    else
      fail("codes-reasons.tsv:%d: bad code %q", r._line, c)
    end
  end
end
table.sort(enh, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  if a[3] ~= b[3] then return a[3] < b[3] end
  return a[1] < b[1]
end)
table.sort(reply, function(a, b) return a[1] < b[1] end)
for i = 2, #enh do
  local a, b = enh[i - 1], enh[i]
  if a[1] == b[1] and a[2] == b[2] and a[3] == b[3] then fail("codes-reasons.tsv: %s twice", b[6]) end
end

-- }======================================================

-- {====================================================== output

local out = {}
local function w(s) out[#out + 1] = s end
local function cstr(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("[^ -~]", function(ch)
    return string.format("\\%03o", ch:byte())
  end) .. '"'
end
local function list(t, per)
  per = per or 16
  local lines = {}
  for i = 1, #t, per do
    lines[#lines + 1] = "  " .. table.concat(t, ", ", i, math.min(i + per - 1, #t)) .. ","
  end
  return table.concat(lines, "\n")
end

w("/* Generated by data/gen_rules.lua from data/rules.tsv, data/codes-reasons.tsv,")
w("** data/reasons.tsv and data/scopes.tsv. Do not edit: run `make gen`. */")
w('#include "rules_data.h"')
w("")
w(string.format("/* %d rules, %d phrases, %d states, %d byte classes */", #rules, #phrases, #states, ncls))
w("")
-- Low classes: class 0 and the classes of bytes below 0x80 (numbered in
-- byte order, so they come first); the rest are high classes (UTF-8 bytes).
local nlo = 1
for b = 0, 127 do
  if cls[b] then nlo = nlo + 1 end
end
for b = 128, 255 do
  if cls[b] and cls[b] < nlo then fail("byte classes out of order") end
end

-- The transition function, complete (failure links resolved), for every
-- state: full[s][c] for classes 1..ncls-1 (class 0, a byte in no phrase,
-- always leads to the root). Failure links point to shallower states, so
-- breadth-first order has each state's failure row ready.
local full = {}
do
  local row = {}
  for c = 1, ncls - 1 do row[c] = rootst.next[c] or 1 end
  full[1] = row
  for _, s in ipairs(queue) do
    local x, fr = states[s], full[states[s].fail]
    row = {}
    for c = 1, ncls - 1 do row[c] = x.next[c] or fr[c] end
    full[s] = row
  end
end

-- Three kinds of state, numbered in this order (the root is 0):
--   [0, k0)  dense: a complete row; states that end no phrase and are
--            shallow (where the text spends most of its time) or whose row
--            differs from their fallback's in more than one class;
--   [k0, ks) sparse: states that end no phrase and whose row equals the row
--            of their fallback (the nearest dense state on the failure
--            chain) but in at most one class, the usual deep state inside
--            a phrase: one compare, then one dense lookup at most;
--   [ks, n)  states that end a phrase (directly or by a dictionary link):
--            the phrases to record, then a fallback and the list of
--            classes that differ from it.
-- So the scan tests one number per byte to know which case it is in.
-- Within a kind, the order of creation.
-- DENSE_DEPTH: states this shallow get a complete row. A deeper cut gives
-- a bigger table (each row is 256 bytes) but fewer switches between the
-- kinds, which the processor mispredicts. Measured on the corpus lines of
-- bench/classify.lua (find + classify, C alone): depth 2, 1,285 dense
-- rows, 660 ns/line; depth 4, 550; depth 6, 515; depth 8, 3,507 rows
-- (0.9 MB), 450; deeper no faster (all 13,157 rows: 480).
-- With the rules of eleven languages (more rules: 20,000 states): depth 8 would be
-- 4,823 rows (1.2 MB, core.so 1.74 MB); depth 3 is 1,825 rows (0.47 MB,
-- core.so 0.97 MB) for 1.5 % more instructions under callgrind
-- (638,734 against 629,344 on examples/maillog.txt), and on this loaded
-- two-core machine the smaller tables were not slower in alternating
-- rounds (best of eight: 949 against 2,151 ns/line).
-- With the low classes stored by column and shared high parts (below) a
-- row costs 104 bytes instead of 256. On the 812 lines of bench/cclassify
-- (find + classify) under callgrind: depth 4, 355 KB of scan tables, 5,362
-- instructions a line; depth 5, 411 KB, 5,336; depth 6, 488 KB, 5,313
-- (the old layout at depth 3: 559 KB, 5,650). In CPU time (alternating
-- rounds, 12 each, on the loaded machine) depth 5 was as fast as the old
-- layout (best 739 against 746 ns/line, median 805 against 806), depth 4
-- a little slower (median 856): depth 5 is smaller and not slower.
local DENSE_DEPTH = 5
local kind, fb, exc = {}, {}, {}
local function decide(s)
  local x = states[s]
  x.emits = x.out >= 0 or x.dict > 0
  if s == 1 then kind[s] = 0; return end
  if not x.emits and x.depth <= DENSE_DEPTH then kind[s] = 0; return end
  local d = x.fail
  while kind[d] ~= 0 do d = states[d].fail end
  local list, row, drow = {}, full[s], full[d]
  for c = 1, ncls - 1 do
    if row[c] ~= drow[c] then list[#list + 1] = c end
  end
  if x.emits then
    kind[s] = 2
  elseif #list > 1 then
    kind[s] = 0
    return
  else
    kind[s] = 1
  end
  fb[s], exc[s] = d, list
end
decide(1)
for _, s in ipairs(queue) do decide(s) end

local num, order, k0, ks = {}, {}, 0, 0
for k = 0, 2 do
  for s = 1, #states do
    if kind[s] == k then
      order[#order + 1] = s
      num[s] = #order - 1
    end
  end
  if k == 0 then k0 = #order elseif k == 1 then ks = #order end
end
if num[1] ~= 0 then fail("root must be state 0") end

-- Dense rows come in two parts. The low part (classes 0 .. nlo - 1: ASCII,
-- most of the text) is stored by column: class c of dense state s is
-- smtpcode_rd_scan.lo[col * k0 + s] (col = colof[c], below), and the byte
-- table holds col * k0 for a low class, so that the scan adds it to the state (one add and one load
-- on the critical path; no padding). The byte table marks a high class
-- (UTF-8 bytes) with bit 24 (SCR_HIGH), above every c * k0.
-- The high part is read only on bytes >= 0x80 and is mostly the root's:
-- a state's high row differs from the root's only in the classes where it
-- or a state on its failure chain goes on inside a phrase. So hdef holds
-- the root's high row, and the classes where a row differs are packed in
-- a comb (row displacement): the distinct high rows, those with the most
-- differences first, each get the first base (offset into hx) that no
-- other row has and where their entries fall on free slots; entry
-- hx[base + c - nlo] is {base, next state} for a differing class c, and a
-- slot whose check is not the row's base means "the root's". hoff[s] is
-- the base of state s's row: one compare more than a full row, and the
-- 82 high classes cost 4 bytes per difference instead of 164 bytes per
-- distinct row (measured in docs/classify.md, "Size").
local nhigh = ncls - nlo
local lo, hoff = {}, {}
if nlo * k0 >= 1 << 24 then fail("%d low classes x %d dense states: too many", nlo, k0) end
-- Low classes that no dense state tells apart (the same column: bytes that
-- occur only deep inside phrases) share one column; colof[c] is the
-- column of class c (the sparse and ending states still see the class).
local colof, colseen, ncol = {}, {}, 0
for c = 0, nlo - 1 do
  local col = {}
  for i = 1, k0 do col[i] = c == 0 and "0" or tostring(num[full[order[i]][c]]) end
  local key = table.concat(col, ",")
  if not colseen[key] then
    colseen[key] = ncol
    ncol = ncol + 1
    for i = 1, k0 do lo[#lo + 1] = col[i] end
  end
  colof[c] = colseen[key]
end
local hdef, rootrow = {}, full[1]
for c = nlo, ncls - 1 do hdef[#hdef + 1] = tostring(num[rootrow[c]]) end
local hrows, hrowof = {}, {} -- distinct rows: their differences from the root's
for i = 1, k0 do
  local row, d = full[order[i]], {}
  for c = nlo, ncls - 1 do
    if row[c] ~= rootrow[c] then d[#d + 1] = c end
  end
  local keyt = {}
  for _, c in ipairs(d) do keyt[#keyt + 1] = c .. ":" .. row[c] end
  local key = table.concat(keyt, ",")
  if not hrowof[key] then
    hrows[#hrows + 1] = { diff = d, row = row, key = key }
    hrowof[key] = hrows[#hrows]
  end
  hrowof[key].states = (hrowof[key].states or 0) + 1
  hoff[i] = hrowof[key]
end
local byn = {}
for i, r in ipairs(hrows) do byn[i] = r end
table.sort(byn, function(a, b)
  if #a.diff ~= #b.diff then return #a.diff > #b.diff end
  return a.key < b.key
end)
local slot, baseused, hxn, ndiff = {}, {}, 0, 0
for _, r in ipairs(byn) do
  local b = 0
  while true do
    local ok = not baseused[b]
    if ok then
      for _, c in ipairs(r.diff) do
        if slot[b + c - nlo] then ok = false; break end
      end
    end
    if ok then break end
    b = b + 1
  end
  baseused[b], r.base = true, b
  for _, c in ipairs(r.diff) do slot[b + c - nlo] = r end
  ndiff = ndiff + #r.diff
  if b + nhigh > hxn then hxn = b + nhigh end
end
-- The checks are bases: 16 bits while the comb fits (0xffff, a free slot,
-- is none of them), 32 past that (hoff and the checks widen rather than
-- refusing rules).
local wide = hxn > 65535
local hx_t, nochk = wide and "unsigned      " or "unsigned short", wide and "4294967295u" or "65535"
local hx, nfree = {}, 0
for o = 0, hxn - 1 do
  local r = slot[o]
  if r then
    hx[#hx + 1] = string.format("{%d, %d}", r.base, num[r.row[o - r.base + nlo]])
  else
    hx[#hx + 1] = "{" .. nochk .. ", 0}"
    nfree = nfree + 1
  end
end
for i = 1, k0 do hoff[i] = tostring(hoff[i].base) end
if #hdef == 0 then hdef[1] = "0" end
if #hx == 0 then hx[1] = "{" .. nochk .. ", 0}"; hxn = 1 end
local bcls, bcl = {}, {}
for b = 0, 255 do
  local c = bytecls[b]
  bcls[#bcls + 1] = c >= nlo and string.format("H|%d", c) or tostring(colof[c] * k0)
  bcl[#bcl + 1] = tostring(c)
end
w(string.format("const int smtpcode_rd_ncls = %d;", ncls))
w(string.format("const unsigned smtpcode_rd_nstates = %d;", #order))
w("")

-- The depth of every state (the length of the text it stands for), for
-- the interleaved scan streams of src/classify.c.
local depth = {}
for i = 1, #order do depth[i] = tostring(states[order[i]].depth) end
for i = 1, #order do -- SCR_MAXDEPTH in src/rules_data.h
  if states[order[i]].depth > 64 then fail("a phrase longer than 64 bytes") end
end
w(string.format("const unsigned char smtpcode_rd_depth[%d] = {", #order))
w(list(depth, 32))
w("};")
w("")

-- Sparse states, indexed by state number - k0: the differing class (255:
-- none), where it leads, the fallback.
local chr, to, fbk = {}, {}, {}
for i = k0 + 1, ks do
  local s = order[i]
  local list = exc[s]
  chr[#chr + 1] = tostring(list[1] or 255)
  to[#to + 1] = tostring(list[1] and num[full[s][list[1]]] or 0)
  fbk[#fbk + 1] = tostring(num[fb[s]])
end
local nsp = math.max(ks - k0, 1)
if #chr == 0 then chr[1], to[1], fbk[1] = "255", "0", "0" end
-- The tables of the scan, in one struct (src/rules_scan.h) so that one
-- base register reaches them all and their sizes are constants.
w(string.format("/* states: %d dense, %d sparse, %d ending a phrase; %d low and %d high",
  k0, ks - k0, #order - ks, nlo, nhigh))
w(string.format("** byte classes; %d distinct high rows, %d differences from the root's in",
  #hrows, ndiff))
w(string.format("** %d comb slots (%d free) */", hxn, nfree))
w("#define H SCR_HIGH")
w("const scr_scan smtpcode_rd_scan = {")
w("  /* bcls */ {")
w(list(bcls, 16))
w("  },")
w("  /* cls */ {")
w(list(bcl, 32))
w("  },")
w("  /* lo */ {")
w(list(lo, 24))
w("  },")
w("  /* hdef */ {")
w(list(hdef, 20))
w("  },")
w("  /* hx */ {")
w(list(hx, 8))
w("  },")
w("  /* hoff */ {")
w(list(hoff, 20))
w("  },")
w("  /* chr */ {")
w(list(chr, 24))
w("  },")
w("  /* to */ {")
w(list(to, 20))
w("  },")
w("  /* fb */ {")
w(list(fbk, 20))
w("  },")
w("};")
w("#undef H")

-- src/rules_scan.h: the sizes, as constants for the scan's compares.
local hdr = {
  "/* Generated by data/gen_rules.lua from data/rules.tsv. Do not edit: run",
  "** `make gen`. The scan tables of src/rules_data.c (src/rules_data.h",
  "** explains them), their sizes as constants. */",
  "#ifndef smtpcode_rules_scan_h",
  "#define smtpcode_rules_scan_h",
  "",
  string.format("#define SCR_K0 %du    /* dense states */", k0),
  string.format("#define SCR_KS %du   /* dense and sparse states */", ks),
  string.format("#define SCR_NLO %du    /* low byte classes */", nlo),
  string.format("#define SCR_NCOL %du   /* distinct columns of the low classes */", ncol),
  "#define SCR_LOEND (SCR_NCOL * SCR_K0) /* bcls below: a low class */",
  string.format("#define SCR_NHI %du    /* high byte classes */", math.max(nhigh, 1)),
  string.format("#define SCR_NHX %du /* slots of the high comb */", hxn),
  "",
  "/* A slot of the high comb: chk is the base of the row it belongs to. */",
  "typedef struct scr_hx {",
  "  " .. hx_t .. " chk;",
  "  unsigned short to;",
  "} scr_hx;",
  "",
  "typedef struct scr_scan {",
  "  unsigned bcls[256];                          /* byte -> class entry */",
  "  unsigned char cls[256];                      /* byte -> class */",
  "  unsigned short lo[SCR_LOEND];                /* low classes by column */",
  "  unsigned short hdef[SCR_NHI];                /* the root's high row */",
  "  scr_hx hx[SCR_NHX];                           /* high comb */",
  "  " .. hx_t .. " hoff[SCR_K0];                  /* dense state -> comb base */",
  string.format("  unsigned char chr[%d];                     /* sparse state - k0 -> ... */", nsp),
  string.format("  unsigned short to[%d];", nsp),
  string.format("  unsigned short fb[%d];", nsp),
  "} scr_scan;",
  "",
  "#endif",
}
do
  local hp = root .. "/src/rules_scan.h"
  local hf = io.open(hp, "wb") or fail("cannot write %s", hp)
  hf:write(table.concat(hdr, "\n"), "\n")
  hf:close()
end
w("")

-- States that end a phrase, smtpcode_rd_emit[s - ks]: the phrase (-1:
-- none), the next such state on the failure chain (0: none), the fallback
-- and the differing classes smtpcode_rd_edges[exc .. exc + nexc).
local edges, em = {}, {}
for i = ks + 1, #order do
  local s = order[i]
  local x = states[s]
  local list = exc[s]
  em[#em + 1] = string.format("{%d, %d, %d, %d, %d}", x.out,
    x.dict > 0 and num[x.dict] or 0, num[fb[s]], #edges, #list)
  for _, c in ipairs(list) do
    edges[#edges + 1] = string.format("{%d, %d}", c, num[full[s][c]])
  end
end
w(string.format("const scr_emit smtpcode_rd_emit[%d] = {", math.max(#em, 1)))
w(#em > 0 and list(em, 5) or "  {-1, 0, 0, 0, 0},")
w("};")
w("")
w(string.format("const scr_edge smtpcode_rd_edges[%d] = {", math.max(#edges, 1)))
w(#edges > 0 and list(edges, 8) or "  {0, 0},")
w("};")
w("")

-- Phrases.
local pr, firsts = {}, {}
for _, p in ipairs(phrases) do
  local fl = (p.wbs and 1 or 0) + (p.wbe and 2 or 0) + p.marker * 4 +
    (p.inrule and 16 or 0) + (p.delayed and 32 or 0) + (p.ignore and 64 or 0)
  pr[#pr + 1] = string.format("{%d, %d, %d, %d}", #p.text, fl, #firsts, #p.first)
  for _, r in ipairs(p.first) do firsts[#firsts + 1] = tostring(r) end
end
w(string.format("const scr_phrase smtpcode_rd_phrases[%d] = {", #phrases))
w(list(pr, 6))
w("};")
w("")
w(string.format("const unsigned short smtpcode_rd_first[%d] = {", #firsts))
w(list(firsts))
w("};")
w("")

-- Rules, their phrases and conditions.
-- The match texts are one pool (offsets, not pointers: the table needs no
-- relocation when the library is loaded), each ended by a NUL.
local rl, rp, rc = {}, {}, {}
local pool, matchat, npool = {}, {}, 0
for _, r in ipairs(rules) do
  local pf, cf = #rp, #rc
  for k, id in ipairs(r.ids) do
    if id - 1 >= 32768 then fail("too many phrases") end
    rp[#rp + 1] = tostring(id - 1 + (r.near[k] and 32768 or 0))
  end
  for _, c in ipairs(r.conds) do
    rc[#rc + 1] = string.format("{%d, %d, %d, %d}", c.kind, c.a, c.b, c.c)
  end
  if not matchat[r.match] then
    matchat[r.match] = npool
    pool[#pool + 1] = "  " .. cstr(r.match .. "\0")
    npool = npool + #r.match + 1
  end
  if #r.conds > 255 then fail("rules.tsv:%d: too many conditions", r.line) end
  -- the match offset in 24 bits: mhi (8) and match (16), see scr_rule
  if matchat[r.match] >= 1 << 24 then fail("rule texts: more than 16 MB") end
  rl[#rl + 1] = string.format("  {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d},",
    r.reason, r.scope, r.prio, r.who, r.flags, #r.ids, #r.conds, matchat[r.match] >> 16,
    pf, cf, r.total, r.line, matchat[r.match] & 0xffff)
end
w(string.format("const unsigned short smtpcode_rd_rphrases[%d] = {", #rp))
w(list(rp))
w("};")
w("")
w(string.format("const scr_cond smtpcode_rd_conds[%d] = {", math.max(#rc, 1)))
w(#rc > 0 and list(rc, 6) or "  {0, 0, 0, 0},")
w("};")
w("")
w(string.format("const scr_rule smtpcode_rd_rules[%d] = {", #rules))
w(table.concat(rl, "\n"))
w("};")
w("")
w("#if defined(__GNUC__)")
w("#pragma GCC diagnostic ignored \"-Woverlength-strings\"")
w("#endif")
w(string.format("const char smtpcode_rd_match[%d] =", npool + 1))
w(table.concat(pool, "\n") .. ";")
w("")

-- Code tables.
local t = {}
for _, e in ipairs(enh) do
  t[#t + 1] = string.format("  {%d, %d, %d, %d, %d}, /* %s */", e[1], e[2], e[3], e[4], e[5], e[6])
end
w(string.format("const scr_enh smtpcode_rd_enh[%d] = {", #enh))
w(table.concat(t, "\n"))
w("};")
w("")
-- Enhanced entries of subject s: smtpcode_rd_enhsub[s] .. [s+1]; sorted
-- by detail (-1, the subject's own entry, first), then class.
local nsub = 0
for _, e in ipairs(enh) do if e[2] + 1 > nsub then nsub = e[2] + 1 end end
t = {}
do
  local i = 1
  for sb = 0, nsub do
    while i <= #enh and enh[i][2] < sb do i = i + 1 end
    t[#t + 1] = tostring(i - 1)
  end
end
w(string.format("const unsigned char smtpcode_rd_enhsub[%d] = {", nsub + 1))
w(list(t))
w("};")
w(string.format("const int smtpcode_rd_nsub = %d;", nsub))
w("")
t = {}
for _, e in ipairs(reply) do t[#t + 1] = string.format("{%d, %d, %d}", e[1], e[2], e[3]) end
w(string.format("const scr_reply smtpcode_rd_reply[%d] = {", #reply))
w(list(t, 6))
w("};")
w("")
-- Reply code c (200..599): smtpcode_rd_reply[smtpcode_rd_replyidx[c - 200] - 1],
-- none when 0.
t = {}
do
  local at = {}
  for i, e in ipairs(reply) do
    if e[1] < 200 or e[1] > 599 then fail("codes-reasons.tsv: reply code %d out of 200..599", e[1]) end
    at[e[1]] = i
  end
  if #reply > 255 then fail("codes-reasons.tsv: too many reply codes") end
  for c = 200, 599 do t[#t + 1] = tostring(at[c] or 0) end
end
w("const unsigned char smtpcode_rd_replyidx[400] = {")
w(list(t, 25))
w("};")
w("")

w(string.format("const int smtpcode_rd_nrules = %d;", #rules))
w(string.format("const int smtpcode_rd_nphrases = %d;", #phrases))
w(string.format("const int smtpcode_rd_nenh = %d;", #enh))
w(string.format("const int smtpcode_rd_nreply = %d;", #reply))

local path = root .. "/src/rules_data.c"
local f = io.open(path, "wb") or fail("cannot write %s", path)
f:write(table.concat(out, "\n"), "\n")
f:close()
print("src/rules_data.c")
print("src/rules_scan.h")

-- }======================================================
