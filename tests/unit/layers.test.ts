import * as fs from "fs";
import * as path from "path";
import { cycles, folderGraph, folderLayers, FOLDER_PURPOSE, importGraph, mutualFolderImports, renderLayersDoc } from "../../scripts/imports";
import { ARCHITECTURE_DOC, withGenerated } from "../../scripts/docs";

const graph = importGraph();

describe("components/ in layers that run one way", () => {
  it("reads the real tree: every folder, and the composition root importing the domains", () => {
    const folders = folderGraph(graph);
    expect([...folders.keys()].sort()).toEqual(
      fs.readdirSync(path.join(__dirname, "..", "..", "components"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).concat(".").sort(),
    );
    expect([...folders.get(".")!]).toEqual(expect.arrayContaining(["config", "platform", "jobs", "services"]));
    expect(graph.get("stack.ts")).toEqual(expect.arrayContaining(["config/index.ts", "flink/cluster.ts"]));
  });

  it("no two folders import each other", () => {
    expect(mutualFolderImports(graph)).toEqual([]);
  });

  it("no import cycle of files, and none of folders (so each folder has a layer)", () => {
    expect(cycles(graph)).toEqual([]);
    expect(cycles(folderGraph(graph))).toEqual([]);
  });

  it("the foundation (config/) imports no domain; the composition root is on top", () => {
    const folders = folderGraph(graph);
    expect([...folders.get("config")!]).toEqual([]);
    const layers = folderLayers(folders);
    expect(layers.get("config")).toBe(0);
    expect(layers.get(".")).toBe(Math.max(...layers.values()));
  });

  it("components take their own Args: only the composition root reads the whole StackConfig (the target adapters a named Pick of it)", () => {
    const root = path.join(__dirname, "..", "..", "components");
    const naming = [...graph.keys()].filter((f) => !f.startsWith("config/") && /\bStackConfig\b/.test(fs.readFileSync(path.join(root, f), "utf8")));
    expect(naming.sort()).toEqual(["existingPlatform.ts", "platform/service.ts", "stack.ts"]);
    expect(fs.readFileSync(path.join(root, "platform/service.ts"), "utf8")).toMatch(/export type TargetSettings = Pick<StackConfig, [^>]+>;/);
  });

  it("the checks can fail: a pair of folders, a file cycle and a folder cycle are reported", () => {
    const bad = new Map([
      ["jobs/a.ts", ["flink/b.ts"]],
      ["flink/b.ts", ["jobs/c.ts"]],
      ["jobs/c.ts", ["jobs/a.ts"]],
      ["x/d.ts", ["y/e.ts"]],
      ["y/e.ts", ["z/f.ts"]],
      ["z/f.ts", ["x/d.ts"]],
    ]);
    expect(mutualFolderImports(bad)).toEqual(["flink <-> jobs: flink/b.ts -> jobs/c.ts; jobs/a.ts -> flink/b.ts"]);
    expect(cycles(bad)).toEqual([["flink/b.ts", "jobs/a.ts", "jobs/c.ts"], ["x/d.ts", "y/e.ts", "z/f.ts"]]);
    expect(() => folderLayers(folderGraph(bad))).toThrow("folders import each other in a cycle");
  });

  it("docs/architecture.md's layer table is what the imports make (npm run docs), every folder described", () => {
    expect(Object.keys(FOLDER_PURPOSE).sort()).toEqual([...folderGraph(graph).keys()].sort());
    const doc = fs.readFileSync(ARCHITECTURE_DOC, "utf8");
    expect(doc).toBe(withGenerated(doc, "layers", renderLayersDoc(graph)));
  });
});
