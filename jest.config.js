/** Two projects: unit tests (in-memory fakes, no network) and integration tests (real AWS SDK
 * clients against moto servers started by test/integration/global-setup.ts). */
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript', decorators: true } }, module: { type: 'commonjs' } }],
};
// middy and jose ship ESM only; let swc turn them into CommonJS for jest.
const transformIgnorePatterns = ['node_modules/(?!(@middy|jose)/)'];

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/infra/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      setupFiles: ['<rootDir>/test/setup-env.ts'],
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      setupFiles: ['<rootDir>/test/setup-env.ts'],
      // Checks every answer against docs/openapi.json.
      setupFilesAfterEnv: ['<rootDir>/test/integration/answer-contract.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
  testTimeout: 30000,
};
