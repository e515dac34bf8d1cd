import { JobSpec } from "./jobTable";
import type { Sizing } from "./services";

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
  /**
   * "per-job": each row of the job table on a session cluster of its own, sized by its row (the seeds'
   * job model; test and prod). "shared": one session cluster for every job (dev, a laptop).
   */
  readonly clusters: "per-job" | "shared";
}

/** One job's own session cluster, sized from its row of the job table as this stack scales it. */
export interface JobCluster {
  readonly job: string;
  /** Its name in the platform (Deployments, Services, HA cluster id): flink-<short job name>. */
  readonly name: string;
  readonly parallelism: number;
  /** Slots offered: the parallelism plus the stack's spare slots per job. */
  readonly slots: number;
  readonly taskManagers: number;
  readonly slotsPerTaskManager: number;
  /** Each TaskManager's memory: the row's per-slot memory times its slots, scaled. */
  readonly taskManagerMemoryMiB: number;
  /** The row's JobManager memory, scaled. */
  readonly jobManagerMemoryMiB: number;
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

/** What Flink 1.20 needs at least: a JobManager below 768 MiB or a TaskManager below 1 GiB of process memory does not start with the defaults. */
export const MIN_JOB_MANAGER_MIB = 768;
export const MIN_TASK_MANAGER_MIB = 1024;

/** The Kubernetes name of a job's cluster: flink-<job without the rt- prefix>, e.g. flink-dw-dwd-transform. */
export const jobClusterName = (job: string) => `flink-${job.replace(/^rt-/, "")}`;

/**
 * Each job's own session cluster: its row's JobManager memory, and TaskManagers holding exactly the
 * slots its parallelism needs (plus `spareSlots`, per job here), each slot with the row's TaskManager
 * memory. A job never shares a TaskManager: one job's OOM or restart storm stays in its cluster.
 */
export function jobClusters(jobs: readonly JobSpec[], s: Omit<FlinkScaling, "clusters">): JobCluster[] {
  return jobs.map((j) => {
    const parallelism = Math.min(j.parallelism, s.maxParallelism ?? j.parallelism);
    const slots = parallelism + s.spareSlots;
    const taskManagers = Math.ceil(slots / s.slotsPerTaskManager);
    const slotsPerTaskManager = Math.ceil(slots / taskManagers);
    return {
      job: j.name,
      name: jobClusterName(j.name),
      parallelism,
      slots: taskManagers * slotsPerTaskManager,
      taskManagers,
      slotsPerTaskManager,
      taskManagerMemoryMiB: Math.max(MIN_TASK_MANAGER_MIB, roundUp(j.taskManagerMemoryMiB * s.memoryScale * slotsPerTaskManager, 128)),
      jobManagerMemoryMiB: Math.max(MIN_JOB_MANAGER_MIB, roundUp(j.jobManagerMemoryMiB * s.memoryScale, 128)),
    };
  });
}

/**
 * The session cluster the job table needs. Per-job memory cannot be set in a session cluster (it is
 * cluster-wide), so the pool is sized by slots: every slot gets the table's average per-subtask
 * memory (sum of parallelism x TaskManager memory over the slots), and TaskManagers are as many as
 * the slots need. Heap is shared within a TaskManager, so the average, not the maximum, is what the
 * pool must hold.
 */
export function flinkSizing(jobs: readonly JobSpec[], s: Omit<FlinkScaling, "clusters">): FlinkSizing {
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

/**
 * The Kubernetes sizing of a job's cluster: its JobManagers (the profile's replicas, for HA, and CPU;
 * the row's memory) and TaskManagers (as many as its slots need; the profile's CPU per TaskManager of
 * slotsPerTaskManager slots, in proportion to the slots this one holds).
 */
export function jobClusterSizing(c: JobCluster, template: { readonly jobManager: Sizing; readonly taskManager: Sizing }, s: Pick<FlinkScaling, "slotsPerTaskManager">): { jobManager: Sizing; taskManager: Sizing } {
  const share = c.slotsPerTaskManager / s.slotsPerTaskManager;
  const cpu = (v: number) => Math.max(0.1, Math.round(v * share * 100) / 100);
  return {
    jobManager: { ...template.jobManager, memoryMiB: c.jobManagerMemoryMiB },
    taskManager: { ...template.taskManager, replicas: c.taskManagers, memoryMiB: c.taskManagerMemoryMiB, cpuRequest: cpu(template.taskManager.cpuRequest), cpuLimit: cpu(template.taskManager.cpuLimit) },
  };
}
