/**
 * A lake table's schema as its CREATE TABLE says it — the pipelines' tables.sql (rendered) or what
 * Flink answers to SHOW CREATE TABLE — and what it takes to bring a table from one schema to another.
 * The SQL files are the one source of truth; this reads them, it never restates them.
 *
 * Changes fall in two kinds:
 *   - in place (ALTER TABLE): a nullable column added, a type widened, a NOT NULL relaxed, a
 *     comment, table options set or reset;
 *   - refused, naming the table and column: a column dropped or renamed, columns reordered (an
 *     INSERT without a column list fills columns by position), a type narrowed or changed to another
 *     kind, a NOT NULL column added or imposed, a primary key or partitioning changed.
 * A column found in the catalog but not in the files (added by hand) is drift: reported, kept.
 * Plain functions: they also run inside the serialized dynamic provider.
 */

export interface ColumnDecl {
  readonly name: string;
  /** Normalized (normalizeType): equal types compare equal whatever the spelling. */
  readonly type: string;
  readonly notNull: boolean;
  readonly comment?: string;
}

export interface TableDecl {
  /** database.table */
  readonly name: string;
  readonly columns: readonly ColumnDecl[];
  readonly primaryKey: readonly string[];
  readonly partitionKeys: readonly string[];
  readonly options: Readonly<Record<string, string>>;
  /** The table's comment (read, not changed: Paimon keeps it apart from the options). */
  readonly comment?: string;
}

/** Top-level pieces of `s` separated by `sep`, skipping quoted text and parenthesized/angled groups. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === "`" || c === '"') {
      let j = i + 1;
      while (j < s.length && !(s[j] === c && s[j + 1] !== c)) j += s[j] === c ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === "(" || c === "<") depth++;
    if (c === ")" || c === ">") depth--;
    if (depth === 0 && c === sep) {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The text between the parenthesis at `open` and its match. */
function group(s: string, open: number): { inner: string; end: number } {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === "`") {
      let j = i + 1;
      while (j < s.length && !(s[j] === c && s[j + 1] !== c)) j += s[j] === c ? 2 : 1;
      i = j;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")" && --depth === 0) return { inner: s.slice(open + 1, i), end: i + 1 };
  }
  throw new Error(`unbalanced parentheses in: ${s.slice(open, open + 80)}`);
}

const unquote = (id: string) => id.trim().replace(/^`(.*)`$/s, "$1").replace(/``/g, "`");
const literal = (s: string) => s.trim().replace(/^'(.*)'$/s, "$1").replace(/''/g, "'");
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
const quoteId = (id: string) => `\`${id.replace(/`/g, "``")}\``;

