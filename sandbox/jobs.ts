import { existingJobCredentials, existingJobEndpoints } from "../components/platform/existing";
import { jobEnvironment, JobCredentials } from "../components/jobs/environment";
import { JobEnvironment } from "../components/jobs/render";
import { SANDBOX_TIME_ZONE } from "./versions";
import { platformDescription } from "./index";

/**
 * The job environment of the local sandbox, exactly as the `local` stack renders it from the platform
 * file: the stacks' SQL runs unchanged against the sandbox's services. Only the sinks differ: StarRocks
 * cannot run here, so the DWS tables are MariaDB tables with StarRocks' columns and keys (the JDBC
 * connector upserts them as the StarRocks connector would). Tests read Paimon with it.
 */
export function sandboxJobEnvironment(timeZone = SANDBOX_TIME_ZONE): JobEnvironment {
  return jobEnvironment(existingJobEndpoints(platformDescription(), timeZone));
}

export function sandboxJobSecrets(): JobCredentials {
  return existingJobCredentials(platformDescription());
}

/** The local stack checkpoints every few seconds (Pulumi.local.yaml: rtdw:flink.checkpointIntervalMs), so rows show up fast. */
export const SANDBOX_CHECKPOINT_MS = 5000;
