#!/usr/bin/env bash
# npm run mutate [-- FILE...]: StrykerJS on the security-critical files (stryker.config.mjs), one
# run per file so each runs only the tests that concern it, then one score line per file.
# Each file is mutated against the unit tests of its layer that import it (a file under
# shared/domain: the test/unit/shared/domain tests that import it): fewer tests than the whole
# suite, so a score here can only be lower than the whole suite's, never higher.
# Property tests run FC_RUNS=30 (default 300) without shrinking (FC_NO_SHRINK=1): a mutant a
# property catches fails at the first counterexample. Override either in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
export FC_RUNS="${FC_RUNS:-30}" FC_NO_SHRINK="${FC_NO_SHRINK:-1}"

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(node --input-type=module -e \
    "const c = (await import('./stryker.config.mjs')).default; console.log(c.mutate.join('\n'))")
fi

mkdir -p reports/mutation
for file in "${files[@]}"; do
  name="$(basename "$file" .ts)"
  layer="$(basename "$(dirname "$file")")"
  mapfile -t tests < <(grep -rlE "/$layer/$name['\"]" "test/unit/shared/$layer" --include='*.test.ts' | sort)
  if [ "${#tests[@]}" -eq 0 ]; then
    echo "mutate: no test under test/unit/shared/$layer imports $file" >&2
    exit 1
  fi
  echo "== $file against ${tests[*]} (FC_RUNS=$FC_RUNS FC_NO_SHRINK=$FC_NO_SHRINK)"
  MUTATE_TESTS="$(IFS=,; echo "${tests[*]}")" npx stryker run stryker.config.mjs --mutate "$file"
  cp reports/mutation/mutation.json "reports/mutation/$name.json"
done

# One line per file from the JSON reports (Stryker's score: killed + timed out over all valid mutants).
node -e '
const fs = require("node:fs");
for (const file of process.argv.slice(1)) {
  const name = require("node:path").basename(file, ".ts");
  const report = JSON.parse(fs.readFileSync(`reports/mutation/${name}.json`, "utf8"));
  const count = {};
  for (const f of Object.values(report.files)) for (const m of f.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const n = (s) => count[s] ?? 0;
  const valid = n("Killed") + n("Timeout") + n("Survived") + n("NoCoverage");
  const score = valid === 0 ? 100 : (100 * (n("Killed") + n("Timeout"))) / valid;
  console.log(`${file}: ${score.toFixed(1)}% killed ${n("Killed")} timed out ${n("Timeout")} survived ${n("Survived")} no coverage ${n("NoCoverage")} errors ${n("CompileError") + n("RuntimeError")}`);
}' "${files[@]}"
