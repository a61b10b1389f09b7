// Lint rules for src/, test/, bench/ and scripts/ (npm run lint; .ci/run runs it before the
// tests). Formatting is prettier's job (.prettierrc.json); these rules catch what the
// compiler does not: promises nobody awaits or handles, failures swallowed without a word.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** `.catch(() => undefined)` and `.catch(() => {})`: a failure that leaves no trace. */
const SILENT_CATCH = [
  "CallExpression[callee.property.name='catch'] > ArrowFunctionExpression[params.length=0][body.type='Identifier'][body.name='undefined']",
  "CallExpression[callee.property.name='catch'] > ArrowFunctionExpression[params.length=0] > BlockStatement[body.length=0]",
].map((selector) => ({
  selector,
  message: 'A swallowed failure: log it (or say in a comment why it cannot matter).',
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './tsconfig.ui.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-non-null-assertion': 'warn',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Names, redirects and grants are checked by regexes that refuse control characters.
      'no-control-regex': 'off',
    },
  },
  {
    // Node scripts outside the TypeScript build: the demo's apps, the CI reporter.
    files: ['**/*.cjs', '**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...SILENT_CATCH] },
  },
  {
    // Tests assert on values they just made (a `!` there is the assertion) and read JSON
    // answers of whatever shape the code under test sent.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
