-- make-seeds.lua: regenerate the libFuzzer seed corpus spec/c/corpus/<target>/.
--
--   lua5.4 spec/c/make-seeds.lua [shared-dir]      (run from the repository root)
--
-- Sources (shared-dir defaults to $SMTPCODE_SHARED, then ../shared, then
-- /work/shared): the edge cases W01-W50 and F01-F35 of docs/peers.md §2a-2c,
-- reply lines built from reference/provider-replies.tsv and
-- reference/enhanced-status-codes.tsv, and diagnostics of
-- corpus/sisimai-bounces.tsv (Sisimai's set-of-emails, BSD-2-Clause) and
-- corpus/sisimai-text-probes.tsv. Every file is small; the whole corpus stays
-- a few hundred files. Input formats are those of spec/c/fuzz.h:
--   line, reply   4 option bytes (flags, max_line, max_lines, max_reply)
--                 then the text
--   status        the bare code
--   find, text    the text (every find seed is a text seed too)
--   classify      1 mode byte (bit 0: pass smtpcode_find's result) + text
--   registry      1 mode byte + four 16-bit little-endian ints + cap byte

local shared = arg[1] or os.getenv("SMTPCODE_SHARED")
if not shared then
  for _, d in ipairs { "../shared", "/work/shared" } do
    local f = io.open(d .. "/docs/peers.md")
    if f then f:close(); shared = d; break end
  end
end
assert(shared, "shared data not found: give its directory as argument")

local OUT = "spec/c/corpus"
local char, format, floor = string.char, string.format, math.floor

local function readlines(path)
  local t = {}
  for l in io.lines(shared .. "/" .. path) do t[#t + 1] = l end
  return t
end

local function tsv(path)
  local rows, head = {}, nil
  for _, l in ipairs(readlines(path)) do
    local cells = {}
    for c in (l .. "\t"):gmatch("([^\t]*)\t") do cells[#cells + 1] = c end
    if not head then
      head = cells
    else
      local r = {}
      for i, h in ipairs(head) do r[h] = cells[i] or "" end
      rows[#rows + 1] = r
    end
  end
  return rows
end

-- Decode a peers.md input cell: \r \n \t \0 \| and ⟨x×N⟩.
local function unescape(s)
  s = s:gsub("\xe2\x9f\xa8(.)\xc3\x97(%d+)\xe2\x9f\xa9", function(c, n)
    return c:rep(tonumber(n))
  end)
  s = s:gsub("\\([rnt0|])", { r = "\r", n = "\n", t = "\t", ["0"] = "\0", ["|"] = "|" })
  return s
end

local peers = {} -- { id = "W01", input = ... } in file order
for _, l in ipairs(readlines("docs/peers.md")) do
  local id, cell = l:match("^| ([WF]%d%d) | `(.-)` |")
  if id then peers[#peers + 1] = { id = id, input = unescape(cell) } end
end

local files = {}
local function seed(target, name, data)
  files[#files + 1] = { target = target, name = name, data = data }
  -- the text target reads find's inputs
  if target == "find" then
    files[#files + 1] = { target = "text", name = "find-" .. name, data = data }
  end
end

-- text: multi-line replies whose lines a log joined with spaces
seed("text", "joined-enh", "host x said: 550-5.2.1 For more 550-5.2.1 information, go to " ..
  "550 5.2.1 https://x (in reply to RCPT TO command)")
seed("text", "joined-noenh", "550-Foo 550-bar 550 baz")
seed("text", "multiline", "550-5.1.1 a\r\n550-5.1.1 b\r\n550 5.1.1 c\r\n")
seed("text", "inner", "450 4.1.1 <a@b>: said: 550-5.1.1 x 550 5.1.1 y")
seed("text", "numbers", "Diagnostic-Code: smtp; 552-5.2.2 Quota 552 MB exceeded 552 5.2.2 bye")

local DEFAULT, LENIENT = "\0\0\0\0", "\1\0\0\0"
local SMALL = "\0" .. char(40) .. char(3) .. char(80) -- tight limits

-- Every n-th row, so the corpus stays small but spread over the file.
local function every(rows, n)
  local t = {}
  for i = 1, #rows, n do t[#t + 1] = rows[i] end
  return t
end

-- line, reply: the wire cases, strict and lenient, some with tight limits
for _, p in ipairs(peers) do
  local id = p.id:lower()
  local k = tonumber(p.id:sub(2))
  if p.id:sub(1, 1) == "W" then
    seed("line", id, DEFAULT .. p.input)
    seed("reply", id, DEFAULT .. p.input)
    if k % 6 == 0 then seed("reply", id .. "-lenient", LENIENT .. p.input) end
    if k % 6 == 3 and #p.input < 200 then seed("reply", id .. "-small", SMALL .. p.input) end
    if k % 3 == 0 then seed("find", id, p.input) end
  else
    if p.input:find("\r\n", 1, true) and p.input:find("^%d%d%d[- ]") then
      seed("reply", id, DEFAULT .. p.input .. "\r\n")
    end
    seed("find", id, p.input)
    seed("classify", id, char(k % 2) .. p.input)
  end
end
for _, id in ipairs { "W19", "W38", "W49", "W14", "W13" } do
  for _, p in ipairs(peers) do
    if p.id == id then seed("line", id:lower() .. "-lenient", LENIENT .. p.input) end
  end
end

-- provider replies: single lines, and the same split into a 3-line reply
local prov = tsv("reference/provider-replies.tsv")
for i, r in ipairs(every(prov, 9)) do
  local enh = r.enhanced_code ~= "" and (r.enhanced_code .. " ") or ""
  local text = r.text:gsub("\xe2\x80\xa6$", "")
  local line = r.reply_code .. " " .. enh .. text .. "\r\n"
  seed("line", format("prov-%02d", i), DEFAULT .. line)
  if i % 2 == 0 then
    local a, b = floor(#text / 3), floor(2 * #text / 3)
    local c = r.reply_code
    local multi = c .. "-" .. enh .. text:sub(1, a) .. "\r\n" ..
      c .. "-" .. enh .. text:sub(a + 1, b) .. "\n" ..
      c .. " " .. enh .. text:sub(b + 1) .. "\r\n"
    seed("reply", format("prov-%02d", i), (i % 4 == 0 and LENIENT or DEFAULT) .. multi)
  end
  if i % 2 == 1 then
    seed("find", format("prov-%02d", i), "said: " .. line)
    seed("classify", format("prov-%02d", i), char(floor(i / 2) % 2) .. line)
  end
end

-- enhanced codes: registry codes in each class, and broken forms
local enh = tsv("reference/enhanced-status-codes.tsv")
local classes = { "5", "4", "2" }
for i, r in ipairs(every(enh, 3)) do
  local code = r.code:gsub("^X", classes[i % 3 + 1])
  seed("status", format("reg-%02d", i), code)
end
for i, s in ipairs { "5.01.001", "5.1.1000", "5.1.1.1", "#5.1.0", "5.1.", "5..1",
  "6.1.1", "5.999.999", "4.16.55.1", "5.1.1 ", "05.1.1", "5.0.0" } do
  seed("status", format("bad-%02d", i), s)
end

-- real diagnostics (Sisimai's set-of-emails) and text probes
local bounces = tsv("corpus/sisimai-bounces.tsv")
local n = 0
for _, r in ipairs(bounces) do
  if r.diagnostic ~= "" and #r.diagnostic < 600 then
    n = n + 1
    if n % 25 == 1 then
      local k = (n - 1) / 25 + 1
      seed("find", format("diag-%02d", k), r.diagnostic)
      if k % 2 == 0 then
        seed("classify", format("diag-%02d", k), char(floor(k / 2) % 2) .. r.diagnostic)
      end
    end
  end
end
for i, r in ipairs(every(tsv("corpus/sisimai-text-probes.tsv"), 4)) do
  seed("classify", format("probe-%02d", i), "\0" .. r.input)
end

-- registry lookups: (a, b, c, d) as used by the lookups, then cap
local function i16(v)
  if v < 0 then v = v + 65536 end
  return char(v % 256, floor(v / 256))
end
for i, q in ipairs {
  { 550, 5, 1, 1 }, { 250, 2, 0, 0 }, { 421, 4, 7, 0 }, { 451, 4, 7, 1 },
  { 552, 5, 2, 2 }, { 354, 0, 0, 0 }, { 220, 2, 7, 26 }, { 554, 5, 7, 1 },
  { 1, 5, 7, 999 }, { 8, 0, 1, 10 }, { 599, 4, 9, 0 }, { 0, 0, 0, 0 },
  { -1, -1, -1, -1 }, { 32767, 999, 1000, -32768 }, { 2, 1, 3, 5 },
} do
  seed("registry", format("q-%02d", i),
    char(i % 4) .. i16(q[1]) .. i16(q[2]) .. i16(q[3]) .. i16(q[4]) .. char(i % 8))
end

-- write
local total, count = 0, {}
for _, f in ipairs(files) do
  os.execute("mkdir -p " .. OUT .. "/" .. f.target)
  local h = assert(io.open(OUT .. "/" .. f.target .. "/" .. f.name, "wb"))
  h:write(f.data)
  h:close()
  total = total + #f.data
  count[f.target] = (count[f.target] or 0) + 1
end
local names = {}
for t in pairs(count) do names[#names + 1] = t end
table.sort(names)
for _, t in ipairs(names) do io.write(format("%s: %d files\n", t, count[t])) end
io.write(format("total: %d files, %d bytes\n", #files, total))
