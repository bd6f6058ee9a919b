// A parallel-search worker thread: builds the model from its module, owns one partition of the state
// space, and runs rounds when the main thread asks (explorer/strategies/parallel.ts has the protocol).
import { pathToFileURL } from 'node:url';
import { workerData, type MessagePort } from 'node:worker_threads';
import { instantiate, selectInvariants } from '../index.ts';
import type { ModelDefinition } from '../model.ts';
import { stateChecker } from '../properties/safety.ts';
import { Partition } from './partition.ts';
import { SharedStrings } from './strings.ts';
import { serializeError, type WorkerInit } from './protocol.ts';

const init = workerData as WorkerInit;
const port: MessagePort = init.port;

function send(message: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(init.flag, 0, 1);
  Atomics.notify(init.flag, 0);
}

// An error outside a round (a throw from a timer the model started, say) still reaches the main thread.
process.on('uncaughtException', (e) => send({ error: serializeError(e) }));

try {
  const mod = await import(pathToFileURL(init.modelPath).href);
  const model: ModelDefinition = mod.default ?? mod.model;
  // Built and selected exactly as the main thread did (explorer/index.ts), with the shared string table.
  const space = instantiate(model, init.params, init.variant, new SharedStrings(init.strings));
  const invariants = selectInvariants(model, init.params, init.variant, init.invariants);
  const checker = stateChecker(space.system, { assertions: init.assertions, invariants, assertionPredicates: model.assertions ?? {} });
  const partition = new Partition(space, checker, init.index, init.count, init.budget, () => Atomics.add(init.flag, 1, 1));
  partition.seed(init.stopAtFirst);
  port.on('message', (m: any) => {
    try {
      if (m.cmd === 'arrive') {
        send({ arrival: partition.arrive(m.inboxes, m.depth, init.stopAtFirst) });
      } else if (m.cmd === 'round') {
        const report = partition.round(m.limits, m.expand);
        send({ report }, report.outboxes.map((o) => o.buffer as ArrayBuffer));
      } else if (m.cmd === 'links') {
        const links = partition.links();
        send({ links }, [links.parents.buffer as ArrayBuffer, links.events.buffer as ArrayBuffer]);
      }
    } catch (e) {
      send({ error: serializeError(e) });
    }
  });
  send({ ready: true });
} catch (e) {
  send({ error: serializeError(e) });
}
