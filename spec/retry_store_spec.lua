-- smtpcode.retry stores: the shared-dict store under concurrent
-- updates and when full, the in-process store's eviction order, stores of
-- the earlier get/set/incr interface. The real nginx with 4 workers and a
-- real Redis are driven by spec/integration/redis.sh.

local retry = require "smtpcode.retry"

local RATE = { action = "retry", reason = "rate_limited", scope = "destination" }
local GREY = { action = "retry", reason = "greylisted", scope = "destination" }
local OK = { action = "done", result = { severity = "success" } }

-- A stand-in for ngx.shared.DICT with its documented semantics: a byte
-- budget (each key costs 64 bytes + key + 8), LRU eviction by set/add/incr
-- with init ("forcible"), none by safe_set/safe_add ("no memory"). When
-- `yield_on` is set, a coroutine's first get of a key ending in it yields
-- after reading; with `yield_add`, add of an existing key yields: so
-- coroutines interleave the way nginx workers can.
local function fake_dict(clock, capacity)
  local data, exp, order = {}, {}, {}   -- order: key -> last use tick
  local used, tick = 0, 0
  local d = { yield_on = nil, yield_add = false, evicted = 0 }
  local function cost(k) return 64 + #k + 8 end
  local function drop(k)
    if data[k] ~= nil then used = used - cost(k) end
    data[k], exp[k], order[k] = nil, nil, nil
  end
  local function alive(k)
    if exp[k] and exp[k] <= clock() then drop(k) end
    return data[k]
  end
  local function use(k) tick = tick + 1; order[k] = tick end
  local function room(k, force)
    if not capacity or data[k] ~= nil then return true end
    while used + cost(k) > capacity do
      if not force then return false end
      local lru, best = nil, math.huge
      for key, t in pairs(order) do if t < best then lru, best = key, t end end
      if not lru then return false end
      drop(lru)
      d.evicted = d.evicted + 1
    end
    return true
  end
  local function put(k, v, t)
    if data[k] == nil then used = used + cost(k) end
    data[k] = v
    exp[k] = (t and t > 0) and clock() + t or nil
    use(k)
  end
  local yielded = setmetatable({}, { __mode = "k" })
  function d.get(_, k)
    local v = alive(k)
    local co = coroutine.running()
    if d.yield_on and co and not yielded[co] and k:sub(-#d.yield_on) == d.yield_on then
      yielded[co] = true                 -- once per coroutine, after its read
      coroutine.yield()
      v = v                              -- the value read before the pause
    end
    if v ~= nil then use(k) end
    return v
  end
  function d.set(_, k, v, t)
    local before = d.evicted
    if not room(k, true) then return false, "no memory" end
    put(k, v, t)
    return true, nil, d.evicted > before
  end
  function d.safe_set(_, k, v, t)
    if not room(k, false) then return false, "no memory" end
    put(k, v, t)
    return true
  end
  local function add(k, v, t, force)
    if alive(k) ~= nil then
      if d.yield_add then coroutine.yield() end
      return false, "exists"
    end
    if not room(k, force) then return false, "no memory" end
    put(k, v, t)
    return true
  end
  function d.add(_, k, v, t) return add(k, v, t, true) end
  function d.safe_add(_, k, v, t) return add(k, v, t, false) end
  function d.incr(_, k, by, init, t)
    local cur = alive(k)
    if cur == nil then
      if init == nil then return nil, "not found" end
      if not room(k, true) then return nil, "no memory" end
      put(k, init + by, t)
      return init + by
    end
    data[k] = cur + by
    use(k)
    return data[k]
  end
  function d.delete(_, k) drop(k) end
  function d.keys() local n = 0 for _ in pairs(data) do n = n + 1 end return n end
  return d
end

-- The pause after the n-th rate_limited failure in a row with a row that
-- grows by a fifth per failure (distinct for n = 1 .. 51).
local GROW = { rate_limited = { first = 100, factor = 1.2, max = 1e6 } }
local function expected(n)
  return math.floor(math.min(1e6, 100 * 1.2 ^ (n - 1)))
end

describe("retry.shdict_store", function()
  local now
  local function clock() return now end
  before_each(function() now = 1000000 end)

  it("keeps the longer pause when a worker records between another's read and write", function()
    local dict = fake_dict(clock)
    local function worker()
      local t = retry.tracker{ store = retry.shdict_store(dict), clock = clock, pauses = GROW }
      return coroutine.create(function() return t:record("d.example", RATE, now) end)
    end
    -- A reads the pause's end and is suspended there (yield in get); B
    -- records the second failure meanwhile; then A goes on.
    dict.yield_on, dict.yield_add = ":until", true
    local a, b = worker(), worker()
    assert(coroutine.resume(a))                  -- A: counted k = 1, read until, suspended
    dict.yield_on = nil                          -- B reads without pausing
    while coroutine.status(b) ~= "dead" do      -- B: k = 2; waits for A's lock
      assert(coroutine.resume(b))
      if coroutine.status(a) ~= "dead" then assert(coroutine.resume(a)) end
    end
    while coroutine.status(a) ~= "dead" do assert(coroutine.resume(a)) end
    dict.yield_add = false
    local t = retry.tracker{ store = retry.shdict_store(dict), clock = clock, pauses = GROW }
    assert.equal(2, t:failures("d.example"))
    assert.equal(expected(2), t:pause("d.example", now))
  end)

  it("keeps the longer pause when a worker's lock expires while it is descheduled", function()
    local dict = fake_dict(clock)
    local function worker()
      local t = retry.tracker{ store = retry.shdict_store(dict, { log = function() end }),
                               clock = clock, pauses = GROW }
      return t, coroutine.create(function(at) return t:record("d.example", RATE, at) end)
    end
    dict.yield_on = ":until"
    local ta, a = worker()
    local _, b = worker()
    local t0 = now
    assert(coroutine.resume(a, t0))              -- A holds the lock, read, descheduled
    dict.yield_on = nil
    now = now + 1                                -- A's lock (100 ms) expires meanwhile
    assert(coroutine.resume(b, now))             -- B: k = 2, takes the lock, writes
    assert.equal("dead", coroutine.status(b))
    assert(coroutine.resume(a))                  -- A goes on: must not lower B's pause
    assert.equal("dead", coroutine.status(a))
    local t = retry.tracker{ store = retry.shdict_store(dict), clock = clock, pauses = GROW }
    assert.equal(now + expected(2), select(2, t:pause("d.example", now)))
    assert.equal(1, ta:stats().lock_expired)
  end)

  it("gives N interleaved failures the pause of N sequential ones", function()
    local dict = fake_dict(clock)
    dict.yield_on, dict.yield_add = ":until", true
    local cos = {}
    for i = 1, 12 do
      local t = retry.tracker{ store = retry.shdict_store(dict), clock = clock, pauses = GROW }
      cos[i] = coroutine.create(function() return t:record("d.example", RATE, now) end)
    end
    local live, round = #cos, 0
    while live > 0 do
      live, round = 0, round + 1
      local from, to, by = #cos, 1, -1          -- the other direction each round
      if round % 2 == 0 then from, to, by = 1, #cos, 1 end
      for i = from, to, by do
        if coroutine.status(cos[i]) ~= "dead" then
          assert(coroutine.resume(cos[i]))
          live = live + 1
        end
      end
    end
    dict.yield_on, dict.yield_add = nil, false
    local t = retry.tracker{ store = retry.shdict_store(dict), clock = clock, pauses = GROW }
    assert.equal(expected(12), t:pause("d.example", now))
  end)

  it("never raises when the dict is full: counts a miss, logs, and keeps pauses", function()
    local dict = fake_dict(clock, 32 * 1024)
    local logs = {}
    local store = retry.shdict_store(dict, { log = function(m) logs[#logs + 1] = m end })
    local t = retry.tracker{ store = store, clock = clock }
    assert.equal(1800, (t:record("paused.example", { action = "retry", reason = "blocklisted",
      scope = "destination" }, now)))
    for i = 1, 2000 do
      local ok, err = pcall(t.record, t, "other" .. i .. ".example", GREY, now)
      assert(ok, err)
    end
    assert.equal(1800, t:pause("paused.example", now))
    local st = t:stats()
    assert.is_true(st.misses > 1000)
    assert.equal(0, dict.evicted)
    assert.is_true(#logs >= 1 and #logs < 10)
    assert.truthy(logs[1]:find("cannot count", 1, true))
  end)

  it("stores a pause in a full dict by evicting, and counts it", function()
    local dict = fake_dict(clock, 4 * 1024)
    local t = retry.tracker{ store = retry.shdict_store(dict, { log = function() end }), clock = clock }
    for i = 1, 200 do t:record("other" .. i .. ".example", GREY, now) end
    assert.equal(300, (t:record("late.example", RATE, now)))
    assert.equal(300, t:pause("late.example", now))
    assert.is_true(t:stats().evictions >= 1)
  end)

  it("answers no pause for a success after a full dict, without raising", function()
    local dict = fake_dict(clock, 1024)
    local t = retry.tracker{ store = retry.shdict_store(dict, { log = function() end }), clock = clock }
    for i = 1, 50 do t:record("d" .. i, RATE, now) end
    assert.equal(0, (t:record("d1", OK, now)))
    assert.equal(0, t:pause("d1", now))
  end)
end)

describe("retry.memory_store eviction", function()
  it("keeps a paused destination while destinations without a pause come and go", function()
    local t = retry.tracker{ max_entries = 10000 }
    t:record("paused.example", RATE, 0)
    for i = 1, 20000 do t:record("other" .. i .. ".example", GREY, 0) end
    assert.equal(300, t:pause("paused.example", 0))
    assert.equal(10000, t.store:count())
    assert.equal(1, t.store:held(0))
  end)

  it("evicts the least recently used paused destination only when all hold a pause", function()
    local t = retry.tracker{ max_entries = 3 }
    for i = 1, 3 do t:record("p" .. i, RATE, 0) end
    t:pause("p1", 0)                             -- p1 used again: p2 is the oldest
    t:record("p4", RATE, 0)
    assert.same({ 300, 0, 300, 300 },
      { (t:pause("p1", 0)), (t:pause("p2", 0)), (t:pause("p3", 0)), (t:pause("p4", 0)) })
  end)

  it("counts an ended pause among the destinations to evict first", function()
    local t = retry.tracker{ max_entries = 2 }
    t:record("old", RATE, 0)                     -- paused until 300
    t:record("new", RATE, 1000)                  -- paused until 1300
    t:pause("old", 1000)                         -- its pause has ended: no longer kept first
    t:record("third", GREY, 1000)
    assert.equal(300, t:pause("new", 1000))
    assert.equal(0, t:failures("old"))
  end)
end)

describe("retry.tracker over a store of the get/set/incr interface", function()
  it("works as before, and counts a store that raises instead of raising", function()
    local kv = retry.memory_store()
    local plain = { get = function(_, k) return kv:get(k) end,
                    set = function(_, k, v, ttl) return kv:set(k, v, ttl) end,
                    incr = function(_, k, by, init, ttl) return kv:incr(k, by, init, ttl) end }
    local t = retry.tracker{ store = plain, pauses = GROW }
    assert.equal(expected(1), (t:record("d", RATE, 0)))
    assert.equal(expected(2), (t:record("d", RATE, 0)))
    assert.equal(0, (t:record("d", OK, 0)))
    assert.equal(0, t:failures("d"))
    local broken = { get = function() error("connection refused") end,
                     set = function() error("connection refused") end,
                     incr = function() error("connection refused") end }
    local ok, wait, stats = pcall(function()   -- logs one line to stderr
      local b = retry.tracker{ store = broken }
      local w = b:record("d", RATE, 0)
      b:pause("d", 0)
      return w, b:stats()
    end)
    assert.is_true(ok, wait)
    assert.equal(0, wait)
    assert.equal(2, stats.errors)
  end)

  it("keys a destination as prefix{destination}, braces in names escaped", function()
    local s = retry.memory_store()
    local t = retry.tracker{ store = s, prefix = "p:" }
    t:record("MX.Example", RATE, 0)
    t:record("a{b}c", RATE, 0)
    assert.equal(300, s:pause("p:{mx.example}", 0))
    assert.equal(300, s:pause("p:{a%7Bb%7Dc}", 0))
    assert.has_error(function() retry.tracker{ prefix = "x{" } end)
  end)
end)

describe("tracker:pause_many", function()
  it("answers the pauses of a list of destinations, in order", function()
    local t = retry.tracker()
    t:record("b.example", RATE, 0)
    assert.same({ 0, 200, 0 }, t:pause_many({ "a.example", "B.example", "c.example" }, 100))
    assert.same({}, t:pause_many({}, 0))
    assert.has_error(function() t:pause_many({ "a", 5 }, 0) end,
      "bad argument #1 to 'pause_many' (string expected, got number)")
  end)
end)

describe("retry.redis_store arguments", function()
  it("takes a client object or function, and rejects the rest clearly", function()
    assert.is_table(retry.redis_store(function() return nil, "down" end, { log = function() end }))
    local ok, err = pcall(retry.redis_store, 42)
    assert.is_false(ok)
    assert.truthy(err:find("bad argument #1 to 'redis_store'", 1, true))
    ok, err = pcall(retry.redis_store, function() end, { timeot = 1 })
    assert.is_false(ok)
    assert.truthy(err:find("unknown option 'timeot'", 1, true))
    for _, bad in ipairs({ { timeout = 0 }, { timeout = 0 / 0 }, { retry_after = -1 },
                           { retry_after = 0 / 0 }, { log = "stderr" } }) do
      ok, err = pcall(retry.redis_store, function() end, bad)
      assert.is_false(ok)
      assert.truthy(err:find("bad argument #2 to 'redis_store'", 1, true))
    end
  end)

  it("answers no pause and counts the error when the client cannot connect", function()
    local logs, now = {}, 0
    local st = retry.redis_store(function() return nil, "connection refused" end,
      { log = function(m) logs[#logs + 1] = m end, clock = function() return now end })
    local t = retry.tracker{ store = st }
    assert.equal(0, (t:record("d", RATE, 0)))
    assert.equal(0, t:pause("d", 0))
    local s = t:stats()
    assert.same({ 1, 1 }, { s.errors, s.skipped })
    now = 2                                      -- retry_after (1 s) passed: tried again
    t:pause("d", 0)
    assert.equal(2, t:stats().errors)
    assert.truthy(logs[1]:find("connection refused", 1, true))
  end)
end)

describe("retry.tracker built per request", function()
  it("follows a pause row of retry.pauses changed in place", function()
    local row = retry.pauses.default
    local saved = { row.first, row.factor, row.max }
    assert.equal(60, (retry.tracker():record("d", { action = "retry", reason = "network",
      scope = "destination" }, 0)))
    row.first = 30
    local ok, wait = pcall(function()
      return retry.tracker():record("d", { action = "retry", reason = "network",
        scope = "destination" }, 0)
    end)
    row.first, row.factor, row.max = saved[1], saved[2], saved[3]
    assert.is_true(ok)
    assert.equal(30, wait)
  end)

  it("gets the same shared-dict store for the same dict (its counters add up)", function()
    local dict = fake_dict(function() return 0 end)
    assert.equal(retry.shdict_store(dict), retry.shdict_store(dict))
    assert.are_not.equal(retry.shdict_store(dict), retry.shdict_store(dict, {}))
  end)
end)
