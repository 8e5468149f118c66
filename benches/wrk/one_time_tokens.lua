-- POST /token with a token that can be used only once: each request takes the
-- next line of $FILE (authorization codes, or refresh tokens). Threads take
-- disjoint lines. With $OUT set, refresh tokens received are written to
-- $OUT.<thread> to feed the refresh benchmark. Once a thread runs out of tokens
-- it stops sending token requests (and its requests are not counted as token
-- requests: `done` reports only successful token responses).
local thread_count = 0
local threads = {}

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
  table.insert(threads, thread)
end

local tokens = {}
local n = 0
local out = nil
ok = 0
bad = 0

function init(args)
  for line in io.lines(os.getenv("FILE")) do
    tokens[#tokens + 1] = line
  end
  if os.getenv("OUT") then
    out = io.open(os.getenv("OUT") .. "." .. thread_index, "w")
  end
end

function request()
  n = n + 1
  local t = tokens[(n - 1) * tonumber(os.getenv("THREADS")) + thread_index]
  if t == nil then
    return wrk.format("GET", "/healthz")
  end
  local body
  if os.getenv("KIND") == "code" then
    body = "grant_type=authorization_code&code=" .. t .. "&redirect_uri=" .. os.getenv("REDIRECT") .. "&code_verifier=" .. os.getenv("VERIFIER")
  else
    body = "grant_type=refresh_token&refresh_token=" .. t
  end
  return wrk.format("POST", "/token", { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = os.getenv("AUTH") }, body)
end

function response(status, headers, body)
  if string.find(body, "access_token", 1, true) then
    ok = ok + 1
    if out then
      local rt = string.match(body, '"refresh_token":"([^"]+)"')
      if rt then
        out:write(rt .. "\n")
        out:flush()
      end
    end
  elseif status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + (t:get("ok") or 0)
    total_bad = total_bad + (t:get("bad") or 0)
  end
  io.write(string.format("token responses: %d ok, %d failed\n", total_ok, total_bad))
end
