import * as fs from "fs";
import * as path from "path";
import { CACHE, ensureDir } from "./paths";
import { run } from "./process";
import { createHash } from "crypto";
import { FLINK_JARS, FUNCTIONS_DIR, FUNCTIONS_JAR, functionsFingerprint, jarFileName } from "../components/flink/artifacts";
import { installEngine } from "./engine";
import { DEBIAN_PACKAGES, FLINK_VERSION, MAVEN_SETS, MavenSet, MINIO_MODULE } from "./versions";

/**
 * Installs what is missing, idempotently, into CACHE. Each step has a marker that proves it finished,
 * so an interrupted install resumes where it stopped. Registry clients keep their own caches
 * (~/.m2, the Go build cache, pip's cache), which makes a re-install after `rm -rf .sandbox` fast.
 */

export const MINIO_BIN = path.join(CACHE, "bin", "minio");
export const FLINK_HOME = path.join(CACHE, `flink-${FLINK_VERSION}`);
export const KAFKA_LIBS = path.join(CACHE, "maven", "kafka");
/** Kafka's command-line tools as the image has them under /opt/kafka/bin, for the project's scripts. */
export const KAFKA_BIN = path.join(CACHE, "kafka-bin");
const REPO = path.resolve(__dirname, "..");
export const VRL_HARNESS_DIR = path.join(REPO, "tests", "vrl");
export const VRL_HARNESS_BIN = path.join(CACHE, "vrl-target", "release", "rtdw-vrl-harness");
export const PROMTOOL_DIR = path.join(REPO, "tests", "promtool");
/** promtool of the Prometheus the stacks run (3.5): Debian's 2.42 lacks Kubernetes service discovery. */
export const PROMTOOL_BIN = path.join(CACHE, "bin", "promtool");
export const GRAFANA_CONTRACT_DIR = path.join(REPO, "tests", "grafana-contract");
export const GRAFANA_CONTRACT_BIN = path.join(CACHE, "bin", "grafana-contract");
/** The tests' GeoIP City database (tests/geoip-fixture/fixture.json), written with MaxMind's MMDB writer. */
export const GEOIP_FIXTURE_DIR = path.join(REPO, "tests", "geoip-fixture");
export const GEOIP_FIXTURE_BIN = path.join(CACHE, "bin", "geoip-fixture");
export const GEOIP_TEST_DATABASE = path.join(CACHE, "geoip", "rtdw-test-City.mmdb");

function log(msg: string) {
  process.stderr.write(`[sandbox install] ${msg}\n`);
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = Date.now();
  log(`${what} ...`);
  const r = fn();
  log(`${what}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return r;
}

export function installDebian(): void {
  const missing = Object.entries(DEBIAN_PACKAGES).filter(([, bin]) => !fs.existsSync(bin)).map(([pkg]) => pkg);
  if (!missing.length) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(" ")}; install them with: sudo apt-get install -y ${missing.join(" ")}`);
  }
  timed(`apt-get install ${missing.join(" ")}`, () => {
    run("apt-get", ["update", "-qq"]);
    // Keep the packages' own init scripts from starting system-wide daemons on the default ports.
    const policy = "/usr/sbin/policy-rc.d";
    const ours = !fs.existsSync(policy);
    if (ours) fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    try {
      run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    } finally {
      if (ours) fs.rmSync(policy, { force: true });
    }
  });
}

export function installMinio(): void {
  if (fs.existsSync(MINIO_BIN)) return;
  timed(`go install ${MINIO_MODULE}`, () => {
    run("go", ["install", MINIO_MODULE], { env: { GOBIN: ensureDir(path.dirname(MINIO_BIN)), GOFLAGS: "-trimpath" } });
  });
}

