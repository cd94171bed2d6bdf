--- smtpcode.retry: after each SMTP reply, decide what a sender does next
-- (done, continue, retry at a time, bounce, expire), and remember per
-- destination the failures that should pause all mail for it.
--
--   local retry = require "smtpcode.retry"
--   local policy = retry.policy(opts)                    -- opts optional
--   local d = policy:decide(reply, { attempts = n, first_attempt = t0, now = t })
--   -- d.action  "done" | "continue" | "retry" | "bounce" | "expire"
--   -- d.delay, d.at (retry only), d.suppress, d.reason, d.scope, d.result
--
--   local tracker = retry.tracker{ store = retry.shdict_store(ngx.shared.smtp) }
--   tracker:record("example.net", d)      -- after every reply
--   local wait = tracker:pause("example.net")   -- 0: send now
--
-- Pure Lua (common subset of 5.1-5.4 and LuaJIT). `classify` comes from the
-- front module `smtpcode` and is loaded on first use; a policy can be given
-- its own (opts.classify), which keeps this module usable without the C core.
--
-- Default schedule (RFC 5321 §4.5.4.1 and Postfix's defaults: first retry
-- after `minimal_backoff_time` 300 s, doubling up to `maximal_backoff_time`
-- 4000 s, give up after `maximal_queue_lifetime` 5 days):
--   attempt n failed transiently -> next try after b(n) = min(max, first * factor^(n-1))
--   plus jitter: a share of the gap to b(n+1), so delays never shrink.
-- The schedule of each reason is a row of `retry.schedules` below.
--
-- The parts, one file per concern: retry_policy.lua (policy, defaults,
-- schedules), retry_tracker.lua (tracker, pauses), retry_store.lua (the
-- stores), retry_redis.lua (the Redis store), retry_base.lua (what they
-- share: the reason vocabulary, the back-off formula, argument checks).

local B = require "smtpcode.retry_base"
local P = require "smtpcode.retry_policy"
local S = require "smtpcode.retry_store"
local T = require "smtpcode.retry_tracker"

local M = { _VERSION = "smtpcode.retry 0.1" }

--- retry.policy(opts): a retry policy (smtpcode.retry_policy).
M.policy = P.policy
--- Default options of `retry.policy` (smtpcode.retry_policy).
M.defaults = P.defaults
--- Schedule rows per reason (smtpcode.retry_policy).
M.schedules = P.schedules
--- retry.tracker(opts): a destination tracker (smtpcode.retry_tracker).
M.tracker = T.tracker
--- Pauses of a whole destination per reason (smtpcode.retry_tracker).
M.pauses = T.pauses
--- retry.memory_store(opts): a store in this Lua state (smtpcode.retry_store).
M.memory_store = S.memory_store
--- retry.shdict_store(dict, opts): a store in an ngx.shared dict (smtpcode.retry_store).
M.shdict_store = S.shdict_store
--- retry.redis_store(client, opts): a store in Redis (smtpcode.retry_redis).
M.redis_store = S.redis_store
--- The reasons of classify, sorted (smtpcode.retry_base).
M.reasons = B.reasons

return M
