-- wrk script: replays pre-signed requests (one per line, "/?<signed query>"),
-- each once: thread i of n takes lines i, i+n, i+2n, ... Non-200 answers are
-- counted and the first few printed, so a throttled or refused run is obvious.
local file = os.getenv("SLUICE_API_REQUESTS") or "/tmp/sluice-api-requests.txt"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  local n = 0
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  for line in io.lines(file) do
    if n % nthreads == id then paths[#paths + 1] = line end
    n = n + 1
  end
  idx = 0
  errors = 0
  shown = 0
end

function request()
  idx = idx + 1
  if idx > #paths then idx = 1 end  -- wrapped: the nonces repeat and are refused (counted below)
  return wrk.format("GET", paths[idx])
end

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if shown < 3 then
      shown = shown + 1
      print(status, body)
    end
  end
end

function done(summary, latency, requests)
  local errs = 0
  for _, t in ipairs(threads) do errs = errs + (t:get("errors") or 0) end
  io.write(string.format("non-200 responses: %d of %d\n", errs, summary.requests))
end
