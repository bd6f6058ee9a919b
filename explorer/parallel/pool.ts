// The worker threads of the parallel search, kept between runs: starting one (a fresh V8 isolate that
// loads tsx, xstate and the model) costs about half a second, so a check of many specs with --workers,
// or the test that runs every spec on 2 and 3 workers, reuses them. An idle worker does not keep the
// process alive (unref). A worker whose run failed is stopped, not reused.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { reviveError, type WorkerBoot } from './protocol.ts';

export interface WorkerHandle {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
}

/** A worker that neither posts nor reports progress for this long is taken for dead. */
const SILENCE_SECONDS = 120;

/** Waits (blocking) for the next message of a worker; rethrows its errors. */
export function receive(h: WorkerHandle, what: string): any {
  let beat = Atomics.load(h.flag, 1);
  for (let silent = 0; ; ) {
    const m = receiveMessageOnPort(h.port);
    if (m) {
      if (m.message.error) throw reviveError(m.message.error);
      return m.message;
    }
    const seen = Atomics.load(h.flag, 0);
    const again = receiveMessageOnPort(h.port);
    if (again) {
      if (again.message.error) throw reviveError(again.message.error);
      return again.message;
    }
    if (Atomics.wait(h.flag, 0, seen, 1000) === 'timed-out') {
      const now = Atomics.load(h.flag, 1);
      if (now !== beat) {
        beat = now;
        silent = 0;
      } else if (++silent >= SILENCE_SECONDS) {
        // A worker that died without a word (out of memory, a crash) would leave us waiting forever.
        throw new Error(`a parallel search worker stopped responding (${SILENCE_SECONDS} s without progress) while ${what}`);
      }
    }
  }
}

const idle: WorkerHandle[] = [];

/**
 * Starts a thread running `module` (through worker-entry.mjs, which registers the loaders) with a port and
 * a flag (WorkerBoot), and waits for its first message. Also the distributed search's NATS thread
 * (explorer/distributed/peers.ts).
 */
export function startThread(module: URL): WorkerHandle {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const boot: WorkerBoot = { port: port2, flag, module: module.href };
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: boot, transferList: [port2] });
  // Errors come as messages (worker.ts); this only keeps a late 'error' event from ending the process.
  worker.on('error', () => {});
  worker.unref();
  const h = { worker, port: port1, flag };
  try {
    receive(h, 'starting');
  } catch (e) {
    void worker.terminate();
    throw e;
  }
  return h;
}

function spawn(): WorkerHandle {
  return startThread(new URL('./worker.ts', import.meta.url));
}

/** n workers ready for an 'init' message: idle ones first, then new ones. */
export function acquireWorkers(n: number): WorkerHandle[] {
  const out = idle.splice(0, n);
  try {
    while (out.length < n) out.push(spawn());
  } catch (e) {
    releaseWorkers(out, false);
    throw e;
  }
  return out;
}

/** Ends a run: the workers drop their partition and wait for the next run (ok), or are stopped. */
export function releaseWorkers(handles: WorkerHandle[], ok: boolean): void {
  for (const h of handles) {
    if (ok) {
      h.port.postMessage({ cmd: 'release' });
      idle.push(h);
    } else void h.worker.terminate();
  }
}
