import * as path from "path";
import * as ts from "typescript";

const REPO = path.resolve(__dirname, "../..");

/**
 * Checks dashboard JSON against Grafana's dashboard schema as Grafana publishes it for the version the
 * stacks run: the @grafana/schema types (generated from Grafana's CUE kinds), pinned to the Grafana
 * image's version. Each dashboard becomes an object literal typed `Dashboard`, so the compiler reports
 * every field the schema does not have, every missing required field and every value of the wrong type.
 * Returns one message per problem, empty when all conform.
 */
export function dashboardSchemaProblems(dashboards: readonly unknown[]): string[] {
  // A virtual file inside the repository, so "@grafana/schema" resolves from its node_modules.
  const file = path.join(REPO, "dashboards", "__schema_check__.ts");
  const source = `import type { Dashboard } from "@grafana/schema";\n${dashboards.map((d, i) => `export const dashboard${i}: Dashboard = ${JSON.stringify(d, null, 1)};`).join("\n")}\n`;
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (path.resolve(name) === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  const titles = dashboards.map((d) => String((d as { title?: unknown }).title));
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file === sf && d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line : -1;
    // Which dashboard the line belongs to: count the declarations above it.
    const which = line >= 0 ? source.split("\n").slice(0, line + 1).filter((l) => l.startsWith("export const dashboard")).length - 1 : -1;
    return `${which >= 0 ? `dashboard "${titles[which]}"` : d.file?.fileName ?? "?"}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
  });
}
