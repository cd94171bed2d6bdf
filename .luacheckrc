-- luacheck settings (`make lint` runs luacheck on lua/ spec/ bench/ examples/ bin/).
std = "max"
max_line_length = 120
-- 581: "not (x >= y)" is used on purpose: it is true for NaN, "x < y" is not.
ignore = { "581" }
exclude_files = { "build/**", ".luarocks/**", ".install/**", "lua_modules/**" }

-- specs get busted's globals (describe, it, assert, spy, ...)
files["spec"] = { std = "+busted" }
files["**/*_spec.lua"] = { std = "+busted" }
files[".busted"] = { std = "+busted" }

-- rule files loaded by Rspamd get its configuration object
files["examples/rspamd-*.lua"] = { read_globals = { "rspamd_config" } }

-- specs that hold whole real log lines and replies as one string each: a
-- line is as long as the log wrote it
for _, f in ipairs { "spec/benign_spec.lua", "spec/delayed_spec.lua",
                     "spec/find_contexts_spec.lua", "spec/bounce_unseen_spec.lua",
                     "spec/specificity_spec.lua" } do
  files[f] = { std = "+busted", max_line_length = false }
end
