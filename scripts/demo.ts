/**
 * `npm run demo`: the whole platform on the embedded default (the local sandbox).
 *   1. sandbox up (installs what is missing, starts the real services);
 *   2. `pulumi up --stack local`: the Pulumi engine registers the Kafka topics, every job of the job
 *      table (FlinkSqlJob; the catalog and tables are created by each job's script) and the alert rules;
 *   3. sample business rows in the shop database (MariaDB) and tracking events through the collector
 *      (nginx -> Vector stand-in -> Kafka), each only if not there yet;
 *   4. a report of rows per layer (ODS, DWD, DWS) and where to look.
 * Running it again changes nothing: unchanged jobs are kept, the sample data is not sent twice.
 */
import * as mysql from "mysql2/promise";
import { SqlGatewayClient } from "../components/flink/sqlGateway";
import { renderSql, splitStatements, withSecrets } from "../components/jobs/render";
import { describe, up } from "../sandbox";
import { SANDBOX_CHECKPOINT_MS, sandboxJobEnvironment, sandboxJobSecrets } from "../sandbox/jobs";
import { upLocalStack } from "../sandbox/stack";
import { httpPost } from "../sandbox/services";
import * as fs from "fs";
import * as path from "path";
import { SQL_DIR } from "../components/config/jobTable";


const say = (m: string) => console.log(`[demo] ${m}`);
/** The demo's rows use ids from here up, so they never mix with other data in the sandbox. */
const BASE = 900_000_000;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function shopData(db: mysql.Connection): Promise<boolean> {
  const [rows] = await db.query(`SELECT COUNT(*) AS n FROM users WHERE id BETWEEN ? AND ?`, [BASE, BASE + 999]);
  if ((rows as { n: number }[])[0].n > 0) return false;
  const cities = ["beijing", "shanghai", "hangzhou", "shenzhen", "chengdu"];
  const day = new Date().toISOString().slice(0, 10);
  const users = Array.from({ length: 20 }, (_, i) => [BASE + i, `User ${i}`, `user${i}@example.com`, `1380000${String(i).padStart(4, "0")}`, cities[i % 5], `${day} 08:00:00`]);
  await db.query("INSERT INTO users (id, name, email, phone, city, created_at) VALUES ?", [users]);
  const categories = ["phones", "accessories", "books"];
  const products = Array.from({ length: 10 }, (_, i) => [BASE + i, `Product ${i}`, categories[i % 3], 10 + i * 15, "on_sale"]);
  await db.query("INSERT INTO products (id, name, category, price, status) VALUES ?", [products]);
  const orders: unknown[][] = [];
  const items: unknown[][] = [];
  const payments: unknown[][] = [];
  for (let o = 0; o < 50; o++) {
    const lines = [[BASE + o * 10, BASE + o, BASE + (o % 10), 1 + (o % 3), 10 + (o % 10) * 15]];
    if (o % 4 === 0) lines.push([BASE + o * 10 + 1, BASE + o, BASE + ((o + 3) % 10), 1, 10 + ((o + 3) % 10) * 15]);
    const total = lines.reduce((s, l) => s + (l[3] as number) * (l[4] as number), 0);
    orders.push([BASE + o, BASE + (o % 20), "created", total, `${day} ${String(9 + (o % 10)).padStart(2, "0")}:00:00`]);
    items.push(...lines);
    if (o % 3 !== 2) payments.push([BASE + o, BASE + o, ["alipay", "wechat", "card"][o % 3], total, "success", `${day} 12:00:00`]);
  }
  await db.query("INSERT INTO orders (id, user_id, status, total_amount, created_at) VALUES ?", [orders]);
  await db.query("INSERT INTO order_items (id, order_id, product_id, quantity, unit_price) VALUES ?", [items]);
  await db.query("INSERT INTO payments (id, order_id, method, amount, status, paid_at) VALUES ?", [payments]);
  // Life goes on: paid orders move on, a few are cancelled, one is deleted, and some rows are bad.
  await db.query(`UPDATE orders SET status = 'paid' WHERE id BETWEEN ? AND ? AND MOD(id, 3) <> 2`, [BASE, BASE + 49]);
  await db.query(`UPDATE orders SET status = 'cancelled' WHERE id IN (?, ?)`, [BASE + 2, BASE + 5]);
  await db.query(`DELETE FROM order_items WHERE order_id = ?`, [BASE + 8]);
  await db.query(`DELETE FROM orders WHERE id = ?`, [BASE + 8]);
  await db.query(`INSERT INTO users (id, name, email, created_at) VALUES (?, '', 'not-an-email', NOW())`, [BASE + 900]);
  return true;
}

