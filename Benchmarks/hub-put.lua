-- Conditional creates: every request makes a new record (If-None-Match: *).
local counter = 0
local thread_tag = ""

function setup(thread)
  thread:set("tag", tostring(math.random(1, 1000000000)))
end

-- An optional prefix (wrk ... -- PREFIX) keeps two wrk runs at once apart.
function init(args)
  thread_tag = (args[1] or "") .. tag
end

local body = '{"title": "HNS benchmark", "parties": ["United States", "Japan"], "status": "negotiating", ' ..
  '"value": {"amount": 1910000000, "currency": "USD"}, "fiscal_year": 2021, "covers": ["utilities", "labor", "training"]}'

function request()
  counter = counter + 1
  return wrk.format("PUT", "/v1/records/agreement/bench-" .. thread_tag .. "-" .. counter,
    { ["If-None-Match"] = "*", ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
