-- bench/mkinputs.lua OUT: the input of bench/verdicts.c. Every line of
-- examples/*.txt, spec/fixtures/, ../shared/corpus (when present),
-- bench/intl-maillog.txt and data/rules.tsv, then 300,000 texts made from
-- them (seeded, so the same every run): lines with random bytes (NUL and
-- bytes >= 0x80 too), UTF-8 words of twelve languages, rule phrases put in
-- or cut, spans cut or doubled, case changed; and runs of rule phrases
-- with separators. Run from the top of the tree.
local out = assert(io.open(assert(arg[1], "usage: mkinputs.lua OUT"), "wb"))
local base, phr = {}, {}
local function addfile(p)
  local f = io.open(p, "rb")
  if not f then return end
  for l in f:lines() do
    if #l > 0 then
      base[#base + 1] = l
      out:write(l, "\n")
    end
  end
  f:close()
end
local p = io.popen("{ ls examples/*.txt; find spec/fixtures -type f | sort; " ..
  "ls ../shared/corpus/*.tsv; find ../shared/corpus/emails -type f | sort; " ..
  "echo bench/intl-maillog.txt; echo data/rules.tsv; } 2>/dev/null")
for f in p:lines() do addfile(f) end
p:close()
for l in io.lines("data/rules.tsv") do
  local first = l:match("^([^#\t][^\t]*)")
  if first then for w in first:gmatch("[^|~]+") do phr[#phr + 1] = w end end
end
io.stderr:write(#base, " lines, ", #phr, " phrases\n")
math.randomseed(1212)
local R = math.random
local utf = { "Пользователь не найден", "收件人不存在", "メールボックス", "Empfänger",
  "boîte", "não", "İleti", "użytkownika", "받는", "é", "ß", "\226\128\153", "\195\169",
  "\208", "\227\129", "\239\191\189", "\240\159\152\128" }
local function rbyte()
  local b = R(0, 255)
  return string.char(b == 10 and 0 or b)
end
local function mutate(s)
  for _ = 1, R(1, 4) do
    local k, i = R(1, 9), R(0, #s)
    if k == 1 then s = s:sub(1, i) .. rbyte() .. s:sub(i + 1)
    elseif k == 2 then s = s:sub(1, i) .. utf[R(#utf)] .. s:sub(i + 1)
    elseif k == 3 then s = s:sub(1, i) .. s:sub(i + R(1, 20))
    elseif k == 4 then
      local j = R(i, #s)
      s = s:sub(1, j) .. s:sub(i + 1, j) .. s:sub(j + 1)
    elseif k == 5 then
      local t = base[R(#base)]
      s = s:sub(1, i) .. t:sub(R(1, #t + 1))
    elseif k == 6 then s = s:sub(1, i) .. "\0" .. s:sub(i + 2)
    elseif k == 7 then s = R(2) == 1 and s:upper() or s:lower()
    elseif k == 8 then s = s:sub(1, i) .. " " .. phr[R(#phr)] .. " " .. s:sub(i + 1)
    else s = s:sub(1, i) .. phr[R(#phr)]:sub(R(1, 8)) .. s:sub(i + 1) end
  end
  return (s:gsub("\n", " "))
end
local seps = { " ", ", ", ": ", " - ", "\0", "  ", ". ", " 550 ", " 5.1.1 ", " 4.7.1 ", "\195\169 ", "\255" }
local heads = { "550 ", "450 4.2.0 ", "5.7.1 ", "", "421-", "554 5.7.1 " }
for n = 1, 300000 do
  local s
  if n % 3 ~= 0 then
    s = mutate(base[R(#base)])
  else
    local t = { heads[R(#heads)] }
    for _ = 1, R(1, 8) do
      t[#t + 1] = R(4) == 1 and utf[R(#utf)] or phr[R(#phr)]
      t[#t + 1] = seps[R(#seps)]
    end
    s = mutate(table.concat(t))
  end
  out:write(s, "\n")
end
out:close()
