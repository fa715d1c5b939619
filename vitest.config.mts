import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{functions,orchestrations,shared,host,test}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    // Each test file runs in its own process: the embedded host is one-per-process by design.
    pool: 'forks',
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
