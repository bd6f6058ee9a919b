// What a search returns: pass, a violation (with its path of events and, for a lasso, where the loop
// starts) or incomplete (cut by a named bound). Strategies return it; index.ts and the CLI switch over it.

export type ViolationKind = 'deadlock' | 'assertion' | 'invariant' | 'livelock' | 'starvation' | 'lock-order';
/**
 * What cut a search short: a named option (maxStates, maxDepth, timeout), the number of random walks,
 * the preemption bound, a bitstate store (which may skip states on hash collisions), or a lost worker of a
 * distributed search (lostWorker, limit: its partition).
 */
export type BoundName = 'maxStates' | 'maxDepth' | 'timeout' | 'walks' | 'preemptions' | 'bitstate' | 'lostWorker';

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
  /** Random walks finished so far (--strategy random). */
  walks?: number;
}

