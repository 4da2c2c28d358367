-- Reads of seeded records seed-1 .. seed-N.
local records = tonumber(os.getenv("SEEDED") or "1000")

function request()
  return wrk.format("GET", "/v1/records/agreement/seed-" .. math.random(1, records))
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
