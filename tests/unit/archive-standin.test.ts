import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { ArchiveSink, ArchiveSinkConfig, strftimeUtc } from "../../sandbox/archive";
import { RAW_ARCHIVE_PREFIX } from "../../components/collector/vector";

// The stand-in's aws_s3 sink must behave as Vector's does (sandbox/archive.ts): these pin the parts a
// test on the sandbox cannot provoke without taking MinIO away from every other suite.
describe("the Vector stand-in's raw archive sink (labelled stand-in)", () => {
  const config = (o: Partial<ArchiveSinkConfig> = {}): ArchiveSinkConfig => ({
    bucket: "b",
    key_prefix: RAW_ARCHIVE_PREFIX,
    filename_extension: "ndjson.gz",
    batch: { max_bytes: 1024 * 1024, timeout_secs: 0 },
    buffer: { max_size: 1024 * 1024, when_full: "drop_newest" },
    ...o,
  });
  const line = (at: string, n: number) => JSON.stringify({ event_id: `e${n}`, timestamp: at, record: "{}" });
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-archive-"));
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  };

  it("renders the key prefix from the line's own time, in UTC", () => {
    expect(strftimeUtc(RAW_ARCHIVE_PREFIX, new Date("2026-12-06T23:59:59.999+08:00"))).toBe("raw/dt=2026-12-06/hr=15/");
  });

  it("writes one gzipped NDJSON object per hour prefix of a batch", async () => {
    const puts: { key: string; lines: string[] }[] = [];
    const sink = new ArchiveSink(dir(), config(), async (_b, key, body) => void puts.push({ key, lines: zlib.gunzipSync(body).toString().trim().split("\n") }));
    sink.append([line("2026-12-06T10:59:59Z", 1), line("2026-12-06T11:00:00Z", 2), line("2026-12-06T10:30:00Z", 3)]);
    await until(() => sink.counters.written === 3);
    await sink.close();
    expect(puts.map((p) => [p.key.replace(/\d+-[0-9a-f-]{36}/, "<ts>-<uuid>"), p.lines.map((l) => JSON.parse(l).event_id)]).sort()).toEqual([
      ["raw/dt=2026-12-06/hr=10/<ts>-<uuid>.ndjson.gz", ["e1", "e3"]],
      ["raw/dt=2026-12-06/hr=11/<ts>-<uuid>.ndjson.gz", ["e2"]],
    ]);
  });

  it("object storage away: lines stay buffered and are retried; once the buffer is full new lines are dropped and counted, and append never waits", async () => {
    let up = false;
    const written: string[] = [];
    const big = "x".repeat(300);
    // Each line is about 370 bytes: three fit.
    const sink = new ArchiveSink(dir(), config({ buffer: { max_size: 1200, when_full: "drop_newest" } }), async (_b, _k, body) => {
      if (!up) throw new Error("connection refused");
      written.push(...zlib.gunzipSync(body).toString().trim().split("\n"));
    });
    const l = (n: number) => JSON.stringify({ event_id: `e${n}`, timestamp: "2026-12-06T10:00:00Z", record: big });
    try {
      const t0 = Date.now();
      for (let n = 1; n <= 5; n++) sink.append([l(n)]);
      expect(Date.now() - t0).toBeLessThan(500);
      await until(() => sink.counters.errors >= 2);
      expect(sink.counters).toMatchObject({ written: 0, dropped: 2 });
      up = true;
      await until(() => sink.counters.written === 3);
      expect(written.map((w) => JSON.parse(w).event_id)).toEqual(["e1", "e2", "e3"]);
    } finally {
      up = true;
      await sink.close();
    }
  });
});
