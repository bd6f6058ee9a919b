// The worker threads of the parallel search, kept between runs: starting one (a fresh V8 isolate that
// loads tsx, xstate and the model) costs about half a second, so a check of many specs with --workers,
// or the test that runs every spec on 2 and 3 workers, reuses them. An idle worker does not keep the
// process alive (unref). A worker whose run failed is stopped, not reused.
import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';
import { reviveError, type WorkerBoot } from './protocol.ts';

/** node:worker_threads, loaded when the first thread starts, not at start-up by every command (about 10 ms). */
let workerThreads: typeof import('node:worker_threads') | null = null;
const threads = () => (workerThreads ??= createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads'));

export interface WorkerHandle {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  /** The loaders it registered (WorkerBoot.loaders, as JSON): a worker is reused only with the same. */
  loaders: string;
  /** What the thread is, for errors: a parallel search worker thread, the NATS relay thread. */
  name: string;
  /** Set once the thread has answered (its first message): from then on a stopped thread is one that ended. */
  started?: boolean;
  /** The thread's exit code, once its 'exit' event ran (this thread's event loop turned since it ended). */
  exitCode?: number;
}

/** A worker that neither posts nor reports progress for this long is taken for dead. */
const SILENCE_SECONDS = 120;

/** A message of a worker: its answer, or its error rethrown, or the news that it ended (worker-entry.mjs). */
function answer(h: WorkerHandle, m: any, what: string): any {
  if (m.error) throw reviveError(m.error);
  if ('exited' in m) throw new Error(`${h.name} exited (exit code ${m.exited}) while ${what}: it ended without an answer`);
  return m;
}

/** Waits (blocking) for the next message of a worker; rethrows its errors. */
export function receive(h: WorkerHandle, what: string): any {
  let beat = Atomics.load(h.flag, 1);
  for (let silent = 0; ; ) {
    const m = threads().receiveMessageOnPort(h.port);
    if (m) return answer(h, m.message, what);
    const seen = Atomics.load(h.flag, 0);
    const again = threads().receiveMessageOnPort(h.port);
    if (again) return answer(h, again.message, what);
    if (Atomics.wait(h.flag, 0, seen, 1000) === 'timed-out') {
      if (h.started && (h.exitCode !== undefined || threadStopped(h.worker)) && !threads().receiveMessageOnPort(h.port)) {
        throw new Error(
          `${h.name} stopped while ${what}, without a word${h.exitCode !== undefined ? ` (exit code ${h.exitCode})` : ''}: it ran out of memory or crashed (it ran no more JavaScript)`,
        );
      }
      const now = Atomics.load(h.flag, 1);
      if (now !== beat) {
        beat = now;
        silent = 0;
      } else if (++silent >= SILENCE_SECONDS) {
        // A worker that died without a word (out of memory, a crash) would leave us waiting forever.
        throw new Error(`${h.name} stopped responding (${SILENCE_SECONDS} s without progress) while ${what}`);
      }
    }
  }
}

/**
 * Whether a thread has ended, asked of the Worker's native handle (node's loopIdleTime() is -1 once the thread stopped).
 * A thread that dies running no more JavaScript (out of memory, a native crash) posts nothing, and its 'exit' event
 * needs this thread's event loop, which a blocked receive does not turn. This reads node's internals: where they differ
 * (no such handle or method) it says false, and the silence limit still ends the wait.
 */
function threadStopped(worker: Worker): boolean {
  const key = Object.getOwnPropertySymbols(worker).find((k) => k.description === 'kHandle');
  const handle = key === undefined ? undefined : (worker as unknown as Record<symbol, { loopIdleTime?: () => number } | null>)[key];
  return typeof handle?.loopIdleTime === 'function' && handle.loopIdleTime() < 0;
}

const idle: WorkerHandle[] = [];

/** This module's extension: .ts when the sources run, .js from the build (dist/). */
export const EXT = import.meta.url.slice(import.meta.url.lastIndexOf('.'));

/**
 * The loaders a new worker registers before it loads the worker module: those this thread registered
 * (bin/register.mjs records them on globalThis; from the build, none until a model outside it loads), and
 * always tsx when the sources run (worker.ts is TypeScript).
 */
function workerLoaders(): WorkerBoot['loaders'] {
  const mine = ((globalThis as Record<symbol, unknown>)[Symbol.for('interleave.loaders')] ?? null) as WorkerBoot['loaders'];
  if (EXT === '.ts') return mine ?? { dist: false, url: new URL('../../bin/register.mjs', import.meta.url).href };
  return mine;
}

/**
 * Starts a thread running `module` (through worker-entry.mjs, which registers the loaders first) with a port
 * and a flag (WorkerBoot), and waits for its first message. Also the distributed search's NATS thread
 * (explorer/strategies/distributed.ts). `module` names the file without its extension's choice: pass it
 * with EXT (.ts from the sources, .js from the build).
 */
export function startThread(module: URL, loaders: WorkerBoot['loaders'] = workerLoaders(), name = 'a parallel search worker thread'): WorkerHandle {
  const { MessageChannel, Worker } = threads();
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const boot: WorkerBoot = { port: port2, flag, worker: module.href, loaders };
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: boot, transferList: [port2] });
  // Errors come as messages (worker.ts); this only keeps a late 'error' event from ending the process.
  worker.on('error', () => {});
  worker.unref();
  const h: WorkerHandle = { worker, port: port1, flag, loaders: JSON.stringify(loaders), name };
  worker.on('exit', (code) => (h.exitCode = code));
  try {
    receive(h, 'starting');
  } catch (e) {
    void worker.terminate();
    throw e;
  }
  h.started = true;
  setRunTimeFlagsAgain();
  return h;
}

