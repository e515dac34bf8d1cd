/**
 * Vector 0.48's config loading rule the stand-in and the tests apply to the rendered text: before
 * parsing, every `$name`, `${name}`, `${name:-default}`, `${name-default}`, `${name:?err}` and
 * `${name?err}` anywhere in the text (comments and VRL included) is replaced from the environment,
 * `$$` becomes `$`, and an undefined name without a default stops Vector ("Missing environment
 * variable in config. name = …", since 0.38). Written from vectordotdev/vector v0.48.0
 * src/config/vars.rs; names are word characters and dots.
 */
const VARIABLE = /\$\$|\$([\w.]+)|\$\{([\w.]+)(?:(:?-|:?\?)([^}]*))?\}/g;

export function vectorInterpolate(text: string, env: Readonly<Record<string, string>>): string {
  const errors: string[] = [];
  const out = text.replace(VARIABLE, (_whole, bare: string | undefined, braced: string | undefined, flag: string | undefined, arg: string | undefined) => {
    const name = bare ?? braced;
    if (name === undefined) return "$";
    const v = env[name];
    switch (flag) {
      case ":-":
        return v ? v : (arg ?? "");
      case "-":
        return v ?? arg ?? "";
      case ":?":
        if (v) return v;
        errors.push(`Non-empty environment variable required in config. name = "${name}", error = "${arg ?? ""}"`);
        return "";
      case "?":
        if (v !== undefined) return v;
        errors.push(`Missing environment variable required in config. name = "${name}", error = "${arg ?? ""}"`);
        return "";
      default:
        if (v !== undefined) return v;
        errors.push(`Missing environment variable in config. name = "${name}"`);
        return "";
    }
  });
  if (errors.length) throw new Error(`Vector would refuse this config: ${errors.join("; ")}`);
  return out;
}
