import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.foresight/**', 'test/fixtures/**', 'scripts/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Workflows are replayed deterministically: no clocks or randomness outside Temporal's own APIs.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use workflow time (Date in workflow code is replay-safe only via Temporal).' },
        { object: 'Math', property: 'random', message: 'Non-deterministic in workflows.' },
      ],
    },
  },
);
