/**
 * The Vector stand-in's `aws_s3` sink for the raw archive (labelled: Vector cannot run here), doing
 * what the rendered sink config says, the way Vector 0.48's sink does it (src/sinks/aws_s3, read
 * 2026-12-06): lines are encoded JSON, newline-delimited, gzipped; a batch is written when it reaches
 * `batch.max_bytes` or `batch.timeout_secs` after its first line; one object per batch and key prefix
 * (strftime over the line's `timestamp`, UTC), named `<prefix><unix seconds>-<uuid>.<extension>`; a
 * failed PUT is retried with backoff and the lines stay in the disk buffer meanwhile; a full buffer
 * (`when_full: drop_newest`) drops the new lines and counts them, and the request is still answered:
 * never kinder than Vector, whose drop also leaves the request's status Delivered.
 *
 * The writer's credentials are scoped on the real MinIO to the rendered archive writer policy (an STS
 * AssumeRole session policy over the sandbox's root identity), so a PUT outside `raw/` is refused there
 * as it would be for the stacks' archive user.
 */
import { randomUUID } from "crypto";
import * as zlib from "zlib";
import { DiskBuffer } from "./diskBuffer";

export interface ArchiveSinkConfig {
  readonly bucket: string;
  readonly key_prefix: string;
  readonly filename_extension: string;
  readonly batch: { readonly max_bytes: number; readonly timeout_secs: number };
  readonly buffer: { readonly max_size: number; readonly when_full: "drop_newest" };
}

export interface ArchiveCounters {
  /** Lines written to object storage (Vector: component_sent_events_total). */
  written: number;
  /** Lines dropped because the buffer was full (Vector: buffer_discarded_events_total). */
  dropped: number;
  /** Failed PUTs (Vector: component_errors_total). */
  errors: number;
}

/** Vector's strftime over a UTC time, for the specifiers the archive's prefix uses. */
export function strftimeUtc(format: string, at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const fields: Record<string, string> = {
    Y: String(at.getUTCFullYear()),
    m: two(at.getUTCMonth() + 1),
    d: two(at.getUTCDate()),
    H: two(at.getUTCHours()),
    M: two(at.getUTCMinutes()),
    S: two(at.getUTCSeconds()),
    s: String(Math.floor(at.getTime() / 1000)),
  };
  return format.replace(/%([YmdHMSs%])/g, (_, f: string) => (f === "%" ? "%" : fields[f]));
}

type Put = (bucket: string, key: string, body: Buffer) => Promise<void>;

/** The archive's disk buffer (append-only file, acknowledged offset) and its batching writer. */
export class ArchiveSink {
  readonly counters: ArchiveCounters = { written: 0, dropped: 0, errors: 0 };
  private readonly buffer: DiskBuffer;
  private stopping = false;
  private readonly running: Promise<void>;

  constructor(dir: string, private readonly config: ArchiveSinkConfig, private readonly put: Put) {
    this.buffer = new DiskBuffer(dir, "archive");
    this.running = this.run();
  }

  /** Appends the lines, synced; when they do not fit, drops them (drop_newest) and counts them. */
  append(lines: readonly string[]): void {
    if (!lines.length) return;
    if (this.buffer.pending() + Buffer.byteLength(lines.map((l) => l + "\n").join("")) > this.config.buffer.max_size) {
      this.counters.dropped += lines.length;
      return;
    }
    this.buffer.write(lines);
  }

  /** Writes batches as they fill or time out; a failed write is retried, the lines kept. */
  private async run(): Promise<void> {
    let firstSeen: number | undefined;
    let delay = 500;
    while (!this.stopping) {
      const { lines, end, bytes } = this.buffer.next(Number.MAX_SAFE_INTEGER, this.config.batch.max_bytes);
      if (!lines.length) {
        firstSeen = undefined;
        await sleep(200);
        continue;
      }
      firstSeen ??= Date.now();
      const full = bytes >= this.config.batch.max_bytes;
      if (!full && Date.now() - firstSeen < this.config.batch.timeout_secs * 1000) {
        await sleep(200);
        continue;
      }
      try {
        // One object per key prefix, as Vector partitions a batch by its rendered key.
        const byPrefix = new Map<string, string[]>();
        for (const l of lines) {
          const ts = new Date(String((JSON.parse(l) as { timestamp?: string }).timestamp ?? new Date().toISOString()));
          const prefix = strftimeUtc(this.config.key_prefix, ts);
          byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), l]);
        }
        for (const [prefix, group] of byPrefix) {
          const key = `${prefix}${Math.floor(Date.now() / 1000)}-${randomUUID()}.${this.config.filename_extension}`;
          await this.put(this.config.bucket, key, zlib.gzipSync(group.map((l) => l + "\n").join("")));
        }
        this.counters.written += lines.length;
        this.buffer.ack(end);
        firstSeen = undefined;
        delay = 500;
      } catch (e) {
        this.counters.errors++;
        process.stderr.write(`collector: raw archive write failed, ${lines.length} lines stay buffered: ${(e as Error).message}\n`);
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
