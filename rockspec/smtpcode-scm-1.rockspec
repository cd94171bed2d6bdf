rockspec_format = "3.0"
package = "smtpcode"
version = "scm-1"

source = {
   url = "git+https://github.com/smtpcode/smtpcode.git",
   branch = "main",
}

description = {
   summary = "Parse and classify SMTP replies (RFC 5321 codes, RFC 3463 enhanced status codes)",
   detailed = [[
smtpcode reads SMTP server replies, single or multi-line, and reports the
reply code, its severity, the enhanced status code and the text. It finds
codes in log lines and bounce texts, describes every registered code,
classifies failures (user unknown, greylisted, blocklisted, rate limited...),
says whether to bounce, retry or suppress the address, and schedules retries
(smtpcode.retry). The core is allocation-free C; on LuaJIT the hot functions
are called through the FFI, elsewhere through the Lua C API. Works with Lua
5.1 to 5.4 and LuaJIT. Installs the `smtpcode` command.
]],
   homepage = "https://github.com/smtpcode/smtpcode",
   license = "MIT",
   labels = { "smtp", "email", "parser", "bounce" },
}

dependencies = {
   "lua >= 5.1",
}

build = {
   type = "builtin",
   modules = {
      -- Every C file under src/ and src/lua/ must be listed here: builtin does not glob.
      -- (`make test` checks that this list matches src/*.c.)
      ["smtpcode.core"] = {
         sources = {
            "src/reply.c",
            "src/lua/lsmtpcode.c",
            "src/lua/lparse.c",
            "src/lua/lclassify.c",
            "src/lua/lfind.c",
            "src/lua/lregistry.c",
            "src/registry.c",
            "src/registry_data.c",
            "src/find.c",
            "src/find_context.c",
            "src/classify.c",
            "src/verdict.c",
            "src/rules_data.c",
            "src/reasons_data.c",
            "src/stream.c",
            "src/lua/lstream.c",
            "src/mime.c",
            "src/bounce.c",
            "src/bounce_walk.c",
            "src/bounce_scan.c",
            "src/bounce_report.c",
            "src/bounce_data.c",
            "src/lua/lbounce.c",
            "src/text.c",
            "src/status.c",
            "src/mojibake.c",
         },
         incdirs = { "src" },
      },
      smtpcode = "lua/smtpcode.lua",
      ["smtpcode.retry"] = "lua/smtpcode/retry.lua",
      ["smtpcode.retry_redis"] = "lua/smtpcode/retry_redis.lua",
      ["smtpcode.retry_base"] = "lua/smtpcode/retry_base.lua",
      ["smtpcode.retry_policy"] = "lua/smtpcode/retry_policy.lua",
      ["smtpcode.retry_store"] = "lua/smtpcode/retry_store.lua",
      ["smtpcode.retry_tracker"] = "lua/smtpcode/retry_tracker.lua",
      ["smtpcode.explain"] = "lua/smtpcode/explain.lua",
      ["smtpcode.stream"] = "lua/smtpcode/stream.lua",
      ["smtpcode.log"] = "lua/smtpcode/log.lua",
      ["smtpcode.log_formats"] = "lua/smtpcode/log_formats.lua",
      ["smtpcode.bouncecli"] = "lua/smtpcode/bouncecli.lua",
      ["smtpcode.ffi"] = "lua/smtpcode/ffi.lua",
      ["smtpcode.rules"] = "lua/smtpcode/rules.lua",
      ["smtpcode.describe"] = "lua/smtpcode/describe.lua",
      ["smtpcode.shown"] = "lua/smtpcode/shown.lua",
   },
   install = {
      bin = { smtpcode = "bin/smtpcode" },
   },
}