/** One spelling per type: STRING is VARCHAR(2147483647), TIMESTAMP_LTZ(p) is TIMESTAMP(p) WITH LOCAL TIME ZONE, and so on. */
export function normalizeType(t: string): string {
  let s = t.trim().toUpperCase().replace(/\s+/g, " ").replace(/\s*\(\s*/g, "(").replace(/\s*,\s*/g, ", ").replace(/\s*\)/g, ")");
  s = s
    .replace(/\bSTRING\b/g, "VARCHAR(2147483647)")
    .replace(/\bBYTES\b/g, "VARBINARY(2147483647)")
    .replace(/\bINTEGER\b/g, "INT")
    .replace(/\b(?:DEC|NUMERIC)\b/g, "DECIMAL")
    .replace(/\bDECIMAL(?!\()/g, "DECIMAL(10, 0)")
    .replace(/\bDECIMAL\((\d+)\)/g, "DECIMAL($1, 0)")
    .replace(/\bVARCHAR(?!\()/g, "VARCHAR(1)")
    .replace(/\bCHAR(?!\()/g, "CHAR(1)")
    .replace(/\bTIMESTAMP_LTZ(?:\((\d+)\))?/g, (_m, p) => `TIMESTAMP(${p ?? 6}) WITH LOCAL TIME ZONE`)
    .replace(/\bTIMESTAMP(?![(_])/g, "TIMESTAMP(6)")
    .replace(/\bTIMESTAMP(\(\d+\)) WITHOUT TIME ZONE/g, "TIMESTAMP$1");
  return s;
}

/** One column definition: name, type (normalized), NOT NULL, COMMENT; computed and metadata columns refused. */
function parseColumn(table: string, el: string): ColumnDecl {
  const col = /^(`(?:[^`]|``)+`|[\w$]+)\s+([\s\S]+)$/.exec(el);
  if (!col) throw new Error(`${table}: cannot read the column definition "${el}"`);
  let rest = col[2].trim();
  if (/\bMETADATA\b|^AS\s/i.test(rest)) throw new Error(`${table}.${unquote(col[1])}: a lake or DWS table holds physical columns only`);
  let comment: string | undefined;
  const cm = /\s+COMMENT\s+('(?:[^']|'')*')\s*$/i.exec(rest);
  if (cm) {
    comment = literal(cm[1]);
    rest = rest.slice(0, cm.index).trim();
  }
  const notNull = /\s+NOT\s+NULL$/i.test(rest);
  rest = rest.replace(/\s+(?:NOT\s+)?NULL$/i, "");
  return { name: unquote(col[1]), type: normalizeType(rest), notNull, ...(comment === undefined ? {} : { comment }) };
}

/** Parses one CREATE TABLE statement (Flink SQL, as tables.sql writes it or SHOW CREATE TABLE answers it). */
export function parseCreateTable(stmt: string): TableDecl {
  const head = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:`[^`]+`|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|[\w$]+))*)\s*\(/i.exec(stmt);
  if (!head) throw new Error(`not a CREATE TABLE statement: ${stmt.trim().slice(0, 80)}`);
  const parts = head[1].split(/\s*\.\s*/).map(unquote);
  const name = parts.slice(-2).join(".");
  const body = group(stmt, head[0].length - 1);
  const columns: ColumnDecl[] = [];
  let primaryKey: string[] = [];
  for (const el of splitTop(body.inner, ",")) {
    const pk = /^(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY\s*\(([^)]*)\)/i.exec(el);
    if (pk) {
      primaryKey = pk[1].split(",").map(unquote);
      continue;
    }
    if (/^WATERMARK\s/i.test(el)) throw new Error(`${name}: a watermark belongs to the job that reads the table, not to the lake table`);
    columns.push(parseColumn(name, el));
  }
  if (!columns.length) throw new Error(`${name}: no columns`);
  let tail = stmt.slice(body.end);
  let comment: string | undefined;
  let partitionKeys: string[] = [];
  let options: Record<string, string> = {};
  for (;;) {
    tail = tail.trimStart();
    let m: RegExpExecArray | null;
    if ((m = /^COMMENT\s+('(?:[^']|'')*')/i.exec(tail))) {
      comment = literal(m[1]);
      tail = tail.slice(m[0].length);
    } else if ((m = /^PARTITIONED\s+BY\s*\(/i.exec(tail))) {
      const g = group(tail, m[0].length - 1);
      partitionKeys = g.inner.split(",").map(unquote).filter(Boolean);
      tail = tail.slice(g.end);
    } else if ((m = /^WITH\s*\(/i.exec(tail))) {
      const g = group(tail, m[0].length - 1);
      options = Object.fromEntries(
        splitTop(g.inner, ",").map((kv) => {
          const [k, ...v] = splitTop(kv, "=");
          if (!v.length) throw new Error(`${name}: option "${kv}" has no value`);
          return [literal(k), literal(v.join("="))];
        }),
      );
      tail = tail.slice(g.end);
    } else break;
  }
  if (tail.trim().replace(/;$/, "")) throw new Error(`${name}: cannot read "${tail.trim().slice(0, 60)}" after the columns`);
  for (const k of [...primaryKey, ...partitionKeys]) if (!columns.some((c) => c.name === k)) throw new Error(`${name}: key column ${k} is not a column`);
  // A primary key's columns are NOT NULL whether or not the file says so (Flink adds it).
  const withPk = columns.map((c) => (primaryKey.includes(c.name) ? { ...c, notNull: true } : c));
  return { name, columns: withPk, primaryKey, partitionKeys, options, ...(comment === undefined ? {} : { comment }) };
}

const INTEGERS = ["TINYINT", "SMALLINT", "INT", "BIGINT"];

/** Can every value of `from` be held by `to` with the same meaning? (What Paimon casts in place; it would also narrow, we do not.) */
export function widens(from: string, to: string): boolean {
  if (from === to) return true;
  const i = INTEGERS.indexOf(from);
  const j = INTEGERS.indexOf(to);
  if (i >= 0 && j >= 0) return j > i;
  if (from === "FLOAT" && to === "DOUBLE") return true;
  let a: RegExpExecArray | null;
  let b: RegExpExecArray | null;
  if ((a = /^DECIMAL\((\d+), (\d+)\)$/.exec(from)) && (b = /^DECIMAL\((\d+), (\d+)\)$/.exec(to))) {
    const [p1, s1, p2, s2] = [a[1], a[2], b[1], b[2]].map(Number);
    return s2 >= s1 && p2 - s2 >= p1 - s1;
  }
  if ((a = /^(?:VAR)?CHAR\((\d+)\)$/.exec(from)) && (b = /^VARCHAR\((\d+)\)$/.exec(to))) return Number(b[1]) >= Number(a[1]);
  if ((a = /^TIMESTAMP\((\d)\)( WITH LOCAL TIME ZONE)?$/.exec(from)) && (b = /^TIMESTAMP\((\d)\)( WITH LOCAL TIME ZONE)?$/.exec(to))) return a[2] === b[2] && Number(b[1]) >= Number(a[1]);
  return false;
}

/** Whose ALTER TABLE the plan is written in: Flink SQL (the Paimon catalog), or MySQL's (StarRocks, and its stand-in). */
export type SqlDialect = "flink" | "mysql";

/**
 * A StarRocks CREATE TABLE as sql/starrocks writes them: columns, then `PRIMARY KEY (…)` and
 * `DISTRIBUTED BY HASH (…)` (kept as the partition keys: changing either is refused, as it moves
 * every row). Other StarRocks clauses are not used by the DWS files and are refused, so none is
 * silently ignored.
 */
export function parseStarRocksCreateTable(stmt: string, database: string): TableDecl {
  const head = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|\w+)\s*\(/i.exec(stmt);
  if (!head) throw new Error(`not a CREATE TABLE statement: ${stmt.trim().slice(0, 80)}`);
  const name = `${database}.${unquote(head[1])}`;
  const body = group(stmt, head[0].length - 1);
  let tail = stmt.slice(body.end).trim().replace(/;$/, "");
  const pk = /^PRIMARY\s+KEY\s*\(([^)]*)\)/i.exec(tail);
  if (!pk) throw new Error(`${name}: a DWS table is a primary-key table (PRIMARY KEY (…) after the columns)`);
  tail = tail.slice(pk[0].length).trim();
  const dist = /^DISTRIBUTED\s+BY\s+HASH\s*\(([^)]*)\)/i.exec(tail);
  if (!dist) throw new Error(`${name}: expected DISTRIBUTED BY HASH (…) after the primary key`);
  tail = tail.slice(dist[0].length).trim();
  if (tail) throw new Error(`${name}: cannot read "${tail.slice(0, 60)}" after the distribution`);
  const columns = splitTop(body.inner, ",").map((el) => parseColumn(name, el));
  const primaryKey = pk[1].split(",").map(unquote);
  const partitionKeys = dist[1].split(",").map(unquote);
  for (const k of [...primaryKey, ...partitionKeys]) if (!columns.some((c) => c.name === k)) throw new Error(`${name}: key column ${k} is not a column`);
  return { name, columns: columns.map((c) => (primaryKey.includes(c.name) ? { ...c, notNull: true } : c)), primaryKey, partitionKeys, options: {} };
}

/** A column as information_schema.columns describes it (MySQL, MariaDB and StarRocks answer the same columns). */
export interface InformationSchemaColumn {
  readonly COLUMN_NAME: string;
  readonly DATA_TYPE: string;
  readonly IS_NULLABLE: string;
  readonly COLUMN_KEY: string;
  readonly CHARACTER_MAXIMUM_LENGTH: number | string | null;
  readonly NUMERIC_PRECISION: number | string | null;
  readonly NUMERIC_SCALE: number | string | null;
  readonly COLUMN_COMMENT?: string | null;
}

/** A table as information_schema.columns answers it, in ORDINAL_POSITION order; the distribution is not in it and is taken from `distributedBy`. */
export function tableFromInformationSchema(name: string, rows: readonly InformationSchemaColumn[], distributedBy: readonly string[]): TableDecl {
  const type = (r: InformationSchemaColumn) => {
    const t = r.DATA_TYPE.toLowerCase();
    if (t === "varchar" || t === "char") return `${t.toUpperCase()}(${r.CHARACTER_MAXIMUM_LENGTH})`;
    if (t === "decimal") return `DECIMAL(${r.NUMERIC_PRECISION}, ${r.NUMERIC_SCALE})`;
    return normalizeType(t);
  };
  const columns = rows.map((r): ColumnDecl => ({ name: r.COLUMN_NAME, type: type(r), notNull: r.IS_NULLABLE.toUpperCase() === "NO", ...(r.COLUMN_COMMENT ? { comment: r.COLUMN_COMMENT } : {}) }));
  return { name, columns, primaryKey: rows.filter((r) => r.COLUMN_KEY === "PRI").map((r) => r.COLUMN_NAME), partitionKeys: [...distributedBy], options: {} };
}

export interface SchemaPlan {
  /** ALTER TABLE statements (Flink SQL, qualified by `catalog`) that bring the table to the desired schema, in order. */
  readonly statements: readonly string[];
  /** What changes, for people: "add column email_domain STRING after email". */
  readonly changes: readonly string[];
  /** Changes the stack will not make, each naming the table and column and why. */
  readonly refused: readonly string[];
  /** Found in the catalog, not in the files, and not removed from them: kept, reported. */
  readonly drift: readonly string[];
}

const show = (t: string) => t.replace(/VARCHAR\(2147483647\)/g, "STRING");

/**
 * What it takes to bring `current` (the catalog's, or the files' previous version) to `desired`.
 * `declaredBefore`, when known, tells a column removed from the files (refused) from one never in
 * them (drift); without it every extra column counts as removed.
 */
export function planSchemaChange(current: TableDecl, desired: TableDecl, catalog: string, declaredBefore?: TableDecl, dialect: SqlDialect = "flink"): SchemaPlan {
  const t = desired.name;
  const mysql = dialect === "mysql";
  const target = mysql ? t.split(".").map(quoteId).join(".") : `${catalog}.${t.split(".").map(quoteId).join(".")}`;
  // MySQL's MODIFY restates the whole column: without NOT NULL it would make the column nullable.
  const add = (def: string, position: string) => (mysql ? `ALTER TABLE ${target} ADD COLUMN ${def} ${position}` : `ALTER TABLE ${target} ADD (${def} ${position})`);
  const modify = (def: string, notNull: boolean) => (mysql ? `ALTER TABLE ${target} MODIFY COLUMN ${def}${notNull ? " NOT NULL" : ""}` : `ALTER TABLE ${target} MODIFY (${def})`);
  const statements: string[] = [];
  const changes: string[] = [];
  const refused: string[] = [];
  const drift: string[] = [];
  const wanted = new Set(desired.columns.map((c) => c.name));
  const had = new Map(current.columns.map((c) => [c.name, c]));

  const extra = current.columns.filter((c) => !wanted.has(c.name));
  for (const c of extra) {
    const removedFromFiles = !declaredBefore || declaredBefore.columns.some((d) => d.name === c.name);
    if (removedFromFiles) {
      const added = desired.columns.filter((d) => !had.has(d.name)).map((d) => d.name);
      refused.push(`${t}.${c.name}: dropping or renaming a column is refused (${added.length ? `is it renamed to ${added.join(" or ")}? ` : ""}readers and the files written before would lose it; add a new column instead, or rebuild the table by hand — docs/operations.md)`);
    } else drift.push(`${t}.${c.name} ${show(c.type)}: in the catalog, not in the SQL files (added outside the stack); kept — declare it or drop it by hand`);
  }
  // Columns both sides have must keep their relative order: INSERTs without a column list fill by position.
  const keptOrder = desired.columns.filter((c) => had.has(c.name)).map((c) => c.name);
  const currentOrder = current.columns.filter((c) => wanted.has(c.name)).map((c) => c.name);
  if (keptOrder.join(",") !== currentOrder.join(",")) {
    const moved = keptOrder.find((n, i) => currentOrder[i] !== n);
    refused.push(`${t}.${moved}: moving a column is refused (an INSERT without a column list fills columns by position); add new columns where you like, keep existing ones in order`);
  }
  if (desired.primaryKey.join(",") !== current.primaryKey.join(",")) {
    refused.push(`${t}: the primary key changes (${current.primaryKey.join(", ") || "none"} -> ${desired.primaryKey.join(", ") || "none"}): refused, it changes how every row is stored and merged; rebuild the table by hand (docs/operations.md)`);
  }
  if (desired.partitionKeys.join(",") !== current.partitionKeys.join(",")) {
    refused.push(`${t}: the ${mysql ? "distribution" : "partitioning"} changes (${current.partitionKeys.join(", ") || "none"} -> ${desired.partitionKeys.join(", ") || "none"}): refused, every ${mysql ? "row" : "file"} would move; rebuild the table by hand (docs/operations.md)`);
  }

  let previous: string | undefined;
  for (const c of desired.columns) {
    const old = had.get(c.name);
    const position = previous === undefined ? "FIRST" : `AFTER ${quoteId(previous)}`;
    previous = c.name;
    const def = `${quoteId(c.name)} ${c.type}${c.comment === undefined ? "" : ` COMMENT ${quoteLiteral(c.comment)}`}`;
    if (!old) {
      if (c.notNull) refused.push(`${t}.${c.name}: a new column must be nullable (rows written before it have no value); drop NOT NULL`);
      else {
        statements.push(add(def, position));
        changes.push(`add column ${c.name} ${show(c.type)} ${position.toLowerCase().replace(/`/g, "")}`);
      }
      continue;
    }
    const key = desired.primaryKey.includes(c.name) || desired.partitionKeys.includes(c.name);
    if (old.type !== c.type) {
      if (key) refused.push(`${t}.${c.name}: the type of a key column cannot change (${show(old.type)} -> ${show(c.type)})`);
      else if (!widens(old.type, c.type)) refused.push(`${t}.${c.name}: ${show(old.type)} -> ${show(c.type)} is not a widening; refused (values written before may not fit); add a new column instead`);
      else {
        statements.push(modify(def, c.notNull));
        changes.push(`widen column ${c.name} ${show(old.type)} -> ${show(c.type)}`);
      }
    } else if ((old.comment ?? "") !== (c.comment ?? "")) {
      statements.push(modify(def, c.notNull));
      changes.push(`comment of column ${c.name}`);
    }
    if (!key && old.notNull !== c.notNull) {
      if (c.notNull) refused.push(`${t}.${c.name}: NOT NULL cannot be imposed on a column that may hold NULLs`);
      else {
        statements.push(modify(`${quoteId(c.name)} ${c.type}${c.comment === undefined ? "" : ` COMMENT ${quoteLiteral(c.comment)}`}`, false));
        changes.push(`column ${c.name} becomes nullable`);
      }
    }
  }

  // Options: the declared ones are set; one declared before and no longer is reset. Options the
  // catalog adds itself (path, catalog defaults) are not the files' business.
  if (mysql) return { statements, changes, refused, drift };
  const set = Object.entries(desired.options).filter(([k, v]) => current.options[k] !== v);
  if (set.length) {
    statements.push(`ALTER TABLE ${target} SET (${set.map(([k, v]) => `${quoteLiteral(k)} = ${quoteLiteral(v)}`).join(", ")})`);
    changes.push(...set.map(([k, v]) => `option ${k} = ${v}${current.options[k] === undefined ? "" : ` (was ${current.options[k]})`}`));
  }
  const reset = Object.keys(declaredBefore?.options ?? {}).filter((k) => !(k in desired.options) && k in current.options);
  if (reset.length) {
    statements.push(`ALTER TABLE ${target} RESET (${reset.map(quoteLiteral).join(", ")})`);
    changes.push(...reset.map((k) => `option ${k} reset`));
  }
  return { statements, changes, refused, drift };
}

/**
 * What preview says `up` will do to a table resource: from its previous declaration (or the server's
 * table as the last refresh found it) to the new one; undefined before: created if absent.
 */
export function plannedSchemaAction(before: { readonly declared: TableDecl; readonly observed?: TableDecl } | undefined, declared: TableDecl, catalog: string, dialect: SqlDialect = "flink"): { action: string; plan?: SchemaPlan } {
  if (!before) return { action: `create ${declared.name} if absent (an existing table is brought to the declared schema in place)` };
  const plan = planSchemaChange(before.observed ?? before.declared, declared, catalog, before.declared, dialect);
  const parts = [...(plan.changes.length ? [`ALTER in place: ${plan.changes.join("; ")}`] : []), ...(plan.drift.length ? [`drift (kept): ${plan.drift.join("; ")}`] : [])];
  return { action: parts.join(" | ") || "no change", plan };
}