/** Flink's lib/, bin/ helper jar and metrics plugin from PyPI's apache-flink-libraries (bundles flink-dist). */
export function installFlinkDist(): void {
  const marker = path.join(FLINK_HOME, "lib", `flink-dist-${FLINK_VERSION}.jar`);
  if (fs.existsSync(marker)) return;
  timed(`apache-flink-libraries ${FLINK_VERSION} from PyPI`, () => {
    const dl = ensureDir(path.join(CACHE, "downloads"));
    const sdist = path.join(dl, `apache-flink-libraries-${FLINK_VERSION}.tar.gz`);
    if (!fs.existsSync(sdist)) {
      run("python3", ["-m", "pip", "download", "--no-deps", "-d", dl, `apache-flink-libraries==${FLINK_VERSION}`]);
    }
    const tmp = path.join(CACHE, `flink-extract-${process.pid}`);
    ensureDir(tmp);
    run("tar", ["xzf", sdist, "-C", tmp, "--wildcards", "*/deps/lib/*", "*/deps/bin/*", "*/deps/plugins/metrics-prometheus/*"]);
    const deps = path.join(tmp, `apache-flink-libraries-${FLINK_VERSION}`, "deps");
    fs.rmSync(FLINK_HOME, { recursive: true, force: true });
    ensureDir(FLINK_HOME);
    for (const d of ["bin", "plugins", "lib"]) fs.renameSync(path.join(deps, d), path.join(FLINK_HOME, d));
    fs.rmSync(tmp, { recursive: true, force: true });
  });
}

function mavenSetDir(set: MavenSet) {
  return path.join(CACHE, "maven", set.name);
}

export function installMaven(set: MavenSet): void {
  const dir = mavenSetDir(set);
  const marker = path.join(dir, ".complete");
  const wanted = JSON.stringify(set.artifacts);
  if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === wanted) return;
  timed(`Maven ${set.name} (${set.artifacts.length} artifacts${set.transitive ? " + runtime dependencies" : ""})`, () => {
    fs.rmSync(dir, { recursive: true, force: true });
    const work = ensureDir(path.join(CACHE, "maven-poms", set.name));
    const deps = set.artifacts
      .map((a) => {
        const [g, id, v] = a.split(":");
        return `<dependency><groupId>${g}</groupId><artifactId>${id}</artifactId><version>${v}</version>${
          set.transitive ? "" : "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>"
        }</dependency>`;
      })
      .join("\n    ");
    fs.writeFileSync(
      path.join(work, "pom.xml"),
      `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>rtdw.sandbox</groupId><artifactId>${set.name}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`,
    );
    run("mvn", ["-q", "-B", "-f", path.join(work, "pom.xml"), "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies", `-DoutputDirectory=${dir}`, "-DincludeScope=runtime"]);
    fs.writeFileSync(marker, wanted);
  });
}

const FUNCTIONS_BUILD = path.join(CACHE, "functions-target");

/** The project's SQL functions (components/flink/image/functions), rebuilt by Maven when their sources change. */
export function buildFlinkFunctions(): void {
  const stamp = path.join(FUNCTIONS_BUILD, ".built-from");
  const fingerprint = functionsFingerprint();
  if (fs.existsSync(path.join(FUNCTIONS_BUILD, FUNCTIONS_JAR)) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === fingerprint) return;
  timed("mvn package of the project's Flink SQL functions", () => {
    fs.rmSync(FUNCTIONS_BUILD, { recursive: true, force: true });
    run("mvn", ["-q", "-B", "-f", path.join(FUNCTIONS_DIR, "pom.xml"), "package", `-Dfunctions.build.dir=${FUNCTIONS_BUILD}`]);
    fs.writeFileSync(stamp, fingerprint);
  });
}

/**
 * Flink with the image's jars: connectors in lib/, the gateway in opt/, S3 as a plugin; SHA-1 checked;
 * and the project's functions in lib/, as the image has them. Only a jar whose bytes differ is written,
 * through a new file renamed into place (a running JVM keeps reading the one it opened). Returns the
 * jars it added, replaced or removed: a running Flink must restart to load them.
 */
