import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FLINK_HOME } from "../../sandbox/install";

/**
 * parse_tracking_event's fast paths (CompactEvent: Vector's compact shape read without Jackson, and
 * properties copied as their bytes) against its Jackson reading, which tracking-parse.test.ts holds to
 * Flink's JSON_VALUE / JSON_QUERY: a differential fuzz (tests/compact-event-fuzz) over generated events
 * in and just outside that shape and random byte mutations of them, run on the function jar the sandbox
 * built, with Flink's own classes. Every row must be equal byte for byte.
 */
const SOURCE = path.resolve(__dirname, "../compact-event-fuzz/rtdw/flink/CompactEventFuzz.java");
const CASES = 200_000;

interface FuzzResult {
  readonly cases: number;
  readonly differing: number;
  readonly compact: number;
  readonly examples: string[];
}

function runFuzz(seed: number): FuzzResult {
  const lib = path.join(FLINK_HOME, "lib");
  const classpath = fs.readdirSync(lib).filter((f) => f.endsWith(".jar")).map((f) => path.join(lib, f)).join(path.delimiter);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "compact-event-fuzz-"));
  try {
    execFileSync("javac", ["-nowarn", "-encoding", "UTF-8", "-cp", classpath, "-d", out, SOURCE], { stdio: ["ignore", "pipe", "pipe"] });
    const stdout = execFileSync("java", ["-cp", [out, classpath].join(path.delimiter), "rtdw.flink.CompactEventFuzz", String(CASES), String(seed)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split("\n").pop()!) as FuzzResult;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

describe("parse_tracking_event's compact reader against its Jackson reading (differential fuzz on the built jar)", () => {
  it.each([1, 2])("gives the same row for every generated or mutated payload (seed %i)", (seed) => {
    const r = runFuzz(seed);
    expect(r.cases).toBe(CASES);
    expect(r.examples).toEqual([]);
    expect(r.differing).toBe(0);
    // The fuzz must keep exercising the fast path, and the fallback: neither share may collapse.
    expect(r.compact).toBeGreaterThan(CASES * 0.25);
    expect(r.compact).toBeLessThan(CASES * 0.75);
  });
});
