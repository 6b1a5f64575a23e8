-- GET /api/v1/subjects/{id}?purpose=purchase for random ids of WRK_IDS (one id per line).
local ids = {}
for line in io.lines(os.getenv("WRK_IDS")) do
  ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
request = function()
  return wrk.format("GET", "/api/v1/subjects/" .. ids[math.random(#ids)] .. "?purpose=purchase")
end
