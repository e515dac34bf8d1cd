#!/usr/bin/env bash
# The project's one test command (`npm test`): installs what is missing, type-checks, runs the unit
# tests (Pulumi mocks, seconds), starts the local sandbox and runs the integration tests against
# the real services, then prints one summary line. Works on a fresh clone of a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/env.sh
bash scripts/ensure-deps.sh

echo "== type check (tsc --noEmit)"
npx tsc --noEmit -p .

reports=$(mktemp -d)
status=0
echo "== unit tests"
npx jest --selectProjects unit --json --outputFile="$reports/unit.json" || status=1
echo "== integration tests (real services of the local sandbox)"
npx jest --selectProjects integration --runInBand --json --outputFile="$reports/integration.json" || status=1

if [ "${CI:-}" = "true" ]; then
  npm run -s sandbox -- down || true
fi

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed++; console.error(`no report: ${f}`); continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; skipped += r.numPendingTests + r.numTodoTests;
  }
  if (passed === 0) failed++;
  // The failures last, one line each: CI keeps only the tail of what this prints.
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) continue;
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    for (const s of r.testResults) {
      const file = s.name.replace(process.cwd() + "/", "");
      if (s.status === "failed" && !s.assertionResults.some((a) => a.status === "failed")) {
        console.log(`FAILED ${file}: ${String(s.message).replace(/\u001b\[[0-9;]*m/g, "").split("\n").find((l) => l.trim()) ?? "suite failed"}`.slice(0, 400));
      }
      for (const a of s.assertionResults.filter((a) => a.status === "failed")) {
        const why = (a.failureMessages[0] ?? "").replace(/\u001b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 2).join(" | ");
        console.log(`FAILED ${file} › ${a.fullName} (${Math.round((a.duration ?? 0) / 1000)} s): ${why}`.slice(0, 400));
      }
    }
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
' "$reports/unit.json" "$reports/integration.json" || status=1
exit $status
