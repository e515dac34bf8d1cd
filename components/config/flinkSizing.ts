import { JobSpec } from "./jobTable";

/** How a stack scales the job table (rtdw:flink). */
export interface FlinkScaling {
  /** Cap on every job's parallelism (dev runs each job at 1). */
  readonly maxParallelism?: number;
  /** Fraction of the table's per-slot memory a stack gives each slot (dev is a laptop). */
  readonly memoryScale: number;
  readonly slotsPerTaskManager: number;
  /** Free slots kept for restarts and rescaling. */
  readonly spareSlots: number;
  /** Every job's checkpoint interval on this stack, instead of the job table's (the sandbox checkpoints every few seconds). */
  readonly checkpointIntervalMs?: number;
}

export interface FlinkSizing {
  /** Each job's parallelism on this stack. */
  readonly parallelism: Readonly<Record<string, number>>;
  /** Slots the jobs occupy, and the slots the cluster offers. */
  readonly requiredSlots: number;
  readonly slots: number;
  readonly taskManagers: number;
  readonly slotsPerTaskManager: number;
  readonly taskManagerMemoryMiB: number;
}

const roundUp = (v: number, step: number) => Math.ceil(v / step) * step;

/**
 * The session cluster the job table needs. Per-job memory cannot be set in a session cluster (it is
 * cluster-wide), so the pool is sized by slots: every slot gets the table's average per-subtask
 * memory (sum of parallelism x TaskManager memory over the slots), and TaskManagers are as many as
 * the slots need. Heap is shared within a TaskManager, so the average, not the maximum, is what the
 * pool must hold.
 */
export function flinkSizing(jobs: readonly JobSpec[], s: FlinkScaling): FlinkSizing {
  const parallelism = Object.fromEntries(jobs.map((j) => [j.name, Math.min(j.parallelism, s.maxParallelism ?? j.parallelism)]));
  const requiredSlots = jobs.reduce((n, j) => n + parallelism[j.name], 0);
  const memoryTimesSlots = jobs.reduce((n, j) => n + parallelism[j.name] * j.taskManagerMemoryMiB, 0);
  const perSlotMiB = (memoryTimesSlots / requiredSlots) * s.memoryScale;
  const taskManagers = Math.ceil((requiredSlots + s.spareSlots) / s.slotsPerTaskManager);
  return {
    parallelism,
    requiredSlots,
    slots: taskManagers * s.slotsPerTaskManager,
    taskManagers,
    slotsPerTaskManager: s.slotsPerTaskManager,
    taskManagerMemoryMiB: roundUp(perSlotMiB * s.slotsPerTaskManager, 128),
  };
}
