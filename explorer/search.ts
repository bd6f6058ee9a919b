// The search loop: expands states from a frontier, stores them by fingerprint, and owns the safety
// property checks (deadlock, state assertions, invariants). Returns a result; never prints.
//
// Successor order is fixed: events in alphabet order (document order of first appearance in the
// machine), so the same model and options give the same states and the same trace every time.
import { ModelError, ModelRuntimeError } from './errors.ts';
import type { Assertion, Context, Invariant, ThreadLocations } from './model.ts';
import type { PackedSystem } from './packed.ts';
import { fingerprint, VisitedSet, type PathStore } from './store.ts';
import { createFrontier, type StrategyName } from './strategies/index.ts';

export type ViolationKind = 'deadlock' | 'assertion' | 'invariant' | 'livelock' | 'starvation';
export type BoundName = 'maxStates' | 'maxDepth' | 'timeout';

export interface Violation {
  kind: ViolationKind;
  name: string;
  message: string;
  /** Thread whose state assertion failed. */
  thread?: string;
  /** Store id of the violating state. */
  stateId: number;
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

export interface Progress {
  states: number;
  transitions: number;
  depth: number;
  queue: number;
  seconds: number;
}

export interface SearchOptions {
  strategy?: StrategyName;
  maxStates?: number;
  maxDepth?: number;
  timeoutSeconds?: number;
  deadlock?: boolean;
  assertions?: boolean;
  invariants?: Record<string, Invariant>;
  assertionPredicates?: Record<string, Assertion>;
  /** Keep exploring after the first violation (counts the whole space; the first violation is kept). */
  stopAtFirst?: boolean;
  onProgress?: (p: Progress) => void;
  /** Seconds between progress reports (default 1). */
  progressInterval?: number;
}

export interface SearchResult {
  status: 'pass' | 'violation' | 'incomplete';
  violation?: Violation;
  bound?: { name: BoundName; limit: number };
  stats: SearchStats;
  store: PathStore;
}

const now = () => performance.now();

export interface StateChecker {
  /** False when there is nothing to check per state (no invariants, no asserting state). */
  needed: boolean;
  /** The state properties of a state: a violation, or undefined. */
  check(leaves: ArrayLike<number>, ctx: Context, id: number, depth: number): Violation | undefined;
}

/**
 * The per-state property checks (state assertions and invariants), shared by the sequential and the
 * parallel search. Validates up front that every asserted name is defined.
 */
export function stateChecker(
  system: PackedSystem['system'],
  options: Pick<SearchOptions, 'assertions' | 'invariants' | 'assertionPredicates'>,
): StateChecker {
  const threads = system.threads;
  const checkAssertions = options.assertions ?? true;
  const invariants = Object.entries(options.invariants ?? {});
  const predicates = options.assertionPredicates ?? {};
  // Validate assertion names up front.
  const hasAsserts = threads.map((t) => t.asserts.map((a) => a.length > 0));
  if (checkAssertions) {
    for (const t of threads) {
      t.asserts.forEach((names, leaf) => {
        for (const n of names) {
          if (typeof predicates[n] !== 'function') {
            const known = Object.keys(predicates);
            throw new ModelError(
              `state ${t.name}.${t.leafPaths[leaf]} asserts '${n}', which the model's assertions do not define ` +
                `(defined: ${known.length ? known.join(', ') : 'none'}); add it to the model's assertions`,
              { state: `${t.name}.${t.leafPaths[leaf]}`, feature: 'meta.assert' },
            );
          }
        }
      });
    }
  }
  const needChecks = invariants.length > 0 || (checkAssertions && hasAsserts.some((h) => h.some(Boolean)));

  const callPredicate = (kind: 'assertion' | 'invariant', name: string, fn: (c: Context, t: ThreadLocations) => boolean, ctx: Context, loc: ThreadLocations) => {
    try {
      return !!fn(ctx, loc);
    } catch (e) {
      throw new ModelRuntimeError(`${kind} ${name} threw: ${(e as Error)?.message ?? e}`, { predicate: name }, e);
    }
  };

  /** Checks the state properties of a state; returns a violation or undefined. */
  const check = (leaves: ArrayLike<number>, ctx: Context, id: number, depth: number): Violation | undefined => {
    if (!needChecks) return undefined;
    const loc = system.locations(leaves);
    if (checkAssertions) {
      for (const t of threads) {
        const leaf = leaves[t.index];
        if (!hasAsserts[t.index][leaf]) continue;
        for (const name of t.asserts[leaf]) {
          if (!callPredicate('assertion', name, predicates[name], ctx, loc)) {
            return {
              kind: 'assertion',
              name,
              thread: t.name,
              message: `assertion ${name} failed in thread ${t.name} at ${t.leafPaths[leaf]}`,
              stateId: id,
              depth,
            };
          }
        }
      }
    }
    for (const [name, fn] of invariants) {
      if (!callPredicate('invariant', name, fn, ctx, loc)) {
        return { kind: 'invariant', name, message: `invariant ${name} violated`, stateId: id, depth };
      }
    }
    return undefined;
  };

  return { needed: needChecks, check };
}

/** The deadlock violation of a state where no step is enabled and some thread is not final. */
export function deadlockAt(system: PackedSystem['system'], leaves: ArrayLike<number>, id: number, depth: number): Violation {
  const stuck = system.threads.filter((t) => !t.isFinal[leaves[t.index]]).map((t) => `${t.name}@${t.leafPaths[leaves[t.index]]}`);
  return { kind: 'deadlock', name: 'deadlock', message: `no step is enabled; not finished: ${stuck.join(', ')}`, stateId: id, depth };
}

export function search(packed: PackedSystem, options: SearchOptions = {}): SearchResult {
  const system = packed.system;
  const threads = system.threads;
  const strategy = options.strategy ?? 'bfs';
  const frontier = createFrontier(strategy);
  const store = new VisitedSet(system.events.length);
  const maxStates = options.maxStates ?? Infinity;
  const maxDepth = options.maxDepth ?? Infinity;
  const timeoutMs = options.timeoutSeconds ? options.timeoutSeconds * 1000 : Infinity;
  const checkDeadlock = options.deadlock ?? true;
  const stopAtFirst = options.stopAtFirst ?? true;
  const progressMs = (options.progressInterval ?? 1) * 1000;

  const checker = stateChecker(system, options);
  const checkState = checker.check;

  const start = now();
  let lastProgress = start;
  let transitions = 0;
  let maxSeenDepth = 0;
  let first: Violation | undefined;
  let bound: { name: BoundName; limit: number } | undefined;
  const fp = new Uint32Array(2);

  const record = (v: Violation) => {
    if (!first || v.depth < first.depth) first = v;
  };

  const init = packed.initial();
  fingerprint(init.words, fp);
  const initId = store.add(fp[0], fp[1], -1, -1);
  const v0 = checkState(init.leaves, init.context, initId, 0);
  if (v0) record(v0);
  if (!(v0 && stopAtFirst)) frontier.push(initId, 0, init.words);

  let expanded = 0;
  const nextLeaves = new Int32Array(threads.length);
  outer: for (;;) {
    const entry = frontier.pop();
    if (!entry) break;
    // BFS: a pending generation-time violation at depth d is shortest once all states above d are expanded.
    if (first && stopAtFirst && entry.depth >= first.depth) break;
    const { id, depth } = entry;
    const words = entry.words;
    if ((++expanded & 1023) === 0) {
      const t = now();
      if (t - start > timeoutMs) {
        bound = { name: 'timeout', limit: options.timeoutSeconds! };
        break;
      }
      if (options.onProgress && t - lastProgress >= progressMs) {
        lastProgress = t;
        options.onProgress({ states: store.size, transitions, depth: maxSeenDepth, queue: frontier.size, seconds: (t - start) / 1000 });
      }
    }
    const atDepthLimit = depth >= maxDepth;
    // A private copy (pushes may overwrite the popped record); its first words are the leaves.
    const ctx = packed.beginExpansion(words);
    const leaves = packed.own;
    let enabled = 0;
    if (!system.allFinal(leaves)) {
      const events = system.candidateEvents(leaves);
      for (let k = 0; k < events.length; k++) {
        const e = events[k];
        const nextCtx = system.stepInto(leaves, ctx, e, nextLeaves);
        packed.checkStep(ctx);
        if (nextCtx === null) continue;
        enabled++;
        if (atDepthLimit) {
          // Successors exist beyond the depth bound: the search is cut here.
          bound = { name: 'maxDepth', limit: maxDepth };
          break;
        }
        transitions++;
        const len = packed.encodeInto(nextLeaves, nextCtx);
        const next = packed.encoded;
        fingerprint(next, fp, len);
        if (store.size >= maxStates && !store.has(fp[0], fp[1])) {
          bound = { name: 'maxStates', limit: maxStates };
          break outer;
        }
        const nid = store.add(fp[0], fp[1], id, e);
        if (nid < 0) continue;
        if (depth + 1 > maxSeenDepth) maxSeenDepth = depth + 1;
        const v = checkState(nextLeaves, nextCtx, nid, depth + 1);
        if (v) {
          record(v);
          if (stopAtFirst) continue;
        }
        frontier.push(nid, depth + 1, next, len);
      }
    }
    if (enabled === 0 && checkDeadlock && !system.allFinal(leaves)) {
      record(deadlockAt(system, leaves, id, depth));
      if (stopAtFirst && strategy === 'dfs') break;
    }
    if (first && stopAtFirst && strategy === 'dfs') break;
  }

  packed.endExpansion();
  const seconds = (now() - start) / 1000;
  const stats: SearchStats = {
    states: store.size,
    transitions,
    depth: maxSeenDepth,
    seconds,
    bytesPerState: store.bytesPerStateUsed(),
  };
  if (first) return { status: 'violation', violation: first, bound, stats, store };
  if (bound) return { status: 'incomplete', bound, stats, store };
  return { status: 'pass', stats, store };
}
