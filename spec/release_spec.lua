-- The release a user pins: the versioned rockspec, the OPM dist.ini and the
-- CHANGELOG's released section all name the version of the C core
-- (SMTPCODE_VERSION, smtpcode._VERSION), and the versioned rockspec builds
-- what scm-1 builds.

local helper = dofile("spec/helper.lua")
local smtpcode = require "smtpcode"
local V = smtpcode._VERSION

local function read(rel) return helper.read(helper.root .. "/" .. rel) end

local function rockspec(rel)
  local text = assert(read(rel), rel .. " is missing")
  local env = {}
  local chunk
  if setfenv then
    chunk = assert(loadstring(text, rel))
    setfenv(chunk, env)
  else
    chunk = assert(load(text, rel, "t", env))
  end
  chunk()
  return env
end

describe("the release", function()
  it("has a rockspec for smtpcode._VERSION, pinned to its tag", function()
    assert.matches("^%d+%.%d+%.%d+$", V)
    local r = rockspec("rockspec/smtpcode-" .. V .. "-1.rockspec")
    assert.equal("smtpcode", r.package)
    assert.equal(V .. "-1", r.version)
    assert.equal("v" .. V, r.source.tag)
    assert.is_nil(r.source.branch)
  end)

  it("builds the same modules and files as scm-1", function()
    local scm = rockspec("rockspec/smtpcode-scm-1.rockspec")
    local rel = rockspec("rockspec/smtpcode-" .. V .. "-1.rockspec")
    assert.same(scm.build, rel.build)
    assert.same(scm.dependencies, rel.dependencies)
    assert.same(scm.description, rel.description)
    assert.equal(scm.source.url, rel.source.url)
  end)

  it("has an OPM dist.ini with the version and every key opm build requires", function()
    local text = assert(read("dist.ini"), "dist.ini is missing")
    local kv = {}
    for line in text:gmatch("[^\n]+") do
      local k, v = line:match("^([%w_]+)%s*=%s*(.-)%s*$")
      if k then kv[k] = v end
    end
    assert.equal(V, kv.version)
    for _, k in ipairs { "name", "abstract", "author", "is_original", "license", "repo_link" } do
      assert.is_truthy(kv[k] and kv[k] ~= "", k)
    end
    assert.equal("smtpcode", kv.name)
    assert.equal("mit", kv.license)
    assert.is_truthy(read(kv.main_module), kv.main_module)
    assert.is_truthy(read(kv.lib_dir .. "/smtpcode.lua"), kv.lib_dir)
    -- opm takes the version from main_module when it finds one there: it
    -- must not find another
    for line in read(kv.main_module):gmatch("[^\n]+") do
      local v = line:match("_?VERSION%s*=%s*(.+)") or line:match("version%s*=%s*(.+)")
      if v and v:find("%d") then assert.equal(V, (v:gsub("['\",%s]", ""))) end
    end
  end)

  it("has the CHANGELOG's released section under an empty Unreleased one", function()
    local text = assert(read("CHANGELOG.md"))
    local heads = {}
    for h in text:gmatch("\n## ([^\n]+)") do heads[#heads + 1] = h end
    assert.equal("[Unreleased]", heads[1])
    assert.matches("^%[" .. V:gsub("%.", "%%.") .. "%] %- %d%d%d%d%-%d%d%-%d%d$", heads[2])
  end)
end)
