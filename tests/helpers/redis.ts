import { spawnSync } from "child_process";
import { sandbox } from "./sandbox";

/** One redis-cli command against the sandbox's Redis; the password goes by environment, not argv. */
export async function runRedis(args: string[]): Promise<string> {
  const { endpoints, credentials } = sandbox();
  const r = spawnSync("redis-cli", ["--no-auth-warning", "-h", endpoints.redis.host, "-p", String(endpoints.redis.port), ...args], {
    env: { ...process.env, REDISCLI_AUTH: credentials.redis.password },
    encoding: "utf8",
  });
  if (r.status !== 0 || /^(ERR|WRONGPASS|NOAUTH)/m.test(r.stdout)) throw new Error(`redis-cli ${args[0]}: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}