export function assembleFlink(): string[] {
  const src = path.join(CACHE, "maven", "flink-jars");
  const wanted = new Map(FLINK_JARS.map((j) => [jarFileName(j), j]));
  const changed: string[] = [];
  const place = (from: string, to: string) => {
    const bytes = fs.readFileSync(from);
    if (fs.existsSync(to) && fs.readFileSync(to).equals(bytes)) return;
    ensureDir(path.dirname(to));
    fs.writeFileSync(`${to}.new`, bytes);
    fs.renameSync(`${to}.new`, to);
    changed.push(path.basename(to));
  };
  // A jar removed from the list leaves nothing stale behind in lib/.
  const libDir = path.join(FLINK_HOME, "lib");
  const keep = new Set([...[...wanted.entries()].filter(([, j]) => j.dir === "lib").map(([f]) => f), FUNCTIONS_JAR]);
  for (const f of fs.readdirSync(libDir)) {
    if (!f.includes(`-${FLINK_VERSION}.jar`) && !f.startsWith("log4j-") && !keep.has(f)) {
      fs.rmSync(path.join(libDir, f));
      changed.push(f);
    }
  }
  for (const [file, jar] of wanted) {
    const from = path.join(src, file);
    const sha1 = createHash("sha1").update(fs.readFileSync(from)).digest("hex");
    if (sha1 !== jar.sha1) throw new Error(`${jar.coordinates}: SHA-1 ${sha1} differs from the pinned ${jar.sha1} (components/flink/artifacts.ts)`);
    place(from, path.join(FLINK_HOME, jar.dir, file));
  }
  place(path.join(FUNCTIONS_BUILD, FUNCTIONS_JAR), path.join(libDir, FUNCTIONS_JAR));
  return changed;
}

/** Shell entry points over the Kafka jars, named and used like the distribution's bin/ scripts. */
export function installKafkaBin(): void {
  ensureDir(KAFKA_BIN);
  const tools: Record<string, string> = {
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-acls.sh": "kafka.admin.AclCommand",
    "kafka-consumer-groups.sh": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  };
  for (const [name, cls] of Object.entries(tools)) {
    fs.writeFileSync(
      path.join(KAFKA_BIN, name),
      `#!/bin/sh\nexec java -Xmx256m -Dlog4j.configuration=file:${path.join(KAFKA_BIN, "tools-log4j.properties")} -cp '${KAFKA_LIBS}/*' ${cls} "$@"\n`,
      { mode: 0o755 },
    );
  }
  fs.writeFileSync(path.join(KAFKA_BIN, "tools-log4j.properties"), "log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\nlog4j.appender.stderr.Target=System.err\n");
}

/**
 * The VRL harness (tests/vrl): Vector's own VRL crate runs the collector's programs. Cargo rebuilds
 * only what changed; the first build compiles the VRL crate (a few minutes on 2 cores).
 */
export function buildVrlHarness(): void {
  const stamp = path.join(CACHE, "vrl-target", ".built-from");
  const inputs = ["Cargo.toml", "Cargo.lock", "src/main.rs"].map((f) => fs.readFileSync(path.join(VRL_HARNESS_DIR, f), "utf8")).join("\0");
  const fingerprint = createHash("sha256").update(inputs).digest("hex");
  if (fs.existsSync(VRL_HARNESS_BIN) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === fingerprint) return;
  timed("cargo build of the VRL harness (vrl crate)", () => {
    run("cargo", ["build", "--release", "--locked", "--quiet", "--manifest-path", path.join(VRL_HARNESS_DIR, "Cargo.toml")], {
      env: { CARGO_TARGET_DIR: path.join(CACHE, "vrl-target") },
    });
    fs.writeFileSync(stamp, fingerprint);
  });
}

