// @ts-nocheck
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.venv/', '.venv-lint/', 'cdk.out/', 'coverage/', 'dist/', 'packages/*/dist/', '.local/', 'bench/results/', 'bench/.out/', 'infra/cdk.out/', '**/cdk.out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The domain must stay free of AWS: it is the part every adapter and test relies on.
    files: ['shared/domain/**/*.ts', 'shared/ports/**/*.ts', 'shared/use-cases/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', '@smithy/*', '**/adapters/**'] }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
