// What a search returns: pass, a violation (with its path of events and, for a lasso, where the loop
// starts) or incomplete (cut by a named bound). Strategies return it; index.ts and the CLI switch over it.

export type ViolationKind = 'deadlock' | 'assertion' | 'invariant' | 'livelock' | 'starvation' | 'lock-order';
/** lostWorker: a partition of a distributed search stopped answering (limit: its index). */
export type BoundName = 'maxStates' | 'maxDepth' | 'timeout' | 'lostWorker';

export interface Bound {
  name: BoundName;
  limit: number;
  /** lostWorker: the worker as it introduced itself (host, pid, id). */
  worker?: string;
  /** lostWorker: how it was found lost. */
  why?: string;
}

export interface Violation {
  kind: ViolationKind;
  name: string;
  message: string;
  /** Thread whose state assertion failed, or the starving thread. */
  thread?: string;
  /** Depth of the violating state (for a lasso: of the loop's first state). */
  depth: number;
}

export interface SearchStats {
  states: number;
  transitions: number;
  /** Largest depth of a stored state. */
  depth: number;
  seconds: number;
  /** Bytes per stored state for the fingerprint set and parent links. */
  bytesPerState: number;
}

export interface Pass<S extends SearchStats = SearchStats> {
  status: 'pass';
  stats: S;
}

export interface Found<S extends SearchStats = SearchStats> {
  status: 'violation';
  violation: Violation;
  /** Event indices from the initial state to the violating state (for a lasso: stem, then loop). */
  path: number[];
  /** For a lasso: the 1-based step where the loop starts (stem length + 1). */
  loopStart?: number;
  /** A bound also reached while searching (the violation stands). */
  bound?: Bound;
  stats: S;
}

export interface Incomplete<S extends SearchStats = SearchStats> {
  status: 'incomplete';
  bound: Bound;
  stats: S;
}

export type Outcome<S extends SearchStats = SearchStats> = Pass<S> | Found<S> | Incomplete<S>;

/** Progress of a long search (for the CLI's stderr line). */
export interface Progress {
  states: number;
  transitions: number;
  depth: number;
  queue: number;
  seconds: number;
}

