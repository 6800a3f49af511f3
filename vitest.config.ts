import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['tollgate-source'] },
  ssr: { resolve: { conditions: ['tollgate-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    globalSetup: ['./testkit/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only add contention to the races the tests create on purpose.
    maxWorkers: 2,
  },
});
