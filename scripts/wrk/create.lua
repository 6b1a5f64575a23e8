-- POST /api/v1/subjects: ten values of a fictional customer (a Skatteverket test
-- personnummer), the shape integritet-load creates.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
wrk.body = [[{"kind":"person","values":[
 {"category":"name","value":"Anna Fiktiv Andersson","purposes":["purchase"]},
 {"category":"identity_number","value":"189001019802","purposes":["purchase"]},
 {"category":"email","value":"anna.fiktiv@example.se","purposes":["purchase"]},
 {"category":"phone","value":"+46701234567","purposes":["purchase"]},
 {"category":"postal_address","value":"Storgatan 12, 123 45 Exempelstad","purposes":["purchase"]},
 {"category":"customer_number","value":"K-100001","purposes":["purchase"]},
 {"category":"payment_details","value":"klarna:ord_00000a1b2c","purposes":["purchase"]},
 {"category":"order_history","value":"Order 500001: GPS-tracker TK-905 x1, SIM-kort 12 mån","purposes":["purchase"]},
 {"category":"support_case","value":"Ärende 700001: spåraren visar ingen position","purposes":["customer_care"]},
 {"category":"geolocation","value":"59.3293,18.0686","purposes":["customer_relationship"]}],
 "activities":[{"kind":"purchase","at":"2026-03-01T10:00:00Z"}]}]]
