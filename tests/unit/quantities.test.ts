import { parseCpu, parseDurationMs, parseMemoryMiB } from "../../components/config/quantities";

describe("quantities as users write them", () => {
  it("CPU and memory in Kubernetes notation", () => {
    expect([parseCpu("250m"), parseCpu("1.5"), parseCpu(2), parseCpu("0"), parseCpu("2 cores")]).toEqual([0.25, 1.5, 2, undefined, undefined]);
    expect([parseMemoryMiB("512Mi"), parseMemoryMiB("2Gi"), parseMemoryMiB(768), parseMemoryMiB("2GB")]).toEqual([512, 2048, 768, undefined]);
  });

  it("durations as Flink reads them: with or without a space, short or long unit names, a bare number in ms", () => {
    expect(["500ms", "2 s", "60s", "2min", "1 m", "1 minute", "1h", "2 hours", "1d", "1500"].map(parseDurationMs)).toEqual([
      500, 2_000, 60_000, 120_000, 60_000, 60_000, 3_600_000, 7_200_000, 86_400_000, 1_500,
    ]);
    expect(["", "s", "1.5s", "2 fortnights", "-1s"].map(parseDurationMs)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
