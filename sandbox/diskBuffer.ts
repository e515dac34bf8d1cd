import * as fs from "fs";
import * as path from "path";

/**
 * A sink's disk buffer as Vector keeps it, for the stand-in's sinks: records appended and synced
 * before the request is answered, read in order from an acknowledged offset that survives restarts.
 * What happens when it is full is the sink's `when_full`, decided by the caller from `pending()`.
 */
export class DiskBuffer {
  private readonly file: string;
  private readonly ackFile: string;
  private acked: number;

  constructor(dir: string, name = "buffer") {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${name}.ndjson`);
    this.ackFile = path.join(dir, `${name}.acked`);
    if (!fs.existsSync(this.file)) fs.writeFileSync(this.file, "");
    this.acked = fs.existsSync(this.ackFile) ? Number(fs.readFileSync(this.ackFile, "utf8")) || 0 : 0;
  }

  /** Bytes written and not yet acknowledged. */
  pending(): number {
    return fs.statSync(this.file).size - this.acked;
  }

  /** Appends the records and syncs them to disk. */
  write(lines: readonly string[]): void {
    const fd = fs.openSync(this.file, "a");
    try {
      fs.writeSync(fd, lines.map((l) => l + "\n").join(""));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Whole records after the acknowledged offset (up to `maxLines` and about `maxBytes`), and the offset after them. */
  next(maxLines: number, maxBytes = 4 * 1024 * 1024): { lines: string[]; end: number; bytes: number } {
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
      for (let nl = text.indexOf("\n"); nl >= 0 && lines.length < maxLines && bytes < maxBytes; nl = text.indexOf("\n", at)) {
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

  /** Marks everything before `end` delivered; a fully delivered file past 16 MiB starts over. */
  ack(end: number): void {
    this.acked = end;
    if (this.acked >= fs.statSync(this.file).size && this.acked > 16 * 1024 * 1024) {
      fs.writeFileSync(this.file, "");
      this.acked = 0;
    }
    fs.writeFileSync(this.ackFile, String(this.acked));
  }
}
