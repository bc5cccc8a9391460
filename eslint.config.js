// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The core of @hodei/domain does no I/O and reads neither the time nor randomness nor the
// environment (SPEC §2): those come through the Clock and IdGenerator ports.
const domainCoreImports = {
  paths: [
    'fs',
    'path',
    'os',
    'crypto',
    'child_process',
    'net',
    'http',
    'https',
    'events',
    'stream',
    'dockerode',
    'pg',
    'kysely',
    'tsyringe',
    'pino',
    'uuid',
  ].map((name) => ({ name, message: 'The domain core depends on neverthrow only (SPEC §2).' })),
  patterns: [
    { group: ['node:*'], message: 'The domain core does no I/O: take a port instead.' },
    { group: ['@hodei/*'], message: 'The domain core depends on neverthrow only (SPEC §2).' },
  ],
};

const domainCoreSyntax = [
  {
    selector: "MemberExpression[object.name='process']",
    message: 'No process access in the domain core: configuration comes in as arguments.',
  },
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'Read the time through the Clock port.',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'Read the time through the Clock port.',
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'Take randomness through the IdGenerator port.',
  },
  {
    selector: "CallExpression[callee.property.name='randomUUID']",
    message: 'Take ids through the IdGenerator port.',
  },
  {
    selector: "CallExpression[callee.name='setTimeout'], CallExpression[callee.name='setInterval']",
    message: 'Timers are I/O scheduling: the server drives the passes.',
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // One responsibility per file, and functions a reader can hold in view (docs/architecture.md).
    files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts', 'apps/*/src/**/*.tsx'],
    ignores: ['**/*.test.ts', '**/*.bench.ts', '**/bench/**', '**/testing/**'],
    rules: {
      'max-lines': ['error', { max: 500 }],
      'max-lines-per-function': ['error', { max: 100 }],
    },
  },
  {
    files: ['packages/domain/src/**/*.ts'],
    ignores: [
      'packages/domain/src/system/**',
      'packages/domain/src/testing/**',
      'packages/domain/src/**/*.test.ts',
      'packages/domain/src/**/*.bench.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', domainCoreImports],
      'no-restricted-syntax': ['error', ...domainCoreSyntax],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process access in the domain core.' },
        { name: 'crypto', message: 'Take ids through the IdGenerator port.' },
        { name: 'fetch', message: 'The domain core does no I/O.' },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/testing/**/*.ts'],
    rules: {
      // vitest's expect().rejects and similar chains are checked by the runner
      '@typescript-eslint/unbound-method': 'off',
      // Tests read JSON bodies whose shape the assertions check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
