// ESLint: typescript-eslint's recommended rules over every TypeScript file; Prettier owns the layout, and
// max-len catches what it cannot wrap (long strings and comments). The inbox page runs in the browser.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'data/', '.wrangler/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // A regular expression literal cannot be wrapped; everything else can.
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['sink/inbox/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
);
