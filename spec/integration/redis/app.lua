-- Handlers of the nginx instances of spec/integration/redis.sh: trackers
-- over the worker's ngx.shared.DICT ("shdict", or "slowdict": the same
-- dict with a slow read, see below) or the shared Redis
-- ("redis", lua-resty-redis from Debian's lua-nginx-redis, keepalive
-- pool), one store per worker. Query arguments: store, dest, n, reason,
-- now, grow (1: the pause grows by a fifth per failure), prefix, count.
local retry = require "smtpcode.retry"
local redis = require "nginx.redis"
local ngx = ngx -- luacheck: globals ngx

local M = { port = nil }
local GROW = { rate_limited = { first = 100, factor = 1.2, max = 1e6 } }
local stores, trackers = {}, {}

-- The worker's shared dict with a slow read of a pause's end: after
-- reading, get spins for about 20 us, so that other workers can act between
-- a read and the write that follows it (fault injection: a lost update then
-- shows in nearly every run instead of rarely).
local slow_dict
local function slowed(dict)
  if slow_dict then return slow_dict end
  local sink = 0
  local d = {}
  for _, m in ipairs({ "set", "safe_set", "add", "safe_add", "incr", "delete" }) do
    d[m] = function(_, ...) return dict[m](dict, ...) end
  end
  function d.get(_, k)
    local v, f = dict:get(k)
    if k:sub(-6) == ":until" then
      for i = 1, 20000 do sink = sink + i end
    end
    return v, f
  end
  d.sink = function() return sink end
  slow_dict = d
  return d
end

local function store(kind)
  local s = stores[kind]
  if s then return s end
  if kind == "shdict" then
    s = retry.shdict_store(ngx.shared.smtp)
  elseif kind == "slowdict" then
    s = retry.shdict_store(slowed(ngx.shared.smtp))
  elseif kind == "redis" then
    s = retry.redis_store(function()
      local red = redis:new()
      red:set_timeout(200)
      local ok, err = red:connect("127.0.0.1", M.port)
      if not ok then return nil, err end
      return red
    end, { timeout = 200 })
  else
    error("store must be shdict or redis")
  end
  stores[kind] = s
  return s
end

local function tracker(a)
  local key = a.store .. (a.grow == "1" and ":grow" or "")
  local t = trackers[key]
  if not t then
    t = retry.tracker{ store = store(a.store), pauses = a.grow == "1" and GROW or nil,
                       clock = ngx.time }
    trackers[key] = t
  end
  return t
end

local function decision(reason)
  if reason == "success" then return { action = "done", result = { severity = "success" } } end
  return { action = "retry", reason = reason or "rate_limited", scope = "destination" }
end

local function stats(t)
  local s, out = t.stats and t:stats() or {}, {}
  for _, k in ipairs({ "errors", "skipped", "noscript", "misses", "lock_waits", "lock_timeouts",
                       "lock_expired" }) do
    if s[k] then out[#out + 1] = k .. "=" .. s[k] end
  end
  return table.concat(out, " ")
end

function M.handle(what)
  local a = ngx.req.get_uri_args()
  a.store = a.store or "shdict"
  local t = tracker(a)
  local now = tonumber(a.now) or ngx.time()
  if what == "rec" then
    local d, wait = decision(a.reason), 0
    for _ = 1, tonumber(a.n) or 1 do wait = t:record(a.dest, d, now) end
    ngx.say("pause=", wait, " failures=", t:failures(a.dest), " pid=", ngx.worker.pid(), " ", stats(t))
  elseif what == "pause" then
    ngx.say("pause=", (t:pause(a.dest, now)), " failures=", t:failures(a.dest), " ", stats(t))
  elseif what == "pauses" then
    local list = {}
    for d in a.dests:gmatch("[^,]+") do list[#list + 1] = d end
    ngx.say("pauses=", table.concat(t:pause_many(list, now), ","), " ", stats(t))
  elseif what == "many" then
    -- `per` failures (default 1) for each of `count` destinations
    local d, per = decision(a.reason), tonumber(a.per) or 1
    if a.barrier then
      -- all `k` requests start together: wait (yielding) until all have
      -- arrived, then spin until the common start time, so that the
      -- workers record the same destinations at the same moments
      local dict, k = ngx.shared.smtp, tonumber(a.k)
      local here = dict:incr("barrier:" .. a.barrier, 1, 0)
      if here == k then
        ngx.update_time()
        dict:set("barrier:go:" .. a.barrier, ngx.now() + 0.05)
      end
      local go
      for _ = 1, 10000 do
        go = dict:get("barrier:go:" .. a.barrier)
        if go then break end
        ngx.sleep(0.001)
      end
      repeat ngx.update_time() until ngx.now() >= (go or 0)
    end
    for i = 1, tonumber(a.count) do
      for _ = 1, per do t:record(a.prefix .. i, d, now) end
    end
    ngx.say("pid=", ngx.worker.pid(), " ", stats(t))
  elseif what == "check" then
    -- every destination prefix..i against the pause of a.seq (recorded
    -- one after another) and n failures
    local want = t:pause(a.seq, now)
    local n, bad, short, worst = tonumber(a.n), 0, 0, 0
    for i = 1, tonumber(a.count) do
      local p, f = t:pause(a.prefix .. i, now), t:failures(a.prefix .. i)
      if p ~= want or f ~= n then bad = bad + 1 end
      if p < want then short = short + 1; worst = math.max(worst, want - p) end
    end
    ngx.say("want=", want, " bad=", bad, " short=", short, " worst=", worst)
  end
end

return M
