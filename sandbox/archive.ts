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
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

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
  private readonly file: string;
  private readonly ackFile: string;
  private acked: number;
  private stopping = false;
  private readonly running: Promise<void>;

  constructor(dir: string, private readonly config: ArchiveSinkConfig, private readonly put: Put) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, "archive.ndjson");
    this.ackFile = path.join(dir, "archive.acked");
    if (!fs.existsSync(this.file)) fs.writeFileSync(this.file, "");
    this.acked = fs.existsSync(this.ackFile) ? Number(fs.readFileSync(this.ackFile, "utf8")) || 0 : 0;
    this.running = this.run();
  }

  private pending(): number {
    return fs.statSync(this.file).size - this.acked;
  }

  /** Appends the lines, synced; when they do not fit, drops them (drop_newest) and counts them. */
  append(lines: readonly string[]): void {
    if (!lines.length) return;
    const data = lines.map((l) => l + "\n").join("");
    if (this.pending() + Buffer.byteLength(data) > this.config.buffer.max_size) {
      this.counters.dropped += lines.length;
      return;
    }
    const fd = fs.openSync(this.file, "a");
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Writes batches as they fill or time out; a failed write is retried, the lines kept. */
  private async run(): Promise<void> {
    let firstSeen: number | undefined;
    let delay = 500;
    while (!this.stopping) {
      const { lines, end, bytes } = this.read(this.config.batch.max_bytes);
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
        this.ack(end);
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

  private read(maxBytes: number): { lines: string[]; end: number; bytes: number } {
    const size = fs.statSync(this.file).size;
    if (size <= this.acked) return { lines: [], end: this.acked, bytes: 0 };
    const fd = fs.openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(Math.min(size - this.acked, maxBytes + 1024 * 1024));
      const n = fs.readSync(fd, buf, 0, buf.length, this.acked);
      const text = buf.subarray(0, n).toString("utf8");
      const lines: string[] = [];
      let at = 0;
      let bytes = 0;
      for (let nl = text.indexOf("\n"); nl >= 0 && bytes < maxBytes; nl = text.indexOf("\n", at)) {
        const line = text.slice(at, nl);
        lines.push(line);
        bytes += Buffer.byteLength(line) + 1;
        at = nl + 1;
      }
      return { lines, end: this.acked + Buffer.byteLength(text.slice(0, at)), bytes };
    } finally {
      fs.closeSync(fd);
    }
  }

  private ack(end: number): void {
    this.acked = end;
    if (this.acked >= fs.statSync(this.file).size) {
      fs.writeFileSync(this.file, "");
      this.acked = 0;
    }
    fs.writeFileSync(this.ackFile, String(this.acked));
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
