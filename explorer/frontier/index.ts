// Frontiers: the states waiting to be expanded, packed. A FIFO queue (./queue.ts) gives breadth-first
// order, a stack (./stack.ts) depth-first; strategies (explorer/strategies/) choose one and own the loop.

export interface FrontierEntry {
  id: number;
  depth: number;
  words: Int32Array;
}

export interface Frontier {
  /** Pushes a state: its first `length` words (default all). */
  push(id: number, depth: number, words: Int32Array, length?: number): void;
  /** Next state to expand; its `words` are a view, valid only until the next push or pop. */
  pop(): FrontierEntry | null;
  readonly size: number;
}


export { PackedRecords } from './records.ts';
export { FifoQueue } from './queue.ts';
export { Stack } from './stack.ts';
