// A parallel-search worker thread: for each run ('init') builds the model from its module and owns one
// partition of the state space, and runs rounds when the main thread asks; it serves run after run
// (explorer/parallel/pool.ts; explorer/strategies/parallel.ts has the protocol).
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import type { ModelDefinition } from '../model.ts';
import { buildPartition } from './build.ts';
import type { Partition } from './partition.ts';
import { SharedStrings } from './strings.ts';
import { serializeError, type WorkerBoot, type WorkerInit } from './protocol.ts';

const { port, flag } = workerData as WorkerBoot;

function send(message: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
}

// An error outside a round (a throw from a timer the model started, say) still reaches the main thread.
process.on('uncaughtException', (e) => send({ error: serializeError(e) }));

/** The partition of the current run, and whether it stops at the first violation. */
let run: { partition: Partition; stopAtFirst: boolean } | null = null;

async function start(init: WorkerInit): Promise<void> {
  const mod = await import(pathToFileURL(init.modelPath).href);
  const model: ModelDefinition = mod.default ?? mod.model;
  const { partition } = buildPartition(model, init, new SharedStrings(init.strings), init.budget, () => Atomics.add(flag, 1, 1));
  if (init.resume) partition.restore(init.resume);
  else partition.seed(init.stopAtFirst);
  run = { partition, stopAtFirst: init.stopAtFirst };
}

port.on('message', async (m: any) => {
  try {
    if (m.cmd === 'init') {
      run = null;
      await start(m.init);
      send({ ready: true });
    } else if (m.cmd === 'release') {
      run = null;
    } else if (!run) {
      throw new Error(`internal: parallel search worker got '${m.cmd}' before 'init'`);
    } else if (m.cmd === 'arrive') {
      send({ arrival: run.partition.arrive(m.inboxes, m.depth, run.stopAtFirst, m.maxDepth) });
    } else if (m.cmd === 'round') {
      const report = run.partition.round(m.limits, m.expand);
      send({ report }, report.outboxes.map((o) => o.buffer as ArrayBuffer));
    } else if (m.cmd === 'link') {
      send({ link: run.partition.link(m.local) });
    } else if (m.cmd === 'save') {
      const snapshot = run.partition.save();
      send({ snapshot }, [snapshot.current.buffer as ArrayBuffer, ...Object.values(snapshot.store.arrays).map((a) => a.buffer as ArrayBuffer)]);
    }
  } catch (e) {
    send({ error: serializeError(e) });
  }
});
send({ ready: true });
