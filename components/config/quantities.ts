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
