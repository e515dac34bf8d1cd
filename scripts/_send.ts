import { httpPost } from "../sandbox/services";
import { describe } from "../sandbox";
(async () => {
  const { endpoints } = describe();
  const now = Date.now();
  const run = `man${now}`;
  const ev = [{ type: "track", event: "ViewProduct", distinct_id: `${run}-a`, time: now, _track_id: 1, properties: { price: 9.5 } }, { type: "bogus", distinct_id: `${run}-a`, time: now }];
  const body = new URLSearchParams({ data_list: Buffer.from(JSON.stringify(ev)).toString("base64") }).toString();
  const r = await httpPost(`${endpoints.nginx.url}/sa?project=shop`, body, { "content-type": "application/x-www-form-urlencoded" }, 10000);
  console.log(run, r.status, new Date(now).toISOString());
})();
