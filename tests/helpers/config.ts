import { ConfigError } from "../../components/config";

/** The message of the ConfigError `fn` throws; fails the test when it throws nothing or something else. */
export function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

/** The stack file's `rtdw:` settings as runStack takes them (objects as JSON; secure values left out: tests supply their own). */
export function stackFileConfig(stack: string): Record<string, string> {
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
  const YAML = require("yaml") as typeof import("yaml");
  const doc = YAML.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (!k.startsWith("rtdw:")) continue;
    if (v && typeof v === "object" && "secure" in v) continue;
    out[k.slice("rtdw:".length)] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}