/** Builds a Go program of a pinned module in the repository (go.sum), again only when its sources change. */
function goBuild(what: string, dir: string, pkg: string, bin: string, sources: string[], ldflags?: string): void {
  const stamp = `${bin}.built-from`;
  const fingerprint = createHash("sha256").update(sources.map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\0")).digest("hex");
  if (fs.existsSync(bin) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === fingerprint) return;
  timed(`go build of ${what}`, () => {
    ensureDir(path.dirname(bin));
    run("go", ["build", "-trimpath", "-mod=readonly", ...(ldflags ? ["-ldflags", ldflags] : []), "-o", bin, pkg], { cwd: dir });
    fs.writeFileSync(stamp, fingerprint);
  });
}

/**
 * Writes the tests' GeoIP database (the sandbox's collector reads it; unit tests deploy it): built
 * with MaxMind's own writer from fixture.json, rewritten every time (milliseconds), atomically.
 */
export function buildGeoipTestDatabase(): string {
  goBuild("the test GeoIP database writer (mmdbwriter v1.2.0)", GEOIP_FIXTURE_DIR, ".", GEOIP_FIXTURE_BIN, ["go.mod", "go.sum", "main.go"]);
  ensureDir(path.dirname(GEOIP_TEST_DATABASE));
  const tmp = `${GEOIP_TEST_DATABASE}.${process.pid}.tmp`;
  run(GEOIP_FIXTURE_BIN, [path.join(GEOIP_FIXTURE_DIR, "fixture.json"), tmp]);
  fs.renameSync(tmp, GEOIP_TEST_DATABASE);
  return GEOIP_TEST_DATABASE;
}

/** actionlint checks the GitHub workflows (.github/workflows) in the unit tests. */
export const ACTIONLINT_DIR = path.join(REPO, "tests", "actionlint");
export const ACTIONLINT_BIN = path.join(CACHE, "bin", "actionlint");

export function buildActionlint(): void {
  goBuild("actionlint v1.7.12", ACTIONLINT_DIR, "github.com/rhysd/actionlint/cmd/actionlint", ACTIONLINT_BIN, ["go.mod", "go.sum"]);
}

export function buildPromtool(): void {
  goBuild("promtool (Prometheus v3.5.0)", PROMTOOL_DIR, "github.com/prometheus/prometheus/cmd/promtool", PROMTOOL_BIN, ["go.mod", "go.sum"]);
}

/** The Grafana API contract checker (tests/grafana-contract, on grafana-openapi-client-go). */
export function buildGrafanaContract(): void {
  goBuild("the Grafana API contract checker", GRAFANA_CONTRACT_DIR, ".", GRAFANA_CONTRACT_BIN, ["go.mod", "go.sum", "main.go"]);
}

/**
 * The Kubernetes checks (tests/kube): etcd v3.7.3 and kube-apiserver v1.37.2 from the Go module proxy
 * (a cold kube-apiserver build takes about 5 minutes and 2.5 GB; cached after), and netpol-judge on
 * cyclonus v0.5.6's NetworkPolicy engine.
 */
export const KUBE_DIR = path.join(REPO, "tests", "kube");
export const ETCD_BIN = path.join(CACHE, "bin", "etcd");
export const KUBE_APISERVER_BIN = path.join(CACHE, "bin", "kube-apiserver");
export const NETPOL_JUDGE_BIN = path.join(CACHE, "bin", "netpol-judge");
export const KUBE_SCHEDULER_BIN = path.join(CACHE, "bin", "kube-scheduler");
export const KUBE_CONTROLLER_MANAGER_BIN = path.join(CACHE, "bin", "kube-controller-manager");
export const KWOK_BIN = path.join(CACHE, "bin", "kwok");
export const KWOK_VERSION = "v0.8.0";

export function buildKubernetesTools(): void {
  goBuild("etcd v3.7.3", path.join(KUBE_DIR, "etcd"), ".", ETCD_BIN, ["go.mod", "go.sum", "main.go"]);
  const controlPlane = (cmd: string, bin: string) =>
    goBuild(`${cmd} v1.37.2`, path.join(KUBE_DIR, "apiserver"), `k8s.io/kubernetes/cmd/${cmd}`, bin, ["go.mod", "go.sum"], "-s -w -X k8s.io/component-base/version.gitVersion=v1.37.2");
  controlPlane("kube-apiserver", KUBE_APISERVER_BIN);
  controlPlane("kube-scheduler", KUBE_SCHEDULER_BIN);
  controlPlane("kube-controller-manager", KUBE_CONTROLLER_MANAGER_BIN);
  goBuild(`kwok ${KWOK_VERSION}`, path.join(KUBE_DIR, "kwok"), "sigs.k8s.io/kwok/cmd/kwok", KWOK_BIN, ["go.mod", "go.sum"], "-s -w");
  goBuild("netpol-judge (cyclonus v0.5.6)", path.join(KUBE_DIR, "netpol-judge"), ".", NETPOL_JUDGE_BIN, ["go.mod", "go.sum", "main.go"]);
}

/** What the sandbox's processes need; returns the Flink jars that changed (see assembleFlink). */
export function install(): { flinkJarsChanged: string[] } {
  ensureDir(CACHE);
  installDebian();
  for (const set of MAVEN_SETS) installMaven(set);
  installFlinkDist();
  buildFlinkFunctions();
  const flinkJarsChanged = assembleFlink();
  installKafkaBin();
  installMinio();
  buildVrlHarness();
  buildGeoipTestDatabase();
  buildPromtool();
  buildActionlint();
  buildGrafanaContract();
  buildKubernetesTools();
  // The Pulumi CLI and Node.js language host (sandbox/engine.ts), unless a pulumi is on PATH.
  installEngine();
  return { flinkJarsChanged };
}
