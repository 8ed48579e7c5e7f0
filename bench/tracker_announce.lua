-- wrk script for bench/tracker.sh: announces from random peers over a pool of info hashes.
--   HASHES=file of 40-hex info hashes, one per line    CLOSE=1: one TCP connection per announce
-- done() prints one "RESULT ..." line: requests, req/s, latency percentiles, valid/invalid.
local close = os.getenv("CLOSE") == "1"
local hashes_file = os.getenv("HASHES")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

local pool = {}

function init(args)
  for line in io.lines(hashes_file) do
    if #line >= 40 then
      pool[#pool + 1] = line:sub(1, 40):gsub("%x%x", function(h) return "%" .. h end)
    end
  end
  math.randomseed(os.time() + (seed or 0) * 7919)
  valid, invalid = 0, 0
  if close then wrk.headers["Connection"] = "close" end
end

function request()
  -- 12 random hex chars after the client prefix: every announce is a new peer.
  local id = string.format("-BX0001-%06x%06x", math.random(0, 0xffffff), math.random(0, 0xffffff))
  return wrk.format("GET", "/announce?info_hash=" .. pool[math.random(#pool)]
    .. "&peer_id=" .. id .. "&port=" .. math.random(1024, 65535)
    .. "&uploaded=0&downloaded=0&left=" .. math.random(0, 1000000) .. "&compact=1&event=started")
end

function response(status, headers, body)
  if status == 200 and body:sub(1, 1) == "d" and body:find("5:peers", 1, true)
      and not body:find("failure reason", 1, true) then
    valid = valid + 1
  else
    invalid = invalid + 1
  end
end

function done(summary, latency, requests)
  local v, inv = 0, 0
  for _, t in ipairs(threads) do
    v = v + t:get("valid")
    inv = inv + t:get("invalid")
  end
  io.write(string.format("RESULT requests=%d req_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f valid=%d invalid=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, v, inv))
end
