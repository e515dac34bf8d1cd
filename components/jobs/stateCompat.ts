/**
 * Will a job's state survive a change of its SQL? Flink restores a savepoint operator by operator,
 * matching each operator's id. SQL jobs set no uids (table.exec.uid.generation = PLAN_ONLY), so an
 * operator's id is the hash Flink's StreamGraphHasherV2 derives from the graph's shape: the
 * operator's position in a breadth-first walk from the sources, how many of its outputs are chained,
 * and the ids of its inputs. This module compares the stateful operators of two execution plans
 * (EXPLAIN JSON_EXECUTION_PLAN, the StreamGraph as JSON) by that identity and by what their state
 * holds (keys, aggregate functions, source and sink tables):
 *   - an old stateful operator with no operator of the same id in the new plan: its state would be
 *     dropped (Flink restores only with ignore-unclaimed-state, and the operator starts empty);
 *   - one whose id stays but whose state changed shape (a new grouping key): Flink cannot restore it
 *     at all, the job must start without that savepoint.
 * Plain functions: they also run inside the serialized dynamic provider.
 */

export interface PlanNode {
  readonly id: number;
  readonly type: string;
  readonly pact?: string;
  readonly contents: string;
  readonly parallelism: number;
  readonly predecessors?: readonly { readonly id: number; readonly ship_strategy?: string }[];
}

export interface StatefulOperator {
  /** Stands in for Flink's operator id: equal keys in two plans mean equal ids. */
  readonly key: string;
  /** Operator kind, e.g. GroupAggregate, Deduplicate, Source, Sink. */
  readonly kind: string;
  /** What its state holds: keys, aggregate functions or table; a change means the state no longer fits. */
  readonly shape: string;
  /** For people: the kind and its shape. */
  readonly description: string;
}

export interface StateVerdict {
  /** Every stateful operator of the old plan is found, same id and same shape, in the new one (sinks aside, see sinksRecreated). */
  readonly restorable: boolean;
  /** Old stateful operators with no counterpart in the new plan: their state would be left behind. */
  readonly dropped: readonly string[];
  /**
   * Sink operators (writers, committers) that get new ids, e.g. when a changed parallelism changes
   * their chaining. Their state is pending commits, which a stop with a savepoint completes: safe to
   * leave behind in a savepoint upgrade, not when restoring from a checkpoint (last-state).
   */
  readonly sinksRecreated: readonly string[];
  /** Old stateful operators whose id stays but whose state changed shape: Flink cannot restore them. */
  readonly incompatible: readonly string[];
}

/** The StreamGraph JSON in an EXPLAIN JSON_EXECUTION_PLAN answer (after "== Physical Execution Plan =="). */
export function executionPlan(explain: string): PlanNode[] {
  const at = explain.indexOf("== Physical Execution Plan ==");
  const from = explain.indexOf("{", at < 0 ? 0 : at);
  if (from < 0) throw new Error(`the EXPLAIN answer holds no JSON execution plan: ${explain.slice(0, 200)}`);
  const parsed = JSON.parse(explain.slice(from, explain.lastIndexOf("}") + 1)) as { nodes?: unknown };
  if (!Array.isArray(parsed.nodes)) throw new Error("the JSON execution plan has no nodes");
  return parsed.nodes.map((n: Record<string, unknown>, i: number) => {
    if (typeof n.id !== "number" || typeof n.type !== "string" || typeof n.contents !== "string" || typeof n.parallelism !== "number") {
      throw new Error(`the JSON execution plan's node ${i} lacks id, type, contents or parallelism`);
    }
    return n as unknown as PlanNode;
  });
}

/**
 * A key per node that is equal in two plans exactly when Flink's generated operator ids are: the
 * node's index in the breadth-first walk Flink hashes in, its chained outputs, its inputs' keys.
 * An edge counts as chained when Flink would chain it: forward, same parallelism, single input.
 */
export function operatorKeys(nodes: readonly PlanNode[]): Map<number, string> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const outs = new Map<number, PlanNode[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const p of n.predecessors ?? []) outs.get(p.id)?.push(n);
  const chained = (from: PlanNode, to: PlanNode) => {
    const edge = (to.predecessors ?? []).find((p) => p.id === from.id);
    return (edge?.ship_strategy ?? "").toUpperCase() === "FORWARD" && from.parallelism === to.parallelism && (to.predecessors ?? []).length === 1;
  };
  const keys = new Map<number, string>();
  const sources = nodes.filter((n) => !(n.predecessors ?? []).length).sort((a, b) => a.id - b.id);
  const queue = [...sources];
  const seen = new Set(sources.map((n) => n.id));
  for (let guard = 0; queue.length && guard < nodes.length * nodes.length + 10; guard++) {
    const n = queue.shift()!;
    const inputs = (n.predecessors ?? []).map((p) => keys.get(p.id));
    if (inputs.some((k) => k === undefined)) {
      // Like Flink: not all inputs hashed yet; the node comes back when another input is done.
      seen.delete(n.id);
      continue;
    }
    const index = keys.size;
    const chainedOuts = (outs.get(n.id) ?? []).filter((o) => chained(n, o)).length;
    keys.set(n.id, `${index}.${chainedOuts}(${inputs.join(",")})`);
    for (const o of outs.get(n.id) ?? []) {
      if (!seen.has(o.id) && byId.has(o.id)) {
        seen.add(o.id);
        queue.push(o);
      }
    }
  }
  return keys;
}

