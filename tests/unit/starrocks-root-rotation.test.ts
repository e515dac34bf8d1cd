import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STARROCKS_BOOTSTRAP } from "../../components/starrocks/starrocks";
import { parseStackConfig } from "../../components/config";

/**
 * The StarRocks bootstrap's root-password logic, run as written against a stand-in `mysql` client
 * that keeps root's password in a file and answers as StarRocks' FE does (MySQL protocol contract:
 * a wrong password is refused, SET PASSWORD replaces it). StarRocks itself cannot run here.
 */
describe("StarRocks root password: set on a fresh FE, rotated with the previous one, refused plainly otherwise (stand-in mysql client; StarRocks' MySQL-protocol contract)", () => {
  const run = (stored: string, env: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sr-root-"));
    const state = path.join(dir, "root-password");
    fs.writeFileSync(state, stored);
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // Logs in when MYSQL_PWD is root's password; SET PASSWORD stores the new one; everything else succeeds quietly.
    fs.writeFileSync(
      path.join(bin, "mysql"),
      `#!/bin/bash
[ "\${MYSQL_PWD-}" = "$(cat '${state}')" ] || { echo "ERROR 1045 (28000): Access denied for user 'root'" >&2; exit 1; }
for a in "$@"; do
  if [[ "$a" =~ ^SET\\ PASSWORD\\ FOR\\ \\'root\\'\\ =\\ PASSWORD\\(\\'(.*)\\'\\)$ ]]; then printf '%s' "\${BASH_REMATCH[1]}" > '${state}'; echo "SET PASSWORD" >> '${dir}/log'; fi
done
cat >/dev/null 2>&1 < /dev/null
exit 0
`,
      { mode: 0o755 },
    );
    fs.mkdirSync(path.join(dir, "sql"));
    fs.writeFileSync(path.join(dir, "bootstrap.sh"), STARROCKS_BOOTSTRAP);
    const r = spawnSync("bash", [path.join(dir, "bootstrap.sh")], {
      env: { PATH: `${bin}:${process.env.PATH}`, FE_HOST: "fe", COMPUTE_NODES: "", SQL_DIR: path.join(dir, "sql"), LOGIN_ATTEMPTS: "2", ...env },
      encoding: "utf8",
      timeout: 30000,
    });
    const sets = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n").length : 0;
    const result = { status: r.status, stdout: r.stdout, stderr: r.stderr, password: fs.readFileSync(state, "utf8"), sets };
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
  };

  it("a fresh FE (empty root password) gets the stack's password", () => {
    const r = run("", { STARROCKS_ROOT_PASSWORD: "newRootPassword1234" });
    expect(r).toMatchObject({ status: 0, password: "newRootPassword1234", sets: 1 });
  });

  it("a current password is left alone (no SET PASSWORD on every run)", () => {
    const r = run("newRootPassword1234", { STARROCKS_ROOT_PASSWORD: "newRootPassword1234" });
    expect(r).toMatchObject({ status: 0, password: "newRootPassword1234", sets: 0 });
  });

  it("rotates: logs in with rtdw:starrocksRootPasswordPrevious and sets the new one", () => {
    const r = run("oldRootPassword1234", { STARROCKS_ROOT_PASSWORD: "newRootPassword1234", STARROCKS_ROOT_PASSWORD_PREVIOUS: "oldRootPassword1234" });
    expect(r).toMatchObject({ status: 0, password: "newRootPassword1234", sets: 1 });
    expect(r.stdout).toMatch(/root password rotated; remove rtdw:starrocksRootPasswordPrevious/);
  });

  it("a password changed outside the stack fails with what to do, and changes nothing", () => {
    const r = run("someoneElses12345678", { STARROCKS_ROOT_PASSWORD: "newRootPassword1234", STARROCKS_ROOT_PASSWORD_PREVIOUS: "oldRootPassword1234" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/root could not log in within 5 minutes with the current password, the previous one \(rtdw:starrocksRootPasswordPrevious\), or an empty one/);
    expect(r.password).toBe("someoneElses12345678");
    expect(r.stderr).not.toMatch(/newRootPassword1234|oldRootPassword1234/);
  });

  const cfg = (values: Record<string, string>) => {
    const all = { "rtdw:target": "kubernetes", "rtdw:imageRegistry": "registry.example.com/rtdw", "rtdw:sourcePassword": "x", "rtdw:source": JSON.stringify({ host: "h", database: "d", user: "u" }), ...values };
    return parseStackConfig("rtdw", "test", all, new Set(Object.keys(all).filter((k) => /Password/.test(k))));
  };

  it("re-runs the bootstrap when the supplied password changes (a digest in the task's revision, never the value)", () => {
    const a = cfg({ "rtdw:starrocksRootPassword": "firstRootPassword123" }).starrocksRootRevision;
    const b = cfg({ "rtdw:starrocksRootPassword": "otherRootPassword123", "rtdw:starrocksRootPasswordPrevious": "firstRootPassword123" }).starrocksRootRevision;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(cfg({}).starrocksRootRevision).toBe("generated");
  });

  it("refuses a previous password without a new one, naming both keys", () => {
    expect(() => cfg({ "rtdw:starrocksRootPasswordPrevious": "firstRootPassword123" })).toThrow(/rtdw:starrocksRootPasswordPrevious: only used while rotating: set rtdw:starrocksRootPassword to the new password too/);
  });
});
