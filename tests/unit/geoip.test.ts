import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { configErrorOf } from "../helpers/config";
import { ofType, runStack, testGeoipDatabase } from "../helpers/mocks";
import { parseStackConfig } from "../../components/config";
import { GEOIP_IMAGE_PATH, mmdbDatabaseType } from "../../components/config/geoip";

// The tests' City database, written by MaxMind's own writer (tests/geoip-fixture) from fixture.json.
const SOURCE = JSON.stringify({ host: "mysql.shop.svc", database: "shop", user: "rtdw_cdc" });
const WEBHOOKS = JSON.stringify({ ops: "https://h.example.com/o", business: "https://h.example.com/b", data: "https://h.example.com/d", infra: "https://h.example.com/i" });
const prod = (collector?: unknown) =>
  parseStackConfig(
    "rtdw",
    "prod",
    {
      "rtdw:sourcePassword": "source-password-0001",
      "rtdw:imageRegistry": "registry.example.com/rtdw",
      "rtdw:source": SOURCE,
      "rtdw:alertWebhooks": WEBHOOKS,
      ...(collector === undefined ? {} : { "rtdw:collector": JSON.stringify(collector) }),
    },
    new Set(["rtdw:sourcePassword", "rtdw:alertWebhooks"]),
  );

describe("GeoIP from config (rtdw:collector.geoip), checked before anything is deployed", () => {
  let db: string;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-geoip-"));
  beforeAll(() => (db = testGeoipDatabase()), 600_000);
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("reads the database type from the file's MMDB metadata, as Vector does before it loads one", () => {
    expect(mmdbDatabaseType(fs.readFileSync(db))).toBe("GeoLite2-City");
    expect(mmdbDatabaseType(Buffer.from("not a database"))).toBeUndefined();
  });

  it("prod refuses to deploy without GeoIP unless it is explicitly off; the other stacks run without it", () => {
    expect(configErrorOf(() => prod())).toContain('rtdw:collector.geoip: required on prod (the tracking design makes GeoIP mandatory)');
    expect(prod({ geoip: "off" }).geoip).toEqual({ kind: "off", explicit: true });
    expect(prod({ geoip: { path: db } }).geoip).toMatchObject({ kind: "on", path: db, locale: "zh-CN", database: { type: "GeoLite2-City" } });
  });

  it("a missing file, a file that is no MMDB, and a database Vector would refuse each fail naming the key", () => {
    expect(configErrorOf(() => prod({ geoip: { path: path.join(scratch, "nope.mmdb") } }))).toMatch(/rtdw:collector\.geoip\.path: cannot read .*nope\.mmdb: ENOENT/);
    const text = path.join(scratch, "text.mmdb");
    fs.writeFileSync(text, "hello");
    expect(configErrorOf(() => prod({ geoip: { path: text } }))).toMatch(/rtdw:collector\.geoip\.path: .*text\.mmdb is not a MaxMind DB \(\.mmdb\) file/);
    // The same database typed as a country database: Vector's geoip table refuses to start on it.
    const country = path.join(scratch, "country.mmdb");
    fs.writeFileSync(country, Buffer.from(fs.readFileSync(db).toString("latin1").replace("GeoLite2-City", "GeoLite2-Ctry"), "latin1"));
    expect(configErrorOf(() => prod({ geoip: { path: country } }))).toMatch(/is a GeoLite2-Ctry database; Vector's geoip table loads only GeoIP2-City or GeoLite2-City \(it would refuse to start\)/);
    expect(configErrorOf(() => prod({ geoip: { path: db, locale: "zh" } }))).toMatch(/rtdw:collector\.geoip\.locale: expected one of de, en, es, fr, ja, pt-BR, ru, zh-CN/);
  });

  it("the shipped prod stack names a City database; the docs read it without one", () => {
    const file = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8")).config["rtdw:collector"];
    expect(file.geoip).toEqual({ path: "geoip/GeoLite2-City.mmdb", locale: "zh-CN" });
    const { shippedStacks } = require("../../scripts/docs") as typeof import("../../scripts/docs");
    expect(shippedStacks().prod.geoip).toMatchObject({ kind: "on", path: path.resolve("geoip/GeoLite2-City.mmdb") });
  });

  describe("deployed: the database is baked into the Vector image and the config's geoip table reads it", () => {
    it("on: the image's build context holds the file, the table and the lookup are in the config; a new database is a new image", async () => {
      const vectorImage = (r: Awaited<ReturnType<typeof runStack>>) => ofType(r.registered, "docker:index/image:Image").find((i) => String(i.inputs.imageName).includes("/vector:"))!;
      const on = await runStack("dev", { collector: JSON.stringify({ geoip: { path: db, locale: "en" } }) });
      const image = vectorImage(on);
      expect(fs.readFileSync(path.join(image.inputs.build.context, "geoip", path.basename(GEOIP_IMAGE_PATH)))).toEqual(fs.readFileSync(db));
      expect(fs.readFileSync(path.join(image.inputs.build.context, "Dockerfile"), "utf8")).toContain("COPY geoip/ /etc/vector/geoip/");
      const conf = YAML.parse(ofType(on.registered, "docker:index/container:Container").flatMap((c) => c.inputs.uploads ?? []).find((u: { file: string }) => u.file.endsWith("vector.yaml")).content);
      expect(conf.enrichment_tables.geoip).toEqual({ type: "geoip", path: GEOIP_IMAGE_PATH, locale: "en" });
      expect(conf.transforms.sensors_decode.source).toMatch(/^if ip != "" \{ geo = get_enrichment_table_record\("geoip"/m);

      const other = path.join(scratch, "other.mmdb");
      fs.writeFileSync(other, Buffer.concat([Buffer.from([0]), fs.readFileSync(db)]));
      const changed = vectorImage(await runStack("dev", { collector: JSON.stringify({ geoip: { path: other, locale: "en" } }) }));
      expect(changed.inputs.imageName).not.toBe(image.inputs.imageName);
      // The same inputs give the same build context (no diff on every preview).
      expect(vectorImage(await runStack("dev", { collector: JSON.stringify({ geoip: { path: db, locale: "en" } }) })).inputs.build.context).toBe(image.inputs.build.context);
    });

    it("off: no table, the lookup commented out, the repository's own build context", async () => {
      const off = await runStack("dev", {});
      const image = ofType(off.registered, "docker:index/image:Image").find((i) => String(i.inputs.imageName).includes("/vector:"))!;
      expect(image.inputs.build.context).toBe(path.resolve(__dirname, "..", "..", "components", "collector", "vector-image"));
      const conf = YAML.parse(ofType(off.registered, "docker:index/container:Container").flatMap((c) => c.inputs.uploads ?? []).find((u: { file: string }) => u.file.endsWith("vector.yaml")).content);
      expect(conf.enrichment_tables.geoip).toBeUndefined();
      expect(conf.transforms.sensors_decode.source).toContain('# GeoIP off: if ip != ""');
    });
  });
});
