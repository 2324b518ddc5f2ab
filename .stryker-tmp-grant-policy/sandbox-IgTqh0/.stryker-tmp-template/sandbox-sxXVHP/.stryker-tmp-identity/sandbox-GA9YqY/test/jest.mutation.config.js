/** The unit tests of the domain, use cases and handlers, for mutation testing (stryker.config.mjs).
 * The infra tests synthesize stacks and would add minutes per mutant; they test no mutated file. */
// @ts-nocheck

// 

// 

const { projects } = require('../jest.config.js');
const unit = projects.find((p) => p.displayName === 'unit');

module.exports = {
  rootDir: '..',
  transform: unit.transform,
  transformIgnorePatterns: unit.transformIgnorePatterns,
  setupFiles: unit.setupFiles,
  testMatch: ['<rootDir>/test/unit/shared/**/*.test.ts', '<rootDir>/test/unit/functions/**/*.test.ts'],
  testTimeout: 30000,
};
