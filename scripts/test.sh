#!/usr/bin/env bash
# `npm test`: format check, lint, typecheck, then every test suite (unit + integration on PGlite and PostgreSQL,
# fault tests, browser end-to-end tests). Installs what the suites need when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh
mkdir -p test-artifacts
status=0
# Lint, typecheck and build are independent single-threaded programs: side by side they keep both
# cores busy (about half the time of one after the other). Each writes its own log, printed in order.
step() {
  local name=$1; shift
  "$@" > "test-artifacts/$name.log" 2>&1
}
step format npx prettier --check . &
format_pid=$!
step lint npx eslint . &
lint_pid=$!
step typecheck npx tsc -p tsconfig.json --noEmit &
typecheck_pid=$!
step build npm run build --silent &
build_pid=$!
checks=0
for name in format lint typecheck build; do
  pid_var="${name}_pid"
  echo "== $name"
  wait "${!pid_var}" || checks=1
  cat "test-artifacts/$name.log"
done
# As before: a format, lint or type error stops here, before the suites.
[ $checks -eq 0 ] || exit 1
run() {
  local name=$1; shift
  echo "== $name"
  npx vitest run "$@" --reporter=default --reporter=json --outputFile="test-artifacts/$name.json"
}
# The fault tests (one file at a time) and the browser tests (one browser at a time) use about a
# third of a core each (89 and 85 s of CPU over 265 and 202 s, measured on 2 cores) and spend the rest
# waiting on processes, timeouts and pages: they run beside the unit and integration suites, which keep
# both cores busy, rather than after them, where they added four minutes of mostly idle cores to every
# run. Each writes its own log, printed whole once every suite has finished.
run faults --config vitest.faults.config.ts > test-artifacts/faults.log 2>&1 &
faults_pid=$!
run e2e --config vitest.e2e.config.ts > test-artifacts/e2e.log 2>&1 &
e2e_pid=$!
run unit-and-integration || status=1
wait $faults_pid || status=1
wait $e2e_pid || status=1
cat test-artifacts/faults.log test-artifacts/e2e.log
# One closing line over every suite, in the plain form CI reads, after the name and first lines of
# each failure: CI keeps only the end of a long log, and the suites print their failures far above it.
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const n of ["unit-and-integration", "faults", "e2e"]) {
    const f = `test-artifacts/${n}.json`;
    if (!fs.existsSync(f)) { failed++; console.log(`FAILED ${n}: no report (the suite did not finish)`); continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped += (r.numPendingTests || 0) + (r.numTodoTests || 0);
    for (const file of r.testResults || []) {
      const where = file.name.replace(process.cwd() + "/", "");
      const bad = (file.assertionResults || []).filter((a) => a.status === "failed");
      if (bad.length === 0 && file.status === "failed") console.log(`FAILED ${where}: ${(file.message || "").split("\n").slice(0, 6).join("\n  ")}`);
      for (const a of bad) console.log(`FAILED ${where} > ${a.fullName}\n  ${(a.failureMessages || []).join("\n").split("\n").slice(0, 8).join("\n  ")}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (passed === 0) process.exitCode = 1;
' || status=1
exit $status