/** The operator kind from a node's type, e.g. "GroupAggregate[12]" -> GroupAggregate, "Source: x" -> Source. */
export function operatorKind(type: string): string {
  const t = type.trim();
  if (/^(Source\b|TableSourceScan)/i.test(t)) return "Source";
  if (/^Sink\b/i.test(t)) return "Sink";
  return t.replace(/\[\d+\]$/, "").replace(/[:(].*$/, "").trim();
}

/** Operators that keep state: sources (offsets, splits, snapshot ids), sinks (pending commits), and the stateful SQL operators. */
const STATEFUL = /^(Source|Sink|Writer|.*Committer.*|.*Aggregate|Deduplicate|.*Rank|.*Join|ChangelogNormalize|SinkMaterializer|Limit|Match|.*Deduplicate|.*Sort)$/i;

/** A node's operator kind: the planner's name in its description ("[207]:GroupAggregate(...)"), sources and sinks by role. */
function kindOf(n: PlanNode): string {
  const planner = /^\[\d+\]:(\w+)/.exec(n.contents)?.[1];
  if (n.pact === "Data Source" || planner === "TableSourceScan") return "Source";
  if (n.pact === "Data Sink" || planner === "Sink") return "Sink";
  return planner ?? operatorKind(n.type);
}

function bracket(contents: string, name: string): string | undefined {
  const at = contents.indexOf(`${name}=[`);
  if (at < 0) return undefined;
  let depth = 0;
  for (let i = at + name.length + 1; i < contents.length; i++) {
    if (contents[i] === "[") depth++;
    else if (contents[i] === "]" && --depth === 0) return contents.slice(at + name.length + 2, i);
  }
  return undefined;
}

/** What an operator's state holds, from its plan description. */
function shapeOf(kind: string, contents: string): string {
  if (kind === "Source" || kind === "Sink" || /Writer|Committer/i.test(kind)) {
    // The table, not the columns read (a projection pushed into the scan keeps the source's state).
    const table = (bracket(contents, "table") ?? contents.replace(/^\[\d+\]:/, "").replace(/,?\s*fields=\[.*$/, "")).replace(/,\s*(project|filter)=\[.*$/, "");
    return `table=${table.replace(/\[|\]/g, "")}`;
  }
  const parts: string[] = [];
  for (const k of ["groupBy", "partitionBy", "orderBy", "leftKeys", "rightKeys", "joinType", "keys", "rankType", "rankRange", "window"]) {
    const v = bracket(contents, k) ?? (new RegExp(`${k}=([^,)\\]]+)`).exec(contents)?.[1]);
    if (v !== undefined) parts.push(`${k}=[${v.trim()}]`);
  }
  const select = bracket(contents, "select");
  if (select && /Aggregate/i.test(kind)) {
    const calls = [...select.matchAll(/\b([A-Z_][A-Z0-9_]*)\((DISTINCT\s)?/g)].map((m) => `${m[1]}${m[2] ? " DISTINCT" : ""}`);
    parts.push(`aggregates=[${calls.join(", ")}]`);
  }
  return parts.join(" ");
}

export function statefulOperators(nodes: readonly PlanNode[]): StatefulOperator[] {
  const keys = operatorKeys(nodes);
  return nodes
    .map((n) => ({ n, kind: kindOf(n) }))
    .filter(({ kind }) => STATEFUL.test(kind))
    .map(({ n, kind }) => {
      const shape = shapeOf(kind, n.contents);
      return { key: keys.get(n.id) ?? `unreached-${n.id}`, kind, shape, description: shape ? `${kind}(${shape})` : kind };
    });
}

export function compareState(oldPlan: readonly PlanNode[], newPlan: readonly PlanNode[]): StateVerdict {
  const now = new Map(statefulOperators(newPlan).map((o) => [o.key, o]));
  const dropped: string[] = [];
  const sinksRecreated: string[] = [];
  const incompatible: string[] = [];
  for (const o of statefulOperators(oldPlan)) {
    const n = now.get(o.key);
    if (!n || n.kind !== o.kind) (isSinkSide(o.kind) ? sinksRecreated : dropped).push(o.description);
    else if (n.shape !== o.shape) incompatible.push(`${o.description} -> ${n.description}`);
  }
  return { restorable: !dropped.length && !incompatible.length, dropped, incompatible, sinksRecreated };
}

const isSinkSide = (kind: string) => kind === "Sink" || /Writer|Committer/i.test(kind);

/** The verdict for an upgrade mode: restoring from a checkpoint (last-state) must keep the sinks' pending commits too. */
export function verdictFor(v: StateVerdict, mode: "savepoint" | "last-state" | "stateless"): StateVerdict {
  if (mode !== "last-state" || !v.sinksRecreated.length) return v;
  return { restorable: false, dropped: [...v.dropped, ...v.sinksRecreated], incompatible: v.incompatible, sinksRecreated: [] };
}

/** One line for plannedAction and the preview report. */
export function describeVerdict(v: StateVerdict): string {
  if (v.restorable) return v.sinksRecreated.length ? `state restorable (sinks re-created, their pending commits completed by the savepoint: ${v.sinksRecreated.join("; ")})` : "state restorable";
  const parts = [
    ...(v.dropped.length ? [`would start empty: ${v.dropped.join("; ")}`] : []),
    ...(v.incompatible.length ? [`state no longer fits: ${v.incompatible.join("; ")}`] : []),
  ];
  return `state NOT restorable (${parts.join("; ")})`;
}
