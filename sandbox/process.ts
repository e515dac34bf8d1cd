import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ensureDir, LOGS, RUN } from "./paths";

export interface ProcessSpec {
  /** Service name: the pid file, the log file and every message use it. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Run as this system user (PostgreSQL and MariaDB refuse to run as root). */
  readonly user?: string;
}

export const logFile = (name: string) => path.join(LOGS, `${name}.log`);
const pidFile = (name: string) => path.join(RUN, `${name}.pid`);

export function userIds(user: string): { uid: number; gid: number } {
  const line = fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`system user "${user}" does not exist (is its Debian package installed?)`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export function chownR(dir: string, user: string) {
  const { uid, gid } = userIds(user);
  spawnSync("chown", ["-R", `${uid}:${gid}`, dir]);
}

/** The pid of a running service started by `up`, or undefined. */
export function runningPid(name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(name), "utf8").trim());
    process.kill(pid, 0);
    // A killed process nobody has reaped yet (where PID 1 does not reap) still answers signal 0.
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    if (/^\d+ \(.*\) Z/.test(stat)) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

/** Starts a service detached, its output appended to logs/<name>.log; records its pid. */
/** When a process started, in epoch milliseconds (from /proc: its start in clock ticks after boot, and boot time). */
export function processStartedAt(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // the command name may hold spaces
    const ticks = Number(fields[19]); // field 22 of stat, the 20th after the name
    const boot = Number(/^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))![1]);
    const hz = 100; // USER_HZ: 100 on every Linux ABI Node runs on
    return (boot + ticks / hz) * 1000;
  } catch {
    return undefined;
  }
}

export function start(spec: ProcessSpec): number {
  ensureDir(LOGS);
  ensureDir(RUN);
  const out = fs.openSync(logFile(spec.name), "a");
  const ids = spec.user && process.getuid?.() === 0 ? userIds(spec.user) : undefined;
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ["ignore", out, out],
    uid: ids?.uid,
    gid: ids?.gid,
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  child.unref();
  fs.writeFileSync(pidFile(spec.name), String(child.pid));
  return child.pid;
}

/** Stops exactly the process (group) `start` recorded: TERM, then KILL after the grace period. */
export async function stop(name: string, o: { signal?: NodeJS.Signals; graceMs?: number; last?: NodeJS.Signals } = {}): Promise<boolean> {
  const graceMs = o.graceMs ?? 30000;
  const pid = runningPid(name);
  try {
    fs.rmSync(pidFile(name), { force: true });
  } catch {
    /* already gone */
  }
  if (pid === undefined) return false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* exited */
      }
    }
  };
  signal(o.signal ?? "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(200);
  }
  signal(o.last ?? "SIGKILL");
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when something already listens on 127.0.0.1:port. */
/** A port nothing listens on now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(true));
    srv.once("listening", () => srv.close(() => resolve(false)));
    srv.listen(port, "127.0.0.1");
  });
}

/** Polls a health check until it passes; fails naming the service and its log. */
export async function waitHealthy(name: string, check: () => Promise<boolean>, timeoutMs: number, pid?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
      lastError = "it answered, not healthy yet";
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (pid !== undefined && !alive(pid)) {
      throw new Error(`${name} exited before becoming healthy; see its log: ${logFile(name)}\n${tail(logFile(name))}`);
    }
    await sleep(500);
  }
  throw new Error(
    `${name} did not become healthy within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (last check: ${lastError})` : ""}; see its log: ${logFile(name)}\n${tail(logFile(name))}`,
  );
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).map((l) => `  | ${l}`).join("\n");
  } catch {
    return "  | (no log)";
  }
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(command: string, args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; user?: string; input?: string } = {}): string {
  const ids = opts.user && process.getuid?.() === 0 ? userIds(opts.user) : undefined;
  const r = spawnSync(command, [...args], {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    uid: ids?.uid,
    gid: ids?.gid,
    input: opts.input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${r.status}):\n${(r.stderr || r.stdout || "").slice(-4000)}`);
  return r.stdout;
}
