import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import type { CollectorLimits } from "../../components/config/collectorLimits";
import { renderNginxConf } from "../../components/collector/nginx";
import { freePort } from "../../sandbox/process";
import { kafkaClient } from "./sandbox";

/** One HTTP exchange with everything the assertions look at, and how long it took. */
export function call(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) {
  const t0 = process.hrtime.bigint();
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; ms: number }>((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method ?? "GET", headers: { ...(init.body !== undefined ? { "content-length": Buffer.byteLength(init.body) } : {}), ...init.headers }, timeout: 30000, agent: false },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} in 30 s`)));
    req.end(init.body);
  });
}

export type TopicRecord = Record<string, unknown>;

/**
 * Reads topics from the beginning and keeps the JSON records `keep` accepts, until `done` says
 * enough arrived or nothing new came for `quietMs` after the deadline's first half.
 */
export async function readTopics(topics: readonly string[], keep: (topic: string, v: TopicRecord) => boolean, done: (found: Map<string, TopicRecord[]>) => boolean, timeoutMs = 60000) {
  const consumer = kafkaClient().consumer({ groupId: `collector-test-${Date.now()}-${Math.random()}`, maxBytesPerPartition: 8 * 1024 * 1024 });
  const found = new Map<string, TopicRecord[]>(topics.map((t) => [t, []]));
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    consumer.run({
      eachMessage: async ({ topic, message }) => {
        let value: TopicRecord;
        try {
          value = JSON.parse(message.value!.toString());
        } catch {
          return;
        }
        if (keep(topic, value)) found.get(topic)!.push(value);
        if (done(found)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  }).finally(() => consumer.disconnect());
  return found;
}

/** Resident memory of a process and its children (MiB), from /proc: what the kernel charges them. */
export function rssMiB(rootPid: number): number {
  const children = (pid: number): number[] => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  let kib = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kib += Number(m[1]);
    } catch {
      continue;
    }
    stack.push(...children(pid));
  }
  return kib / 1024;
}

/** Samples the peak of rssMiB for each named process while `work` runs. */
export async function peakMemory<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; peakMiB: Record<string, number> }> {
  const peakMiB = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const sample = () => {
    for (const [k, pid] of Object.entries(pids)) peakMiB[k] = Math.max(peakMiB[k], rssMiB(pid));
  };
  const timer = setInterval(sample, 200);
  try {
    sample();
    const result = await work();
    sample();
    return { result, peakMiB };
  } finally {
    clearInterval(timer);
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A private real Nginx with the stacks' rendered config, in front of an upstream the test chooses. */
export interface TestNginx {
  readonly port: number;
  readonly statusPort: number;
  readonly dir: string;
  stop(): void;
}

export async function startNginx(upstream: string, limits: CollectorLimits): Promise<TestNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-nginx-"));
  const [port, statusPort] = [await freePort(), await freePort()];
  fs.chmodSync(dir, 0o777);
  for (const t of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.mkdirSync(path.join(dir, t), { mode: 0o777 });
  const conf = renderNginxConf({
    listen: `127.0.0.1:${port}`,
    statusListen: `127.0.0.1:${statusPort}`,
    upstream,
    accessLog: path.join(dir, "access.log"),
    errorLog: path.join(dir, "error.log"),
    pidFile: path.join(dir, "nginx.pid"),
    tempDir: dir,
    trustedProxies: ["127.0.0.1/32"],
    limits,
    workers: 1,
  });
  fs.writeFileSync(path.join(dir, "nginx.conf"), (process.getuid?.() === 0 ? "user nobody nogroup;\n" : "") + conf);
  const nginx = spawn("nginx", ["-g", "daemon off;", "-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "inherit" });
  const stop = () => {
    nginx.kill("SIGQUIT");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 50; i++) {
    if (await call(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false)) return { port, statusPort, dir, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = fs.existsSync(path.join(dir, "error.log")) ? fs.readFileSync(path.join(dir, "error.log"), "utf8") : "";
  stop();
  throw new Error(`nginx did not start: ${log}`);
}

