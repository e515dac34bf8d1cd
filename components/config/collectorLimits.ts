/**
 * The public collector's limits (`rtdw:collector`) and what happens past each. Written once here;
 * Nginx's config, Vector's program, the docs and the tests read them from this module.
 *
 * Past a limit nothing is lost silently: a request is either refused with 503 + Retry-After, which
 * the Sensors SDKs answer by keeping the batch and retrying, or its events become one dead-letter
 * record naming the limit. The SDKs never see a 4xx (they drop a batch on 4xx).
 */
export interface CollectorLimits {
  /** Largest request body Nginx reads; a bigger request becomes a dead-letter record (its body is not read). */
  readonly maxBodyKiB: number;
  /** Largest decompressed batch (gzip=1); a batch that could inflate past it is dead-lettered undecompressed. */
  readonly maxDecompressedKiB: number;
  /** Most events one request may carry; a bigger batch becomes one dead-letter record. */
  readonly maxEventsPerBatch: number;
  /** Sustained requests per second per client address; beyond it (and the burst) 503 + Retry-After. */
  readonly requestsPerSecond: number;
  /** Requests per client address allowed above the rate before refusing. */
  readonly burst: number;
  /** Open connections per client address; beyond it 503 + Retry-After. */
  readonly connectionsPerClient: number;
}

/** Generous for SDK traffic (an app flushes a batch every 15 s or 100 events) and for carrier NATs. */
export const DEFAULT_COLLECTOR_LIMITS: CollectorLimits = {
  maxBodyKiB: 1024,
  maxDecompressedKiB: 32 * 1024,
  maxEventsPerBatch: 1000,
  requestsPerSecond: 100,
  burst: 400,
  connectionsPerClient: 64,
};

/** What a refused request's Retry-After tells the SDK to wait, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

/** Longest request line (a GET's query string) Nginx reads, never more than the body limit. */
export const MAX_REQUEST_LINE_KIB = 256;
export const requestLineKiB = (l: CollectorLimits) => Math.min(l.maxBodyKiB, MAX_REQUEST_LINE_KIB);

/** Deflate expands a stream at most 1032 times (RFC 1951: 258 bytes from one 2-bit code at best). */
export const DEFLATE_MAX_RATIO = 1032;

/**
 * The largest gzip payload that cannot inflate past maxDecompressed, whatever it claims: checked
 * before decompressing, so decompression never allocates more than the cap (a gzip bomb is refused
 * by its size, not after inflating it). A payload's own size trailer can lie; this bound cannot.
 */
export function maxGzipBytes(l: CollectorLimits): number {
  return Math.floor((l.maxDecompressedKiB * 1024) / DEFLATE_MAX_RATIO);
}

/** Problems with a set of limits, each naming the key; empty when usable. */
export function collectorLimitProblems(l: CollectorLimits, key: (k: string) => string): string[] {
  const problems: string[] = [];
  if (maxGzipBytes(l) < 4096) {
    problems.push(`${key("collector.maxDecompressed")}: ${l.maxDecompressedKiB} KiB lets no gzip batch over ${maxGzipBytes(l)} bytes through (deflate may expand 1032x); use at least 4Mi`);
  }
  if (l.burst < 0 || !Number.isInteger(l.burst)) problems.push(`${key("collector.burst")}: expected a whole number of requests, 0 or more`);
  return problems;
}

const size = (kib: number) => (kib % 1024 === 0 ? `${kib / 1024}Mi` : `${kib}Ki`);

/** The README's table of the collector's limits (defaults from DEFAULT_COLLECTOR_LIMITS) and what happens past each. */
export function renderCollectorLimitsDoc(l: CollectorLimits = DEFAULT_COLLECTOR_LIMITS): string {
  return [
    "| limit (default) | past it |",
    "|---|---|",
    `| body \`maxBody\` (${size(l.maxBodyKiB)}); GET line ${size(requestLineKiB(l))} | not read; one dead-letter record: size, limit, project |`,
    `| gzip batch that could inflate past \`maxDecompressed\` (${size(l.maxDecompressedKiB)}) | not decompressed (checked before inflating: deflate expands ≤ ${DEFLATE_MAX_RATIO}×); dead-letter |`,
    `| \`maxEventsPerBatch\` (${l.maxEventsPerBatch}) | the request becomes one dead-letter record |`,
    `| \`requestsPerSecond\` (${l.requestsPerSecond}) + \`burst\` (${l.burst}), \`connectionsPerClient\` (${l.connectionsPerClient}), per client address | \`503\` + \`Retry-After: ${RETRY_AFTER_SECONDS}\` |`,
  ].join("\n");
}
