// Mutation testing of the security-critical files (`npm run mutate`): every mutant the unit
// tests do not notice is a condition that could change without a test failing. Too slow for
// CI (minutes per file on 2 cores); run it before resolving work on these files.
// Tuned for 2 cores (REFERENCE.md): per-test coverage, static mutants skipped (zod schemas),
// no TypeScript checker.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'test/jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  ignoreStatic: true,
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
