// Entry of a parallel-search worker thread: loads TypeScript through tsx (models are .ts files), then the
// worker proper. A failure to load is reported to the main thread, which is blocked waiting for it.
import { workerData } from 'node:worker_threads';
try {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
} catch (e) {
  workerData.port.postMessage({ error: { name: 'Error', message: `the parallel search worker failed to start: ${e?.message ?? e}` } });
  Atomics.add(workerData.flag, 0, 1);
  Atomics.notify(workerData.flag, 0);
}
