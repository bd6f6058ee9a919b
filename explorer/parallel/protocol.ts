// What the main thread and the workers of a parallel search pass each other.
import type { MessagePort } from 'node:worker_threads';
import { InputError, ModelError, ModelRuntimeError } from '../errors.ts';
import type { PartitionSetup } from './build.ts';
import type { PartitionSnapshot } from './partition.ts';

/** What a worker thread is started with (it lives for several runs: explorer/parallel/pool.ts). */
export interface WorkerBoot {
  port: MessagePort;
  /**
   * [0]: bumped (and notified) after every message a worker posts, which the main thread waits on;
   * [1]: bumped every 1024 states a worker handles, so the main thread can tell a long round from a dead worker.
   */
  flag: Int32Array;
  /** The module the thread runs (./worker.ts from the sources, ./worker.js from the build; or the distributed search's NATS relay). */
  worker: string;
  /** The loaders to register first (bin/register.mjs at `url`), as the main thread has them; null: none. */
  loaders: { dist: boolean; url: string } | null;
}

/** One run of a worker (the 'init' message): which model instance, which partition of how many. */
export interface WorkerInit extends PartitionSetup {
  modelPath: string;
  strings: SharedArrayBuffer;
  /** The shared maxStates budget (see Partition), or null. */
  budget: Int32Array | null;
  /** Resuming a checkpoint: this partition as it was saved (instead of seeding the initial state). */
  resume?: PartitionSnapshot;
}

export interface SerializedError {
  name: string;
  message: string;
  where?: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  const err = e as { name?: string; message?: string; where?: Record<string, unknown> };
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e), where: err?.where };
}

/** The main thread's copy of an error a worker raised: the same class, message and where. */
export function reviveError(s: SerializedError): Error {
  if (s.name === 'ModelError') return new ModelError(s.message, s.where as ModelError['where']);
  if (s.name === 'ModelRuntimeError') return new ModelRuntimeError(s.message, (s.where ?? {}) as ModelRuntimeError['where']);
  if (s.name === 'InputError') return new InputError(s.message);
  return new Error(s.message);
}
