import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

// The composition root (components/stack.ts) is where every service's outputs become the next one's
// inputs. It has no casts: a wire of the wrong type or a missing one does not compile. This suite
// proves that by type-checking the file as it is, then with one wire broken at a time.

const ROOT = path.resolve(__dirname, "..", "..");
const STACK = path.join(ROOT, "components", "stack.ts");

function compilerOptions(): ts.CompilerOptions {
  const file = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile);
  return ts.parseJsonConfigFileContent(file.config, ts.sys, ROOT).options;
}

let previous: ts.Program | undefined;
// Parsed once: each variant re-parses only stack.ts and reuses the rest of the previous program.
const parsed = new Map<string, ts.SourceFile | undefined>();
/** Type errors in components/stack.ts when its text is `text` (the rest of the project as it is). */
function stackErrors(text: string): string[] {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => {
    if (path.resolve(name) === STACK) return ts.createSourceFile(name, text, lang, true);
    if (!parsed.has(name)) parsed.set(name, read(name, lang, onError, create));
    return parsed.get(name);
  };
  const program = ts.createProgram({ rootNames: [STACK], options, host, oldProgram: previous });
  previous = program;
  const file = program.getSourceFile(STACK)!;
  return program.getSemanticDiagnostics(file).map((d) => {
    const line = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line + 1;
    return `stack.ts:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

/** components/stack.ts with `from` replaced by `to` (which must occur exactly once). */
function broken(from: string, to: string): string {
  const text = fs.readFileSync(STACK, "utf8");
  expect(text.split(from)).toHaveLength(2);
  return text.replace(from, to);
}

describe("the composition root is checked by the compiler (no casts in components/stack.ts)", () => {
  it("compiles as it is, without a cast to the outputs' types", () => {
    const text = fs.readFileSync(STACK, "utf8");
    expect(text).not.toMatch(/\bas (pulumi\.Output|Record|PlatformEndpoints|PlatformCredentials|JobEndpoints|JobCredentials)\b/);
    expect(stackErrors(text)).toEqual([]);
  });

  it("a job wire of the wrong type does not compile (Kafka's replication factor where the bootstrap servers go)", () => {
    const errors = stackErrors(broken("bootstrap: kafka.bootstrapServers,", "bootstrap: kafka.replicationFactor,"));
    expect(errors.join("\n")).toMatch(/Type 'number' is not assignable to type 'string'/);
  });

  it("a job secret left out does not compile (the StarRocks password)", () => {
    const errors = stackErrors(broken('"starrocks.password": v.sr,', ""));
    expect(errors.join("\n")).toMatch(/starrocks\.password/);
  });

  it("an exported endpoint of the wrong type does not compile (Redis' port as its host)", () => {
    const errors = stackErrors(broken("redis: { host: redis.host, port: redis.port },", "redis: { host: redis.port, port: redis.port },"));
    expect(errors.join("\n")).toMatch(/not assignable to type 'Output<PlatformEndpoints>'/);
  });

  it("a database's credentials missing from the exported secrets does not compile", () => {
    const errors = stackErrors(broken("postgres: perDatabase((k) => ({ password: postgres.databases[k].apply((c) => c.password) })),", "postgres: {},"));
    expect(errors.join("\n")).toMatch(/PlatformCredentials/);
  });
});
