-- gen_registry.lua: write the registry tables of the C core and the
-- reference page from the TSV files in data/.
--
--   lua5.4 data/gen_registry.lua ROOT
--
-- Reads ROOT/data/*.tsv, writes ROOT/src/registry_data.c and
-- ROOT/docs/codes.md, and prints the paths it wrote (relative to ROOT),
-- one per line. The output depends only on the TSV files. Any error in the
-- data stops the generator with a message naming the file and line.

local root = arg[1]
if not root or root == "" then
  io.stderr:write("usage: lua data/gen_registry.lua ROOT\n")
  os.exit(2)
end

local concat, sort = table.concat, table.sort
local format = string.format
local floor = math.floor

local function fail(fmt, ...)
  io.stderr:write("gen_registry: ", format(fmt, ...), "\n")
  os.exit(1)
end

-- {======================================================
-- Reading TSV
-- =======================================================

-- The shared TSV reader, next to this script. Rows are keyed by column
-- name ("" becomes nil), with _line and _file; every line has the header's
-- number of fields, and the header has the columns in want.
local tsv = dofile(((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/tsv.lua")

local function readtsv(name, want)
  local rows, err = tsv.read(root .. "/data/" .. name,
    { name = name, empty = false, lines = true, columns = "exact", want = want })
  if not rows then fail("%s", err) end
  return rows
end

local function need(row, col)
  local v = row[col]
  if not v then fail("%s:%d: empty %s", row._file, row._line, col) end
  return v
end

-- }======================================================

local STANDARD = {
  standard = "SMTPCODE_STD_STANDARD", extension = "SMTPCODE_STD_EXTENSION",
  experimental = "SMTPCODE_STD_EXPERIMENTAL", draft = "SMTPCODE_STD_DRAFT",
  registry = "SMTPCODE_STD_REGISTRY", ["non-standard"] = "SMTPCODE_STD_NONSTANDARD",
}

local function standard(row)
  local s = need(row, "standard")
  if not STANDARD[s] then fail("%s:%d: unknown standard %q", row._file, row._line, s) end
  return s
end

-- "X.1.10" -> 1, 10; "5.7.1" -> class 5 (class may be "X" -> 0)
local function splitenh(row, code)
  local c, s, d = code:match("^([X245])%.(%d+)%.(%d+)$")
  if not c then fail("%s:%d: bad enhanced code %q", row._file, row._line, code) end
  return c == "X" and 0 or tonumber(c), tonumber(s), tonumber(d)
end

-- {======================================================
-- Load and check the data
-- =======================================================

local replies, alts = {}, {}
do
  local seen = {}
  for _, r in ipairs(readtsv("reply.tsv", { "code", "primary", "title", "description",
      "references", "standard", "commands", "emitted_by", "remarks" })) do
    local code = tonumber(need(r, "code"))
    if not code or code < 200 or code > 599 or floor(code) ~= code then
      fail("reply.tsv:%d: reply code out of range", r._line)
    end
    r.num = code
    r.std = standard(r)
    need(r, "title"); need(r, "description")
    if r.primary == "yes" then
      if seen[code] then fail("reply.tsv:%d: second primary row for %d", r._line, code) end
      seen[code] = true
      replies[#replies + 1] = r
    elseif r.primary == "no" then
      alts[#alts + 1] = r
    else
      fail("reply.tsv:%d: primary must be yes or no", r._line)
    end
  end
  for _, a in ipairs(alts) do
    if not seen[a.num] then fail("reply.tsv:%d: %d has no primary row", a._line, a.num) end
  end
  -- stable sorts: by code, then by file order
  sort(replies, function(a, b) return a.num < b.num end)
  sort(alts, function(a, b)
    if a.num ~= b.num then return a.num < b.num end
    return a._line < b._line
  end)
end

local enhanced = {}
do
  local seen = {}
  for _, r in ipairs(readtsv("enhanced.tsv", { "code", "title", "description", "references",
      "standard", "basic_codes", "class_note", "remarks" })) do
    local c, s, d = splitenh(r, need(r, "code"))
    if c ~= 0 then fail("enhanced.tsv:%d: registry codes are written X.s.d", r._line) end
    local key = s * 1000 + d
    if seen[key] then fail("enhanced.tsv:%d: duplicate %s", r._line, r.code) end
    seen[key] = true
    r.subject, r.detail, r.key = s, d, key
    r.std = standard(r)
    need(r, "title"); need(r, "description"); need(r, "references")
    enhanced[#enhanced + 1] = r
  end
  sort(enhanced, function(a, b) return a.key < b.key end)
end

local classes = {}
for _, r in ipairs(readtsv("classes.tsv", { "code", "title", "description", "references" })) do
  local c = need(r, "code"):match("^([245])%.XXX%.YYY$")
  if not c then fail("classes.tsv:%d: bad class code", r._line) end
  r.cls = tonumber(c)
  need(r, "title"); need(r, "description")
  classes[#classes + 1] = r
end
sort(classes, function(a, b) return a.cls < b.cls end)

local subjects = {}
for _, r in ipairs(readtsv("subjects.tsv", { "code", "title", "description", "control",
    "references" })) do
  local s = need(r, "code"):match("^X%.(%d+)%.YYY$")
  if not s then fail("subjects.tsv:%d: bad subject code", r._line) end
  r.subject = tonumber(s)
  need(r, "title"); need(r, "description")
  subjects[#subjects + 1] = r
end
sort(subjects, function(a, b) return a.subject < b.subject end)
for i, r in ipairs(subjects) do
  if r.subject ~= i - 1 then fail("subjects.tsv: subjects must be 0..n without gaps") end
end
do -- every subject has its X.s.0 entry (the subject fallback)
  local have = {}
  for _, e in ipairs(enhanced) do have[e.key] = true end
  for _, s in ipairs(subjects) do
    if not have[s.subject * 1000] then fail("enhanced.tsv: no X.%d.0 row", s.subject) end
  end
end

local POSITION = { first = 1, second = 2, third = 3 }
local digits = {}
for _, r in ipairs(readtsv("digits.tsv", { "position", "digits", "title", "description",
    "references" })) do
  r.position = POSITION[need(r, "position")]
  if not r.position then fail("digits.tsv:%d: bad position", r._line) end
  local mask = 0
  for part in need(r, "digits"):gmatch("[^,]+") do
    local lo, hi = part:match("^(%d)%-(%d)$")
    if not lo then lo = part:match("^(%d)$"); hi = lo end
    if not lo then fail("digits.tsv:%d: bad digits %q", r._line, part) end
    for d = tonumber(lo), tonumber(hi) do
      if floor(mask / 2 ^ d) % 2 == 1 then fail("digits.tsv:%d: digit %d twice", r._line, d) end
      mask = mask + 2 ^ d
    end
  end
  r.mask = floor(mask)
  need(r, "title"); need(r, "description")
  digits[#digits + 1] = r
end
do -- every digit of every position is described exactly once
  local cover = { 0, 0, 0 }
  for _, r in ipairs(digits) do
    for d = 0, 9 do
      if floor(r.mask / 2 ^ d) % 2 == 1 then
        if floor(cover[r.position] / 2 ^ d) % 2 == 1 then
          fail("digits.tsv:%d: digit %d described twice", r._line, d)
        end
        cover[r.position] = cover[r.position] + 2 ^ d
      end
    end
  end
  for p = 1, 3 do
    if cover[p] ~= 1023 then fail("digits.tsv: position %d does not cover 0-9", p) end
  end
end
sort(digits, function(a, b)
  if a.position ~= b.position then return a.position < b.position end
  return a.mask < b.mask
end)

local function find(list, pred)
  for _, e in ipairs(list) do if pred(e) then return e end end
end

local pairs_ = {}
do
  local seen = {}
  for _, r in ipairs(readtsv("common.tsv", { "reply", "enhanced", "title", "description",
      "remarks" })) do
    r.num = tonumber(need(r, "reply"))
    r.cls, r.subject, r.detail = splitenh(r, need(r, "enhanced"))
    if r.cls == 0 then fail("common.tsv:%d: a pair needs a class", r._line) end
    local rep = find(replies, function(e) return e.num == r.num end)
    if not rep then fail("common.tsv:%d: reply %d not in reply.tsv", r._line, r.num) end
    local enh = find(enhanced, function(e)
      return e.subject == r.subject and e.detail == r.detail
    end)
    if not enh then fail("common.tsv:%d: %s not in enhanced.tsv", r._line, r.enhanced) end
    r.std = rep.std
    local refs = {}
    if rep.references then refs[#refs + 1] = rep.references end
    refs[#refs + 1] = enh.references
    r.references = concat(refs, "; ")
    r.code = r.reply .. " " .. r.enhanced
    r.key = ((r.num * 10 + r.cls) * 1000 + r.subject) * 1000 + r.detail
    if seen[r.key] then fail("common.tsv:%d: duplicate pair", r._line) end
    seen[r.key] = true
    need(r, "title"); need(r, "description")
    pairs_[#pairs_ + 1] = r
  end
  sort(pairs_, function(a, b) return a.key < b.key end)
end

-- Notes: code is a reply code ("421"), an enhanced code ("5.4.1",
-- "X.7.1", "4/5.7.27") or a detail range ("5.7.606-649").
-- key: reply r -> r; enhanced s.d -> 1000 + s * 1000 + d.
local notes = {}
local ALLCLASSES = 4 + 16 + 32
for _, r in ipairs(readtsv("notes.tsv", { "provider", "code", "meaning", "example",
    "source" })) do
  local code = need(r, "code")
  need(r, "provider"); need(r, "meaning")
  if code:match("^%d%d%d$") then
    r.num = tonumber(code)
    if r.num < 200 or r.num > 599 then fail("notes.tsv:%d: bad reply code", r._line) end
    r.lo, r.hi, r.mask = r.num, r.num, 0
  else
    local cl, s, lo, hi = code:match("^([X245/]+)%.(%d+)%.(%d+)%-?(%d*)$")
    if not cl then fail("notes.tsv:%d: bad code %q", r._line, code) end
    local mask = 0
    if cl == "X" then
      mask = ALLCLASSES
    else
      for c in cl:gmatch("[^/]+") do
        if not c:match("^[245]$") then fail("notes.tsv:%d: bad class in %q", r._line, code) end
        mask = mask + 2 ^ tonumber(c)
      end
    end
    r.mask = floor(mask)
    r.subject, r.dlo = tonumber(s), tonumber(lo)
    r.dhi = hi ~= "" and tonumber(hi) or r.dlo
    if r.dhi < r.dlo or r.dhi > 999 or r.subject > 999 then
      fail("notes.tsv:%d: bad range %q", r._line, code)
    end
    r.lo = 1000 + r.subject * 1000 + r.dlo
    r.hi = 1000 + r.subject * 1000 + r.dhi
  end
  notes[#notes + 1] = r
end
sort(notes, function(a, b)
  if a.lo ~= b.lo then return a.lo < b.lo end
  if a.hi ~= b.hi then return a.hi < b.hi end
  return a._line < b._line
end)

-- Cut the note ranges into disjoint segments; each segment lists the
-- notes that cover it. A lookup is then one binary search.
local segments, segidx = {}, {}
do
  local cuts, seen = {}, {}
  for _, n in ipairs(notes) do
    for _, c in ipairs({ n.lo, n.hi + 1 }) do
      if not seen[c] then seen[c] = true; cuts[#cuts + 1] = c end
    end
  end
  sort(cuts)
  for i = 1, #cuts - 1 do
    local lo, hi = cuts[i], cuts[i + 1] - 1
    local list = {}
    for j, n in ipairs(notes) do
      if n.lo <= lo and n.hi >= hi then list[#list + 1] = j - 1 end
    end
    if #list > 0 then
      segments[#segments + 1] = { lo = lo, hi = hi, first = #segidx, count = #list }
      for _, j in ipairs(list) do segidx[#segidx + 1] = j end
    end
  end
end

-- }======================================================

-- {======================================================
-- C output
-- =======================================================

-- C string literal: printable ASCII as is, everything else as octal.
-- Long strings are cut into adjacent literals of at most 60 source bytes.
local function escape(s)
  local o = {}
  for i = 1, #s do
    local b = s:byte(i)
    local ch = s:sub(i, i)
    if ch == '"' or ch == "\\" or ch == "?" then -- "?": no trigraphs
      o[i] = "\\" .. ch
    elseif b >= 32 and b < 127 then
      o[i] = ch
    else
      o[i] = format("\\%03o", b)
    end
  end
  return concat(o)
end

local function cstr(s)
  if s == nil then return "NULL" end
  local parts = {}
  for i = 1, #s, 60 do parts[#parts + 1] = '"' .. escape(s:sub(i, i + 59)) .. '"' end
  if #parts == 0 then parts[1] = '""' end
  return concat(parts, "\n      ")
end

local function entry(f)
  local o = { "  {" }
  local function int(name, v)
    if v and v ~= 0 then o[#o + 1] = format("   .%s = %s,", name, tostring(v)) end
  end
  local function str(name, v)
    if v then o[#o + 1] = format("   .%s = %s,", name, cstr(v)) end
  end
  o[#o + 1] = format("   .kind = %s,", f.kind)
  if f.std then o[#o + 1] = format("   .standard = %s,", STANDARD[f.std]) end
  int("reply", f.reply)
  int("cls", f.cls)
  o[#o + 1] = format("   .subject = %d, .detail = %d, .detail_hi = %d,",
    f.subject or -1, f.detail or -1, f.detail_hi or f.detail or -1)
  int("position", f.position)
  int("mask", f.mask)
  str("code", f.code); str("title", f.title); str("description", f.description)
  str("references", f.references); str("remarks", f.remarks)
  str("commands", f.commands); str("emitted_by", f.emitted_by)
  str("basic_codes", f.basic_codes); str("class_note", f.class_note)
  str("control", f.control); str("provider", f.provider)
  str("example", f.example); str("source", f.source)
  o[#o + 1] = "  },"
  return concat(o, "\n")
end

local function table_(out, name, list, conv)
  out[#out + 1] = format("const smtpcode_entry smtpcode_reg_%s[] = {", name)
  for _, r in ipairs(list) do out[#out + 1] = entry(conv(r)) end
  out[#out + 1] = "};"
  out[#out + 1] = format("const int smtpcode_reg_n%s = %d;\n", name, #list)
end

local function replyconv(kind)
  return function(r)
    return { kind = kind, std = r.std, reply = r.num, code = r.code, title = r.title,
      description = r.description, references = r.references, remarks = r.remarks,
      commands = r.commands, emitted_by = r.emitted_by }
  end
end

local c = {
  "/*",
  "** registry_data.c: the code registry tables. GENERATED by",
  "** data/gen_registry.lua from the TSV files in data/: do not edit, run",
  "** `make gen`.",
  "*/",
  '#include "registry.h"',
  "",
}
table_(c, "reply", replies, replyconv("SMTPCODE_REG_REPLY"))
table_(c, "reply_alt", alts, replyconv("SMTPCODE_REG_REPLY_ALT"))
table_(c, "digit", digits, function(r)
  return { kind = "SMTPCODE_REG_DIGIT", position = r.position, mask = r.mask,
    code = r.digits, title = r.title, description = r.description,
    references = r.references }
end)
table_(c, "enhanced", enhanced, function(r)
  return { kind = "SMTPCODE_REG_ENHANCED", std = r.std, subject = r.subject, detail = r.detail,
    code = r.code, title = r.title, description = r.description, references = r.references,
    remarks = r.remarks, basic_codes = r.basic_codes, class_note = r.class_note }
end)
table_(c, "class", classes, function(r)
  return { kind = "SMTPCODE_REG_CLASS", std = "standard", cls = r.cls, code = r.code,
    title = r.title, description = r.description, references = r.references }
end)
table_(c, "subject", subjects, function(r)
  return { kind = "SMTPCODE_REG_SUBJECT", std = "standard", subject = r.subject,
    code = r.code, title = r.title, description = r.description,
    references = r.references, control = r.control }
end)
table_(c, "pair", pairs_, function(r)
  return { kind = "SMTPCODE_REG_PAIR", std = r.std, reply = r.num, cls = r.cls,
    subject = r.subject, detail = r.detail, code = r.code, title = r.title,
    description = r.description, references = r.references, remarks = r.remarks }
end)
table_(c, "note", notes, function(r)
  return { kind = "SMTPCODE_REG_NOTE", reply = r.num, subject = r.subject, detail = r.dlo,
    detail_hi = r.dhi, mask = r.mask, code = r.code, title = r.provider,
    description = r.meaning, provider = r.provider, example = r.example, source = r.source }
end)
c[#c + 1] = "const smtpcode_reg_segment smtpcode_reg_noteseg[] = {"
for _, s in ipairs(segments) do
  c[#c + 1] = format("  {%d, %d, %d, %d},", s.lo, s.hi, s.first, s.count)
end
c[#c + 1] = "};"
c[#c + 1] = format("const int smtpcode_reg_nnoteseg = %d;\n", #segments)
do
  c[#c + 1] = "const short smtpcode_reg_noteidx[] = {"
  local line = {}
  for i, j in ipairs(segidx) do
    line[#line + 1] = tostring(j)
    if #line == 16 or i == #segidx then
      c[#c + 1] = "  " .. concat(line, ", ") .. ","
      line = {}
    end
  end
  c[#c + 1] = "};"
end

-- }======================================================

-- {======================================================
-- Markdown output
-- =======================================================

local function md(s)
  if not s then return "" end
  return (s:gsub("|", "\\|"))
end

local d = {
  "# SMTP codes",
  "",
  "<!-- GENERATED by data/gen_registry.lua from data/*.tsv: do not edit, run `make gen`. -->",
  "",
  "Every code `smtpcode.describe` knows, from the same data as the C tables.",
  "Sources are named in `data/README.md`. `standard` says where a code comes from:",
  "`standard` (RFC 5321 or RFC 3463 and the registry's base), `extension` (an RFC",
  "extension), `experimental`, `draft` (an Internet-Draft), `registry` (named only",
  "in the IANA registry), `non-standard` (used by servers or code lists, in no RFC).",
  "",
  "An enhanced code missing from the registry is described by its subject",
  "(`5.1.99` as `X.1.0`) or, when the subject is unknown too, by its class",
  "(RFC 3463 §2); `describe` then sets `fallback = true`.",
  "",
  "```lua",
  "local t = smtpcode.describe(\"550 5.1.1 User unknown\")  -- or 550, \"550\", \"5.1.1\", \"X.1.1\"",
  "-- t.kind         \"pair\" (a common pair below), \"enhanced\" or \"reply\": what the top level describes",
  "-- t.code, t.title, t.description, t.references, t.standard, t.severity, t.remarks",
  "-- t.class, t.subject   {code, title, description, references[, control]}",
  "-- t.notes        list of {provider, code, meaning, example, source}",
  "-- t.fallback, t.fallback_code   set when only the subject or class is known",
  "-- t.reply, t.enhanced, t.text, t.mismatch   for a whole reply",
  "-- reply codes: t.commands, t.emitted_by, t.other_uses (extension meanings)",
  "-- enhanced codes: t.basic_codes, t.class_note",
  "for code, t in smtpcode.codes(\"enhanced\") do print(code, t.title) end  -- or \"reply\", \"pair\"",
  "```",
  "",
  "## Common replies",
  "",
  "The pairs most often met in bounces and logs, with what they mean in practice",
  "and where that differs from the registry.",
  "",
  "| reply | meaning | description | differs from the registry |",
  "| --- | --- | --- | --- |",
}
for _, r in ipairs(pairs_) do
  d[#d + 1] = format("| `%s` | %s | %s | %s |", r.code, md(r.title), md(r.description),
    md(r.remarks))
end
local function section(title, intro, head, list, row)
  d[#d + 1] = ""
  d[#d + 1] = "## " .. title
  d[#d + 1] = ""
  if intro then d[#d + 1] = intro; d[#d + 1] = "" end
  d[#d + 1] = head
  d[#d + 1] = head:gsub("[^|]+", " --- ")
  for _, r in ipairs(list) do d[#d + 1] = row(r) end
end
section("Reply codes",
  "The first digit gives the outcome (2 success, 3 more input needed, 4 temporary " ..
  "failure, 5 permanent failure), the second the area (RFC 5321 §4.2.1).",
  "| code | title | description | standard | references | emitted by | remarks |",
  replies, function(r)
    return format("| `%d` | %s | %s | %s | %s | %s | %s |", r.num, md(r.title),
      md(r.description), r.std, md(r.references), md(r.emitted_by), md(r.remarks))
  end)
section("Reply codes in extension contexts",
  "Some codes have a further meaning when they answer an extension's command.",
  "| code | commands | title | description | references |",
  alts, function(r)
    return format("| `%d` | %s | %s | %s | %s |", r.num, md(r.commands), md(r.title),
      md(r.description), md(r.references))
  end)
section("Reply code digits", nil,
  "| position | digits | name | description | references |",
  digits, function(r)
    return format("| %s | %s | %s | %s | %s |", r.position == 1 and "first" or
      r.position == 2 and "second" or "third", r.digits, md(r.title), md(r.description),
      md(r.references))
  end)
section("Enhanced status code classes", nil,
  "| class | title | description | references |",
  classes, function(r)
    return format("| `%s` | %s | %s | %s |", r.code, md(r.title), md(r.description),
      md(r.references))
  end)
section("Enhanced status code subjects", nil,
  "| subject | title | description | usually fixed by | references |",
  subjects, function(r)
    return format("| `%s` | %s | %s | %s | %s |", r.code, md(r.title), md(r.description),
      md(r.control), md(r.references))
  end)
section("Enhanced status codes",
  "The IANA \"SMTP Enhanced Status Codes\" registry (" .. #enhanced .. " entries). " ..
  "Titles are the registry's sample texts.",
  "| code | title | description | standard | references | basic codes | classes | remarks |",
  enhanced, function(r)
    return format("| `%s` | %s | %s | %s | %s | %s | %s | %s |", r.code, md(r.title),
      md(r.description), r.std, md(r.references), md(r.basic_codes), md(r.class_note),
      md(r.remarks))
  end)
section("What large receivers mean by a code",
  "Where a provider gives a code its own meaning, `describe` lists it under `notes`.",
  "| provider | code | meaning | example |",
  notes, function(r)
    return format("| %s | `%s` | %s | %s |", md(r.provider), r.code, md(r.meaning),
      r.example and ("`" .. md(r.example):gsub("`", "'") .. "`") or "")
  end)

-- }======================================================

local function write(rel, text)
  local path = root .. "/" .. rel
  local f = io.open(path, "wb")
  if not f then fail("cannot write %s", path) end
  f:write(text)
  f:close()
  print(rel)
end

write("src/registry_data.c", concat(c, "\n") .. "\n")
write("docs/codes.md", concat(d, "\n") .. "\n")