async function trackingEvents(nginxUrl: string, alreadySent: boolean): Promise<number> {
  if (alreadySent) return 0;
  const now = Date.now();
  const funnel = ["ViewProduct", "AddToCart", "SubmitOrder", "PayOrder"];
  const events = [];
  for (let u = 0; u < 30; u++) {
    const steps = 1 + (u % 4); // every user views; fewer go further
    for (let s = 0; s < steps; s++) {
      events.push({ type: "track", event: funnel[s], distinct_id: `demo-user-${u}`, time: now - (30 - u) * 1000 + s, _track_id: u * 10 + s, properties: s === 0 ? { price: 19.9 + u } : {} });
    }
  }
  for (let i = 0; i < events.length; i += 20) {
    const body = new URLSearchParams({ data_list: Buffer.from(JSON.stringify(events.slice(i, i + 20))).toString("base64") }).toString();
    const { status } = await httpPost(`${nginxUrl}/sa?project=shop`, body, FORM, 10000);
    if (status !== 200) throw new Error(`the collector at ${nginxUrl}/sa answered ${status}`);
  }
  return events.length;
}

async function main() {
  const t0 = Date.now();
  await up();
  const { endpoints: e, credentials: c } = describe();

  say("pulumi up --stack local: topics, the job table's FlinkSqlJobs and the alert rules, through the Pulumi engine");
  const jobs = await upLocalStack();

  const gw = new SqlGatewayClient(e.flink.sqlGatewayUrl);
  const session = await gw.openSession({ "execution.runtime-mode": "batch", "table.local-time-zone": sandboxJobEnvironment().timeZone }, "demo-report");
  for (const s of splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), sandboxJobEnvironment()))) await gw.execute(session, withSecrets(s, sandboxJobSecrets()));
  const count = async (sql: string) => Number((await gw.execute(session, sql, {}, 300000)).rows[0]?.[0] ?? 0);

  const db = await mysql.createConnection({ host: e.mysql.host, port: e.mysql.port, user: e.mysql.user, password: c.mysql.password, database: e.mysql.database });
  const wroteShop = await shopData(db);
  say(wroteShop ? "sample shop data written to MariaDB (users, products, orders, items, payments; updates, a delete, a bad row)" : "sample shop data already present: not written again");
  const sentBefore = await count(`SELECT COUNT(*) FROM ods.tracking_events WHERE distinct_id LIKE 'demo-user-%'`);
  const sent = await trackingEvents(e.nginx.url, sentBefore > 0);
  say(sent ? `${sent} tracking events sent through ${e.nginx.url}/sa (nginx -> Vector stand-in -> Kafka)` : "demo tracking events already in ODS: not sent again");

  const dws = await mysql.createConnection({ host: e.mysql.host, port: e.mysql.port, user: e.mysql.user, password: c.mysql.password, database: e.mysql.dwsDatabase });
  const ids = `BETWEEN ${BASE} AND ${BASE + 999}`;
  // The days the demo's events fell on (their dt in ODS, the jobs' time zone): a sandbox kept from an
  // earlier day has its events on that day, and a run near midnight may span two.
  const trackingDays = async () =>
    (await gw.execute(session, "SELECT DISTINCT dt FROM ods.tracking_events WHERE distinct_id LIKE 'demo-user-%'", {}, 300000)).rows.map((r) => String(r[0])).sort();
  const dwsTrackingDays = async (t: string, days: string[]) =>
    days.length ? Number(((await dws.query(`SELECT COUNT(*) AS n FROM ${t} WHERE dt IN (?)`, [days]))[0] as { n: number }[])[0].n) : 0;
  const [dayRows] = await db.query(`SELECT DISTINCT DATE_FORMAT(created_at, '%Y-%m-%d') AS d FROM orders WHERE id ${ids}`);
  const orderDays = (dayRows as { d: string }[]).map((r) => r.d);
  const dwsOrderDays = async (t: string) =>
    orderDays.length ? Number(((await dws.query(`SELECT COUNT(*) AS n FROM ${t} WHERE dt IN (?)`, [orderDays]))[0] as { n: number }[])[0].n) : 0;
  const layers = async () => {
    const days = await trackingDays();
    return {
      "ODS  shop change log (5 tables)": await count(`SELECT (SELECT COUNT(*) FROM ods.shop_users WHERE id ${ids}) + (SELECT COUNT(*) FROM ods.shop_products WHERE id ${ids}) + (SELECT COUNT(*) FROM ods.shop_orders WHERE id ${ids}) + (SELECT COUNT(*) FROM ods.shop_order_items WHERE id ${ids}) + (SELECT COUNT(*) FROM ods.shop_payments WHERE id ${ids})`),
      "ODS  tracking events": await count("SELECT COUNT(*) FROM ods.tracking_events WHERE distinct_id LIKE 'demo-user-%'"),
      "DWD  users / products / orders": await count(`SELECT (SELECT COUNT(*) FROM dwd.users WHERE id ${ids}) + (SELECT COUNT(*) FROM dwd.products WHERE id ${ids}) + (SELECT COUNT(*) FROM dwd.orders WHERE id ${ids})`),
      "DWD  order items / payments": await count(`SELECT (SELECT COUNT(*) FROM dwd.order_items WHERE id ${ids}) + (SELECT COUNT(*) FROM dwd.payments WHERE id ${ids})`),
      "DWD  tracking events (deduplicated)": await count("SELECT COUNT(*) FROM dwd.tracking_events WHERE distinct_id LIKE 'demo-user-%'"),
      "DQ   rejected rows (with reasons)": await count(`SELECT COUNT(*) FROM dq.dwd_rejects WHERE id ${ids}`),
      [`DWS  trade + product daily (${orderDays.join(", ")})`]: (await dwsOrderDays("dws_trade_daily")) + (await dwsOrderDays("dws_product_daily")),
      [`DWS  tracking hourly/daily/funnel (${days.join(", ")})`]:
        (await dwsTrackingDays("dws_trk_event_hourly", days)) + (await dwsTrackingDays("dws_trk_event_daily", days)) + (await dwsTrackingDays("dws_trk_funnel_daily", days)),
    };
  };
  say("waiting for the rows to reach every layer (checkpoints every few seconds on the sandbox)");
  const expectedEvents = sent || sentBefore;
  const complete = (r: Record<string, number>) => Object.values(r).every((n) => n > 0) && r["ODS  tracking events"] >= expectedEvents;
  let report = await layers();
  const deadline = Date.now() + 240000;
  while (!complete(report) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5000));
    report = await layers();
  }
  // Every layer has rows; the aggregates may still be converging (a later checkpoint retracts a
  // cancelled order): report once two reads a checkpoint interval apart agree.
  for (let previous = ""; complete(report) && JSON.stringify(report) !== previous && Date.now() < deadline; ) {
    previous = JSON.stringify(report);
    await new Promise((r) => setTimeout(r, 2 * SANDBOX_CHECKPOINT_MS));
    report = await layers();
  }
  await gw.closeSession(session);
  await db.end();
  await dws.end();

  console.log("\nrows per layer");
  for (const [k, v] of Object.entries(report)) console.log(`  ${k.padEnd(48)} ${v}`);
  console.log(`
jobs (pulumi stack output jobs --stack local): ${Object.entries(jobs).map(([name, j]) => `${name} ${j.status}`).join(", ")}
where to look:
  Flink UI (jobs, checkpoints)   ${e.flink.restUrl}${e.flink.clusters.map((c) => `\n  Flink UI, ${c.name.padEnd(21)}${c.restUrl}   (${c.jobs.join(", ")})`).join("")}
  SQL Gateway                     ${e.flink.sqlGatewayUrl}   (Paimon catalog: sql/catalog.sql)
  DWS (StarRocks stand-in)        mysql -h ${e.mysql.host} -P ${e.mysql.port} -u ${e.mysql.user} ${e.mysql.dwsDatabase}
  quality scores                  psql -h ${e.postgres.host} -p ${e.postgres.port} -U ${e.postgres.databases.quality.user} ${e.postgres.databases.quality.database}
  collector                       ${e.nginx.url}/sa
  Prometheus (rules, targets)     ${e.prometheus.url}   (rtdw_quality_score: the monitor's scores)
  Alertmanager (team routing)     ${e.alertmanager.url}
  passwords                       .sandbox/conf/credentials.json
  the stack                       npm run pulumi -- preview --diff --stack local   (state: bucket rtdw-sandbox-pulumi-state)
done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (!complete(report)) {
    console.error("[demo] some layer is still empty after 4 minutes; see .sandbox/logs/flink-*.log");
    process.exit(1);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
