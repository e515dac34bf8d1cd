/**
 * Kubernetes-style resource quantities. Config accepts them as users write them in manifests
 * ("250m", "1.5", 2; "512Mi", "2Gi"); everything inside the program works in cores and MiB.
 */

const CPU = /^(\d+(?:\.\d+)?)(m?)$/;
const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/;
const MEMORY_FACTORS: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** Cores from "250m", "1.5" or 2; undefined when the text is not a CPU quantity. */
export function parseCpu(value: string | number): number | undefined {
  if (typeof value === "number") return value > 0 && Number.isFinite(value) ? value : undefined;
  const m = CPU.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]) / (m[2] === "m" ? 1000 : 1);
  return n > 0 ? n : undefined;
}

/** MiB from "512Mi", "2Gi" or a number of MiB; undefined when the text is not a memory quantity. */
export function parseMemoryMiB(value: string | number): number | undefined {
  if (typeof value === "number") return value > 0 && Number.isFinite(value) ? value : undefined;
  const m = MEMORY.exec(value.trim());
  if (!m || !m[2]) return undefined; // a bare number of bytes is almost always a mistake
  const n = Number(m[1]) * MEMORY_FACTORS[m[2]];
  return n > 0 ? n : undefined;
}

/** "250m" / "2" for a Kubernetes manifest. */
export function formatCpu(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

/** "512Mi" for a Kubernetes manifest. */
export function formatMemory(mib: number): string {
  return Number.isInteger(mib / 1024) ? `${mib / 1024}Gi` : `${Math.round(mib)}Mi`;
}

const DURATION_UNITS: Record<string, number> = {
  ...Object.fromEntries(["ms", "milli", "millis", "millisecond", "milliseconds"].map((u) => [u, 1])),
  ...Object.fromEntries(["s", "sec", "secs", "second", "seconds"].map((u) => [u, 1000])),
  ...Object.fromEntries(["m", "min", "minute", "minutes"].map((u) => [u, 60_000])),
  ...Object.fromEntries(["h", "hour", "hours"].map((u) => [u, 3_600_000])),
  ...Object.fromEntries(["d", "day", "days"].map((u) => [u, 86_400_000])),
};

/**
 * Milliseconds from a duration as Flink reads one ("500 ms", "60s", "2 min", "1h"; a bare number is
 * milliseconds); undefined when the text is not one.
 */
export function parseDurationMs(v: string): number | undefined {
  const m = /^(\d+)\s*([a-z]*)$/.exec(v.trim());
  const factor = m && DURATION_UNITS[m[2] || "ms"];
  return factor ? Number(m[1]) * factor : undefined;
}
