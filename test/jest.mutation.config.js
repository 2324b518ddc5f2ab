/** The unit tests for mutation testing (stryker.config.mjs). By default the unit tests of the
 * domain, use cases and handlers (the infra tests synthesize stacks and test no mutated file).
 * scripts/mutate.sh narrows this per mutated file with MUTATE_TESTS (a comma-separated list of
 * test files, relative to the repo): the unit tests that import that file. Fewer tests can only
 * lower a score, never raise it. Stryker runs jest in its sandbox, so rootDir is the cwd. */
const path = require('node:path');
const { projects } = require(path.join(process.cwd(), 'jest.config.js'));
const unit = projects.find((p) => p.displayName === 'unit');
const only = (process.env.MUTATE_TESTS ?? '').split(',').filter(Boolean);

module.exports = {
  rootDir: process.cwd(),
  transform: unit.transform,
  transformIgnorePatterns: unit.transformIgnorePatterns,
  setupFiles: unit.setupFiles,
  testMatch:
    only.length > 0
      ? only.map((file) => `<rootDir>/${file}`)
      : ['<rootDir>/test/unit/shared/**/*.test.ts', '<rootDir>/test/unit/functions/**/*.test.ts'],
  testTimeout: 30000,
};
