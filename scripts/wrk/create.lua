-- POST /api/v1/subjects: ten values of a fictional customer, the shape integritet-load
-- creates. The e-mail, phone and customer number differ per request (a counter per thread,
-- started at a random point), so blind-index entries land all over the index as real
-- customers' do; the personnummer are Skatteverket's test numbers.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")

local pins = { "189001019802", "189001029819", "189001039800", "189001049809" }
math.randomseed(os.time())
local n = math.random(1, 1000000000)

local template = [[{"kind":"person","values":[
 {"category":"name","value":"Kund Fiktiv %d","purposes":["purchase"]},
 {"category":"identity_number","value":"%s","purposes":["purchase"]},
 {"category":"email","value":"kund%d@example.se","purposes":["purchase"]},
 {"category":"phone","value":"+4670%07d","purposes":["purchase"]},
 {"category":"postal_address","value":"Storgatan 12, 123 45 Exempelstad","purposes":["purchase"]},
 {"category":"customer_number","value":"K-%d","purposes":["purchase"]},
 {"category":"payment_details","value":"klarna:ord_%010x","purposes":["purchase"]},
 {"category":"order_history","value":"Order %d: GPS-tracker TK-905 x1, SIM-kort 12 mån","purposes":["purchase"]},
 {"category":"support_case","value":"Ärende %d: spåraren visar ingen position","purposes":["customer_care"]},
 {"category":"geolocation","value":"59.3293,18.0686","purposes":["customer_relationship"]}],
 "activities":[{"kind":"purchase","at":"2026-03-01T10:00:00Z"}]}]]

local function body(i)
  return string.format(template, i, pins[i % #pins + 1], i, i % 10000000, i, i, i, i)
end
wrk.body = body(n)

request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, body(n))
end

-- Set-up runs only: record the ids created, one per line, for read.lua.
local ids_out = os.getenv("WRK_IDS_OUT")
if ids_out then
  local out = assert(io.open(ids_out, "a"))
  response = function(status, headers, answer)
    local id = answer:match('"id"%s*:%s*"([^"]+)"')
    if id then
      out:write(id, "\n")
      out:flush()
    end
  end
end
