// Vitest configuration: tests live under test/, mirroring the source tree. Besides the usual report,
// a JSON summary is written for .ci/run, which prints the plain "N passed, N failed" closing line.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'node_modules/.cache/interleave/vitest-results.json' },
  },
});
