// ESLint with typescript-eslint's type-checked rules, chosen for what they catch in this code base: promises
// nobody awaits or that land where a callback is expected, conditions that are always true or false, `any`,
// and the architecture rules (only src/extension imports vscode; schemas come from zod/mini).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'packages/*/dist/**', 'dist-packages/**', 'node_modules/**', 'test-results/**', 'bench-results/**', '.streamgate/**', 'dist-vsix/**', '**/*.mjs', '**/*.js'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's describe and it return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-namespace': 'off', // LSP message types are namespaces, as vscode-languageserver's are
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'Only src/extension (and the VS Code test suite) imports vscode.' },
            { name: 'zod', message: 'Import zod/mini (see src/protocol/schema.ts).' },
          ],
        },
      ],
    },
  },
  {
    // The extension, its suite, and the benchmark's stand-in of another extension's layout.
    files: ['src/extension/**/*.ts', 'test/vscode/**/*.ts', 'bench/fixtures/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'zod', message: 'Import zod/mini (see src/protocol/schema.ts).' }] }],
    },
  },
);
