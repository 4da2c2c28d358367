-- Changes-feed pages from random points of a seeded feed.
local records = tonumber(os.getenv("SEEDED") or "1000")

function request()
  return wrk.format("GET", "/v1/changes?since=" .. math.random(0, records - 10) .. "&limit=10")
end
