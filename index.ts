import { loadConfig } from "./components/config";
import { Platform } from "./components/stack";

// Config is read and validated before any resource exists: a wrong value fails preview here.
const config = loadConfig();
const platform = new Platform("rtdw", config);

/** Hosts, ports, buckets and users: safe to read in `pulumi stack output`. */
export const endpoints = platform.endpoints;
/** Passwords and keys: Pulumi secrets (`pulumi stack output credentials --show-secrets`). */
export const credentials = platform.credentials;
/** What the stack reserves: total memory limit and CPU requests, every replica counted. */
export const sizing = platform.sizing;
/** Table-level lineage of every job, read from the job SQL: which tables each job reads and writes. */
export const lineage = platform.lineage;
