/**
 * GeoIP for the collector (`rtdw:collector.geoip`): which MaxMind City database Vector's `geoip`
 * enrichment table reads. Vector 0.48 refuses to start on a file that is not a GeoIP2-City or
 * GeoLite2-City database (src/enrichment_tables/geoip.rs), so the file is checked here, at preview,
 * before anything is deployed.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The locales MaxMind City databases carry names in; Vector returns the configured one only (no fallback). */
export const GEOIP_LOCALES = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"] as const;
export type GeoipLocale = (typeof GEOIP_LOCALES)[number];

/** The database types Vector's geoip table loads (others: "Unsupported MMDB database type"). */
export const GEOIP_CITY_TYPES = ["GeoIP2-City", "GeoLite2-City"] as const;

export type GeoipSetting =
  /** On: the file is baked into the Vector image the stack builds, read-only, and looked up per event. */
  | { readonly kind: "on"; readonly path: string; readonly locale: GeoipLocale; readonly database?: { readonly type: string; readonly sha256: string } }
  /** Off: country/province/city stay null. `explicit`: the stack said "off" (prod requires that or a database). */
  | { readonly kind: "off"; readonly explicit: boolean };

/** Where Vector finds the database inside its image. */
export const GEOIP_IMAGE_PATH = "/etc/vector/geoip/GeoLite2-City.mmdb";

const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from("MaxMind.com")]);

/**
 * The `database_type` of an MMDB file, read from its metadata section (the map after the last
 * "\xAB\xCD\xEFMaxMind.com" marker, https://maxmind.github.io/MaxMind-DB/); undefined when the
 * file is not an MMDB database.
 */
export function mmdbDatabaseType(file: Buffer): string | undefined {
  const start = file.lastIndexOf(METADATA_MARKER);
  if (start < 0) return undefined;
  const meta = file.subarray(start + METADATA_MARKER.length);
  const key = Buffer.from("database_type");
  // A map key is a UTF-8 string: control byte 0b010 + length (< 29), then the bytes.
  const at = meta.indexOf(Buffer.concat([Buffer.from([0x40 | key.length]), key]));
  if (at < 0) return undefined;
  const ctrl = meta[at + 1 + key.length];
  if (ctrl >> 5 !== 2 || (ctrl & 0x1f) >= 29) return undefined;
  const from = at + 2 + key.length;
  return meta.subarray(from, from + (ctrl & 0x1f)).toString("utf8");
}

/** Resolves and checks `rtdw:collector.geoip`; problems name the key and what is wrong. */
export function resolveGeoip(
  raw: "off" | { readonly path: string; readonly locale?: GeoipLocale } | undefined,
  profile: string,
  key: (k: string) => string,
  checkFile = true,
  baseDir = process.cwd(),
): { setting: GeoipSetting; problems: string[] } {
  const k = key("collector.geoip");
  if (raw === undefined || raw === "off") {
    const problems =
      raw === undefined && profile === "prod"
        ? [`${k}: required on prod (the tracking design makes GeoIP mandatory): a GeoLite2/GeoIP2 City database, e.g. '{"path": "geoip/GeoLite2-City.mmdb"}', or "off" to deploy without country/province/city`]
        : [];
    return { setting: { kind: "off", explicit: raw === "off" }, problems };
  }
  const file = path.resolve(baseDir, raw.path);
  const locale = raw.locale ?? "zh-CN";
  // Reading the stack files for the docs needs no database; a deployment always checks it.
  if (!checkFile) return { setting: { kind: "on", path: file, locale }, problems: [] };
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return { setting: { kind: "off", explicit: false }, problems: [`${k}.path: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`] };
  }
  const databaseType = mmdbDatabaseType(bytes);
  if (databaseType === undefined) return { setting: { kind: "off", explicit: false }, problems: [`${k}.path: ${file} is not a MaxMind DB (.mmdb) file`] };
  if (!(GEOIP_CITY_TYPES as readonly string[]).includes(databaseType)) {
    return { setting: { kind: "off", explicit: false }, problems: [`${k}.path: ${file} is a ${databaseType} database; Vector's geoip table loads only ${GEOIP_CITY_TYPES.join(" or ")} (it would refuse to start)`] };
  }
  return { setting: { kind: "on", path: file, locale, database: { type: databaseType, sha256: createHash("sha256").update(bytes).digest("hex") } }, problems: [] };
}

/** What preview says about GeoIP for a stack. */
export function describeGeoip(s: GeoipSetting): string {
  return s.kind === "on"
    ? `GeoIP on: ${s.database ? `${s.database.type} ` : ""}${s.path}${s.database ? ` (sha256 ${s.database.sha256.slice(0, 12)})` : ""}, names in ${s.locale}`
    : `GeoIP is off${s.explicit ? " (rtdw:collector.geoip = \"off\")" : " (no rtdw:collector.geoip)"}: tracking events get no country, province or city`;
}
