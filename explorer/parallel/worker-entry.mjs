// Entry of a parallel-search worker thread (or the distributed search's NATS thread): registers the loaders (bin/register.mjs: tsx,
// and models outside the install), then the module named in workerData (the worker proper). A failure to load is reported to the main thread, which is blocked waiting for it.
import { workerData } from 'node:worker_threads';
try {
  const { registerLoaders } = await import('../../bin/register.mjs');
  registerLoaders();
  await import(workerData.module);
} catch (e) {
  workerData.port.postMessage({ error: { name: 'Error', message: `the thread ${workerData.module} failed to start: ${e?.message ?? e}` } });
  Atomics.add(workerData.flag, 0, 1);
  Atomics.notify(workerData.flag, 0);
}
