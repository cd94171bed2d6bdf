-- The documentation as a user finds it: a short README for users first, an
-- index of docs/ that lists every page, links that lead somewhere, and a
-- data/README.md that names every file of data/. (The examples on the pages
-- run in spec/docs_examples_spec.lua; LDoc builds them in .ci/docs.sh.)

local helper = dofile("spec/helper.lua")
local root = helper.root

local function read(path) return helper.read(root .. "/" .. path) end

local function ls(dir)
  local out = {}
  local p = assert(io.popen('ls "' .. root .. "/" .. dir .. '"'))
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  return out
end

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- Pages other branches add (the mail-log module, bounce messages, the
-- Redis store); until they are merged a link to them is reported, not failed.
local COMING = {
  ["docs/log.md"] = "smtpcode.log",
  ["docs/bounce.md"] = "smtpcode.bounce",
  ["docs/stores.md"] = "the Redis store",
}

local PAGES = { "README.md" }
for _, name in ipairs(ls("docs")) do
  if name:match("%.md$") then PAGES[#PAGES + 1] = "docs/" .. name end
end

-- GitHub's anchor of a heading: lower case, punctuation dropped, spaces to "-".
local function slug(heading)
  local s = heading:lower():gsub("[^%w%s_%-\128-\255]", ""):gsub("%s", "-")
  return s
end

local function anchors(page)
  local set, seen = {}, {}
  local fenced = false
  for _, l in ipairs(lines(read(page) or "")) do
    if l:match("^%s*```") then fenced = not fenced end
    local h = not fenced and l:match("^#+%s+(.-)%s*$")
    if h then
      local s = slug(h)
      if seen[s] then
        seen[s] = seen[s] + 1
        s = s .. "-" .. seen[s]
      else
        seen[s] = 0
      end
      set[s] = true
    end
    for name in l:gmatch('<a name="([^"]+)"') do set[name] = true end
  end
  return set
end

local function dir_of(page)
  return page:match("^(.*)/[^/]*$") or ""
end

local function normalize(path)
  local parts = {}
  for p in path:gmatch("[^/]+") do
    if p == ".." then parts[#parts] = nil
    elseif p ~= "." then parts[#parts + 1] = p end
  end
  return table.concat(parts, "/")
end

-- Relative links of a page outside code: { target, anchor, line }.
local function links(page)
  local out, fenced = {}, false
  for n, l in ipairs(lines(read(page))) do
    if l:match("^%s*```") then fenced = not fenced end
    if not fenced then
      local text = l:gsub("`[^`]*`", "")
      for target in text:gmatch("%]%(([^)%s]+)%)") do
        if not target:match("^%a[%w+.-]*:") then
          local file, anchor = target:match("^([^#]*)#?(.*)$")
          local d = dir_of(page)
          file = file == "" and page or normalize((d ~= "" and d .. "/" or "") .. file)
          out[#out + 1] = { file = file, anchor = anchor, line = n }
        end
      end
    end
  end
  return out
end

describe("README.md", function()
  local text = assert(read("README.md"))
  local ls_ = lines(text)

  it("is short: at most about 200 lines", function()
    assert.is_true(#ls_ <= 210, "README.md has " .. #ls_ .. " lines")
  end)

  it("keeps `make demo` and `make test`, after the user's sections", function()
    local install = text:find("\n## Install", 1, true)
    local use = text:find("\n## Use", 1, true)
    local demo = text:find("make demo", 1, true)
    local test = text:find("make test", 1, true)
    assert.truthy(install and use and demo and test)
    assert.is_true(install < use and use < demo and use < test)
  end)

  it("shows the five calls: parse, classify, explain, retry, log", function()
    for _, call in ipairs { "smtpcode.parse(", "smtpcode.classify(", "smtpcode.explain(",
        'require "smtpcode.retry"', 'require "smtpcode.log"', "log.read(" } do
      assert.truthy(text:find(call, 1, true), call)
    end
  end)

  it("has a contents list whose entries lead to its sections", function()
    local contents = text:match("\n## Contents\n(.-)\n## ")
    assert.truthy(contents)
    local set = anchors("README.md")
    local n = 0
    for a in contents:gmatch("%]%(#([^)]+)%)") do
      n = n + 1
      assert.truthy(set[a], "README.md contents: #" .. a)
    end
    assert.is_true(n >= 8)
  end)
end)

describe("docs/README.md", function()
  local index = assert(read("docs/README.md"))

  it("lists every page of docs/", function()
    for _, page in ipairs(PAGES) do
      if page ~= "README.md" and page ~= "docs/README.md" then
        local name = page:match("[^/]+$")
        assert.truthy(index:find("](" .. name .. ")", 1, true), "docs/README.md lists " .. name)
      end
    end
  end)

  it("has the places of the pages other branches add", function()
    for page in pairs(COMING) do
      local name = page:match("[^/]+$")
      assert.truthy(index:find("](" .. name .. ")", 1, true), "docs/README.md lists " .. name)
    end
  end)
end)

describe("links between the pages", function()
  for _, page in ipairs(PAGES) do
    it(page .. ": every relative link leads to a file and a heading there", function()
      for _, l in ipairs(links(page)) do
        local where = page .. ":" .. l.line .. ": " .. l.file .. (l.anchor ~= "" and "#" .. l.anchor or "")
        local f = io.open(root .. "/" .. l.file, "rb")
        local isdir = not f and os.execute('test -d "' .. root .. "/" .. l.file .. '"')
        if f then f:close() end
        if not f and not (isdir == true or isdir == 0) then
          if not COMING[l.file] then error(where .. ": no such file") end
        elseif l.anchor ~= "" and l.file:match("%.md$") then
          assert.truthy(anchors(l.file)[l.anchor], where .. ": no such heading")
        end
      end
    end)
  end
  local missing = {}
  for _, file in ipairs { "docs/log.md", "docs/bounce.md", "docs/stores.md" } do
    if not helper.readable(root .. "/" .. file) then missing[#missing + 1] = file end
  end
  if #missing > 0 then
    pending("links to " .. table.concat(missing, ", ") .. " are not checked: other branches "
      .. "add those pages (smtpcode.log, bounce messages, the Redis store)")
  end
end)

describe("data/README.md", function()
  it("names every TSV file and generator of data/", function()
    local text = assert(read("data/README.md"))
    local n = 0
    for _, name in ipairs(ls("data")) do
      if name:match("%.tsv$") or name:match("%.lua$") then
        n = n + 1
        assert.truthy(text:find("`" .. name .. "`", 1, true), "data/README.md names `" .. name .. "`")
      end
    end
    assert.is_true(n >= 10)
  end)

  -- the "rows" column of both tables: the data rows of the file as the one
  -- TSV reader reads them (a count written by hand goes stale as rules are
  -- added)
  it("gives each TSV file's row count as the reader reads it", function()
    local tsv = dofile(root .. "/data/tsv.lua")
    local text = assert(read("data/README.md"))
    local seen = {}
    for _, l in ipairs(lines(text)) do
      local name, count = l:match("^| `([%w_%-]+%.tsv)` | ([%d,]+) |")
      if name then
        local rows = assert(tsv.read(root .. "/data/" .. name))
        assert.are.equal(#rows, tonumber((count:gsub(",", ""))),
          "data/README.md: rows of " .. name)
        seen[name] = true
      end
    end
    for _, name in ipairs(ls("data")) do
      if name:match("%.tsv$") then
        assert.is_true(seen[name], "data/README.md gives the rows of " .. name)
      end
    end
  end)
end)
