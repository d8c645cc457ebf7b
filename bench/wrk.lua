-- wrk script of the labapi benchmark.
-- args: token, file of request paths (one per line, cycled), method, body file or "-",
--       request budget (0: none; the thread stops after that many responses), nonce.
-- A body's "{n}" becomes "<nonce>-<request number>", so every write creates a new row.
local paths, method, body, budget, nonce = {}, "GET", nil, 0, "0"
local counter, responses = 0, 0
local headers = {}

function init(args)
  headers["Authorization"] = "Token " .. args[1]
  headers["Accept"] = "application/json"
  for line in io.lines(args[2]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  method = args[3]
  if args[4] ~= "-" then
    local f = io.open(args[4], "rb")
    body = f:read("*a")
    f:close()
    headers["Content-Type"] = "application/json"
  end
  budget = tonumber(args[5])
  nonce = args[6]
  -- wrk looks for `response` after init: defined only when needed, since parsing every
  -- response's headers for Lua costs the load generator time.
  if budget > 0 then
    response = function(status, hdrs, resp)
      responses = responses + 1
      if responses == budget then
        -- wrk's main thread sleeps for the whole -d duration whatever its threads do:
        -- interrupt it (SIGINT makes wrk report and exit) once the budget is spent.
        wrk.thread:stop()
        -- system() ignores SIGINT in wrk while it runs: signal from a background job.
        os.execute("(sleep 0.2; kill -INT $PPID) &")
      end
    end
  end
end

function request()
  counter = counter + 1
  local path = paths[(counter - 1) % #paths + 1]
  local payload = nil
  if body then payload = body:gsub("{n}", nonce .. "-" .. counter) end
  return wrk.format(method, path, headers, payload)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d,'
    .. ' "p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d,'
    .. ' "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
