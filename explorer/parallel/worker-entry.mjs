// Entry of a parallel-search worker thread (or the distributed search's NATS relay thread): registers the loaders the main thread chose (bin/register.mjs: tsx,
// and models outside the install; none when the build runs a bundled model), then the worker proper
// (worker.ts, or worker.js in the build). A failure to load is reported to the main thread, which is blocked
// waiting for it. Plain JavaScript, copied as is into the build.
import { workerData } from 'node:worker_threads';
// A thread that ends (process.exit in a model, say) says so: the main thread, blocked waiting for its answer,
// cannot see the Worker's 'exit' event, and would otherwise wait out the silence limit (pool.ts).
process.on('exit', (code) => {
  workerData.port.postMessage({ exited: code });
  Atomics.add(workerData.flag, 0, 1);
  Atomics.notify(workerData.flag, 0);
});
try {
  if (workerData.loaders) {
    const { registerLoaders } = await import(workerData.loaders.url);
    await registerLoaders({ dist: workerData.loaders.dist });
  }
  await import(workerData.worker);
} catch (e) {
  workerData.port.postMessage({ error: { name: 'Error', message: `the thread ${workerData.worker} failed to start: ${e?.message ?? e}` } });
  Atomics.add(workerData.flag, 0, 1);
  Atomics.notify(workerData.flag, 0);
}
