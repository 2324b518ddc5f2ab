// Mutation testing of the security-critical files: every mutant the unit tests do not notice is
// a condition that could change without a test failing. Too slow for CI; run it before resolving
// work on these files. `npm run mutate` runs scripts/mutate.sh: one stryker run per file below,
// each against the unit tests that import that file (MUTATE_TESTS, test/jest.mutation.config.js)
// with FC_RUNS=30 FC_NO_SHRINK=1, then prints each file's score. `npx stryker run
// stryker.config.mjs` alone runs every file against the whole unit suite (hours on 2 cores).
// Tuned for 2 cores (REFERENCE.md): per-test coverage, static mutants skipped (zod schemas),
// no TypeScript checker. A mutant that runs past the timeout (the covering tests' time x 1.5 +
// timeoutMS) counts as detected (in glob.ts: loops the mutant made endless); a
// shorter wait keeps them from dominating the run.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'test/jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  ignoreStatic: true,
  timeoutMS: 4000,
  mutate: [
    'shared/domain/session-policy.ts',
    'shared/domain/grant-policy.ts',
    'shared/domain/template.ts',
    'shared/domain/glob.ts',
    'shared/domain/session.ts',
    'shared/domain/identity.ts',
    'shared/domain/certificate-profile.ts',
    'shared/use-cases/session-reuse.ts',
  ],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['.venv', '.venv-lint', 'packages/*/dist', '.local', 'cdk.out', 'bench/results', 'bench/.out', 'reports', 'coverage', 'dist', 'docs', 'examples'],
  thresholds: { high: 90, low: 80, break: null },
};
