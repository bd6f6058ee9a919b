// Registers the loaders a process needs to run TypeScript: tsx (the sources, and models written in TypeScript)
// and bin/hooks.mjs (models outside this install resolve xstate and interleave from it). Used by bin/interleave.js
// and bin/run-ts.js when they run the sources, by the build's model loader (cli/models.ts) when a model outside
// the build loads, and by the parallel search's worker threads. Once per thread: later calls do nothing.
import { register as registerHooks } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Which loaders this thread registered ({ dist, url }), kept on globalThis so every copy of this module sees it. */
const KEY = Symbol.for('interleave.loaders');

/**
 * Registers tsx and the hooks. `dist`: the tool runs from the build, so a model's imports of `interleave` resolve
 * to the build's files (the package's `interleave-dist` export condition), not to its TypeScript sources.
 */
export async function registerLoaders({ dist = false } = {}) {
  if (globalThis[KEY]) return;
  globalThis[KEY] = { dist, url: import.meta.url };
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered last, so it runs first and hands tsx the specifiers it has mapped.
  registerHooks('./hooks.mjs', import.meta.url, { data: { root: ROOT, dist } });
}

/** The loaders this thread registered, or null. */
export function registeredLoaders() {
  return globalThis[KEY] ?? null;
}
