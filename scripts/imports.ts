// The import graph of components/: which file imports which, the folders it makes, and the layers
// they form. tests/unit/layers.test.ts holds the rules; `npm run docs` writes the layer table.
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

export const COMPONENTS = path.join(__dirname, "..", "components");

/** File → the files of the same tree it imports (relative paths, values and types alike, `export … from` too). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** The folder a file of components/ belongs to; files at its root form "." (the composition root). */
export function folderOf(file: string): string {
  const parts = file.split("/");
  return parts.length > 1 ? parts[0] : ".";
}

export function importGraph(root = COMPONENTS): ImportGraph {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) files.push(p);
    }
  };
  walk(root);
  const resolve = (from: string, spec: string): string | undefined => {
    const base = path.resolve(path.dirname(from), spec);
    return [`${base}.ts`, path.join(base, "index.ts")].find((c) => fs.existsSync(c));
  };
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const info = ts.preProcessFile(fs.readFileSync(f, "utf8"), true, true);
    const targets = info.importedFiles.filter((i) => i.fileName.startsWith(".")).map((i) => resolve(f, i.fileName));
    const within = targets.filter((t): t is string => t !== undefined && !path.relative(root, t).startsWith(".."));
    graph.set(path.relative(root, f), [...new Set(within.map((t) => path.relative(root, t)))].sort());
  }
  return graph;
}

/** Folder → the other folders its files import. */
export function folderGraph(g: ImportGraph): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [file, targets] of g) {
    const from = folderOf(file);
    if (!out.has(from)) out.set(from, new Set());
    for (const t of targets) if (folderOf(t) !== from) out.get(from)!.add(folderOf(t));
  }
  return out;
}

/** Each pair of folders that import each other, as "a <-> b: a/x.ts -> b/y.ts; b/z.ts -> a/w.ts". */
export function mutualFolderImports(g: ImportGraph): string[] {
  const edge = (a: string, b: string) => [...g].flatMap(([f, ts]) => (folderOf(f) === a ? ts.filter((t) => folderOf(t) === b).map((t) => `${f} -> ${t}`) : []));
  const folders = folderGraph(g);
  const pairs: string[] = [];
  for (const [a, bs] of folders) for (const b of bs) if (a < b && folders.get(b)?.has(a)) pairs.push(`${a} <-> ${b}: ${[...edge(a, b), ...edge(b, a)].join("; ")}`);
  return pairs.sort();
}

/** Strongly connected sets of more than one node (or a node that reaches itself), each sorted. */
export function cycles(g: ReadonlyMap<string, Iterable<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || [...(g.get(v) ?? [])].includes(v)) found.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * Layers of an acyclic folder graph: a folder's layer is one above the highest folder it imports,
 * so 0 is the foundation and the composition root is on top. Throws on a cycle.
 */
export function folderLayers(folders: ReadonlyMap<string, ReadonlySet<string>>): Map<string, number> {
  const c = cycles(folders);
  if (c.length) throw new Error(`folders import each other in a cycle: ${c.map((x) => x.join(" -> ")).join("; ")}`);
  const layer = new Map<string, number>();
  const of = (f: string): number => {
    if (!layer.has(f)) layer.set(f, Math.max(-1, ...[...(folders.get(f) ?? [])].map(of)) + 1);
    return layer.get(f)!;
  };
  for (const f of folders.keys()) of(f);
  return layer;
}

/** What each folder holds, for the generated table (tests/unit/layers.test.ts keeps it complete). */
export const FOLDER_PURPOSE: Readonly<Record<string, string>> = {
  config:
    "the foundation: the stack config's schema and validation, quantities, images, sizing and volumes per profile, the parsed job table and Flink sizing, each domain's config schema and defaults (lakehouse policy, collector limits, backup policy, host ports, teams), secrets",
  platform: "target-neutral ServiceSpec/TaskSpec, the Kubernetes and Docker adapters, volume claims, the tunnel to cluster APIs, the HTTP client with retry and backoff, metrics endpoints and their credentials",
  storage: "MinIO or S3: buckets, versioning, lifecycle, least-privilege users; where the Paimon warehouse lives",
  flink: "the Flink cluster (JobManager, TaskManagers, SQL Gateway, Kubernetes HA), its image and jars, the REST and SQL Gateway clients",
  services: "PostgreSQL (+ pgBackRest), Redis, Kafka (KRaft, SCRAM, TLS)",
  starrocks: "StarRocks FE + CN shared-data and its bootstrap (compute nodes, storage volume, Paimon catalog, DWS, users)",
  streampark: "the StreamPark console: schema, admin password",
  jobs: "the Flink SQL jobs as dynamic resources: rendering, scripts, lineage, the lifecycle, the SQL Gateway and StreamPark backends",
  lakehouse: "the Paimon databases and tables as resources (diffed by schema, altered in place or refused at preview, never dropped); upkeep: expiry and orphan-file removal beside the SQL Gateway",
  pipelines: "Kafka topics and each client's ACLs, derived from the jobs' lineage; the raw archive's replay (requests rebuilt, the batch job derived from rt-trk-ods)",
  collector: "Nginx /sa and Vector (VRL) of the tracking collector",
  observability: "alerts (written once), Prometheus, Alertmanager, Grafana, exporters, dashboards' provisioning",
  ".": "the composition root: stack.ts slices the stack config into each component's own Args and wires them; the existing-platform variant (target sandbox) and its file",
};

/** docs/architecture.md's layer table: layer, folder, what it holds, what it imports. */
export function renderLayersDoc(g = importGraph()): string {
  const folders = folderGraph(g);
  const layers = folderLayers(folders);
  const rows = [...layers].sort(([a, la], [b, lb]) => la - lb || (a === "." ? 1 : b === "." ? -1 : a.localeCompare(b)));
  return [
    "| layer | folder | holds | imports |",
    "|---|---|---|---|",
    ...rows.map(([f, l]) => `| ${l} | \`components/${f === "." ? "" : `${f}/`}\` | ${FOLDER_PURPOSE[f] ?? "?"} | ${[...(folders.get(f) ?? [])].sort().join(", ") || "—"} |`),
  ].join("\n");
}
