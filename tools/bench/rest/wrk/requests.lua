-- wrk script of the REST benchmark (tools/bench/rest/run.py).
--
-- Each request is the next line of the file named by $BENCH_WRK_REQUESTS, cycling:
--   METHOD<TAB>PATH[<TAB>JSON BODY]
-- run.py writes one such file per target and scenario: random ids for GET /records/{id}
-- and PATCH (each PATCH line with its own body), the pages of an offset list, or the
-- chain of cursors of a keyset list, walked on that server before the run (fixed
-- cursors: the load follows every page of the chain, over and over).
-- done() prints one line "BENCH_JSON {...}" that run.py parses.

local lines = {}
local count = 0
local index = 0

local function load(path)
  local list = {}
  for line in io.lines(path) do
    if line ~= "" then
      local method, target, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
      local headers = nil
      if body == nil or body == "" then
        body = nil
      else
        headers = { ["Content-Type"] = "application/json" }
      end
      list[#list + 1] = wrk.format(method, target, headers, body)
    end
  end
  return list
end

function init(args)
  lines = load(os.getenv("BENCH_WRK_REQUESTS"))
  count = #lines
  -- threads start at different places of the list
  index = (tonumber(os.getenv("BENCH_WRK_OFFSET") or "0") + math.random(0, count - 1)) % count
end

function request()
  index = index + 1
  if index > count then
    index = 1
  end
  return lines[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, '
      .. '"p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean
  ))
end
