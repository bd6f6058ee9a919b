// Registers the loaders every interleave process needs: tsx (models and the tool itself are TypeScript) and
// bin/hooks.mjs (models outside this install resolve xstate and interleave from it). Used by bin/interleave.js,
// bin/run-ts.js and the parallel search's worker threads.
import { register as registerHooks } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function registerLoaders() {
  registerTsx();
  // Registered last, so it runs first and hands tsx the specifiers it has mapped.
  registerHooks('./hooks.mjs', import.meta.url, { data: { root: ROOT } });
}