/**
 * The V8 flags the CLI set at run time (bin/interleave.js lists them on globalThis), set again: a new thread's heap
 * set-up puts the young generation's growth factor (a process-wide flag) back to V8's own, and the main thread's
 * young generation then grew to 4-8 MB semi-spaces with --workers instead of staying at 1 MB. Its first message
 * comes after its heap is set up.
 */
function setRunTimeFlagsAgain(): void {
  const flags = (globalThis as Record<symbol, unknown>)[Symbol.for('interleave.v8flags')] as string[] | undefined;
  if (!flags?.length) return;
  const { setFlagsFromString } = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  for (const f of flags) setFlagsFromString(f);
}

function spawn(loaders: WorkerBoot['loaders']): WorkerHandle {
  return startThread(new URL(`./worker${EXT}`, import.meta.url), loaders);
}

/** n workers ready for an 'init' message: idle ones first (those with the loaders needed now), then new ones. */
export function acquireWorkers(n: number): WorkerHandle[] {
  const loaders = workerLoaders();
  const key = JSON.stringify(loaders);
  // An idle worker without the loaders a model now needs (a model outside the build loaded since) is stopped.
  for (const h of idle.filter((w) => w.loaders !== key)) void h.worker.terminate();
  // (One that ended while idle is dropped.)
  const fitting = idle.filter((w) => w.loaders === key && w.exitCode === undefined);
  idle.length = 0;
  idle.push(...fitting);
  const out = idle.splice(0, n);
  try {
    while (out.length < n) out.push(spawn(loaders));
  } catch (e) {
    releaseWorkers(out, false);
    throw e;
  }
  return out;
}

/** Ends a run: the workers drop their partition and wait for the next run (ok), or are stopped. */
export function releaseWorkers(handles: WorkerHandle[], ok: boolean): void {
  for (const h of handles) {
    // A worker with a message nobody asked for (an error raised after its last answer) is not handed to the next run.
    if (ok && h.exitCode === undefined && !threads().receiveMessageOnPort(h.port)) {
      h.port.postMessage({ cmd: 'release' });
      idle.push(h);
    } else void h.worker.terminate();
  }
}
