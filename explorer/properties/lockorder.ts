// Lock-order checking: lockdep's dependency graph, built over every explored transition instead of one run.
//
// For each transition the search takes, every lock acquisition its actions declare (LockEffect, attached by
// the kernel primitives to their acquiring actions) adds an edge "held -> acquired" for each lock the
// acquiring thread holds in the state before the step (with modes; the step's declarations read in the order its
// actions run: a lock acquired earlier in the step is held, one released earlier, LockEffect.releases, is not), unless the acquisition is a trylock
// success (a trylock cannot wait, so lockdep adds no dependency into it). Locks are grouped into classes
// (ModelDefinition.lockClass; default: one class per lock name). After the search, a cycle in the class
// graph is a lock-order inversion ("possible circular locking dependency"), and an edge from a class to
// itself is "possible recursive locking" (a recursive down_read included). Each edge keeps the path of the
// first transition that recorded it, so each edge has one real, replayable trace. A lock held in the initial
// state (declared so, or taken by an initial entry action) counts as held by its holder from the start.
// Each non-try acquisition is also checked against its thread's context, once per search (the first found is kept):
// lockdep's check_wait_context for a lock with a wait type ("Invalid wait context"), and the kernel's might_sleep()
// for one that may sleep without a wait type (LockEffect.mightSleep) or a sleeping call that is no lock at all
// (LockAcquisition.sleepOnly: recorded nowhere else, no edge, never held), "sleeping function called from invalid
// context"; a wait that is a guard only carries its might_sleep() point on the guard (GuardSleep), read for the named
// guards a taken transition waits on (not under a `not`, nor in an `or`'s branch other than the first that held), as a
// sleepOnly call of the transition's thread.
// Never prints: renderLockOrder returns the lockdep-style text for the CLI.
import type { CompiledSystem, CompiledTransition, LockAction } from '../compile/index.ts';
import type { Where } from '../compile/types.ts';
import type { Context, GuardSleep, LockAcquisition, LockEffect, LockMode, LockWait, ModelDefinition } from '../model.ts';
import { ModelError, ModelRuntimeError, thrownMessage } from '../errors.ts';
import type { StateSpace } from '../space/index.ts';
import { PathWalker } from '../space/walk.ts';

/** One edge of the lock-order graph, with the transition that first recorded it. */
export interface LockOrderEdge {
  /** Class (and report name) of the lock already held. */
  from: string;
  fromMode: LockMode;
  /** Class of the lock acquired. */
  to: string;
  toMode: LockMode;
  /** The acquiring thread. */
  thread: string;
  /** Context paths of the two locks (their identities). */
  fromPath: string;
  toPath: string;
  /** The events (indices) of this edge's trace from the initial state: the last one is the acquisition. */
  path: number[];
}

/**
 * What lockdep reports: a cycle of classes ('circular'), a class taken under itself ('recursive'), or a lock whose
 * wait type is sleepier than the context it is taken in ('invalid-wait-context', check_wait_context: a mutex
 * under a spinlock; one edge, from the strictest lock held to the lock taken).
 */
export type LockOrderKind = 'circular' | 'recursive' | 'invalid-wait-context';

export interface LockOrderFinding {
  kind: LockOrderKind;
  /**
   * invalid-wait-context only: the kernel's might_sleep() reports it ("BUG: sleeping function called from invalid
   * context"), not lockdep's check_wait_context: the call may sleep but lockdep gives it no wait type
   * (LockEffect.mightSleep) or does not track it (LockAcquisition.sleepOnly). Absent: lockdep's own case.
   */
  mightSleep?: true;
  /** The edges of the cycle in order: edges[i].to === edges[i+1].from, the last closes it (one edge when recursive). */
  edges: LockOrderEdge[];
}

type Event = { type: string };
type Acquiring = { effect: LockEffect; params: (ctx: Context, ev: Event) => unknown; action: string; where: Where };
/** A lock seen acquired: the declaration that reads who holds it, and the action that declared it. */
type KnownLock = { effect: LockEffect; name: string; action: string };

/**
 * Calls a hook of a model's lock declaration (LockEffect: acquires, holds): one that throws is the model's
 * error naming the declaring action and the step (as a guard or action that throws is), not an internal one.
 */
function lockHook<T>(action: string, where: Where | undefined, what: string, hook: () => T, guard = false): T {
  try {
    return hook();
  } catch (e) {
    const at = where ? ` at state ${where.state}${where.event ? ` on event ${where.event}` : ''}` : '';
    const decl = guard ? `the might_sleep() declaration (GuardSleep, as withGuardSleep attaches) of guard ${action}` : `the lock-order declaration (LockEffect, as withLock attaches) of action ${action}`;
    throw new ModelRuntimeError(
      `${decl} threw${at} ${what}: ${thrownMessage(e)}; ` + `fix the model's lock declaration: its hooks must not throw in any reachable state`,
      { state: where?.state, event: where?.event, ...(guard ? { guard: action } : { action }) },
      e,
    );
  }
}

/** The model's class of a lock: a non-empty string, else a model error naming the lock. */
function modelLockClass(lockClass: NonNullable<ModelDefinition['lockClass']>, l: { path: string; name: string }): string {
  let c: unknown;
  try {
    c = lockClass({ path: l.path, name: l.name });
  } catch (e) {
    throw new ModelRuntimeError(
      `lockClass threw for lock ${l.name} (context path ${l.path}): ${thrownMessage(e)}; fix the model's lockClass: it gets { path, name } and returns the lock's class name`,
      { predicate: 'lockClass' },
      e,
    );
  }
  if (typeof c !== 'string' || c === '') {
    throw new ModelError(`lockClass returned ${JSON.stringify(c) ?? String(c)} for lock ${l.name} (context path ${l.path}); fix the model's lockClass: it must return the lock's class name, a non-empty string`, {
      feature: 'lockClass',
    });
  }
  return c;
}

/** The acquisitions a list of compiled actions declares (`source`: where they run, for a hook's error). */
function lockActions(fns: readonly unknown[], source: string): Acquiring[] {
  const list: Acquiring[] = [];
  for (const fn of fns) {
    const la = fn as Partial<LockAction>;
    if (la.lockEffect && la.lockParams) list.push({ effect: la.lockEffect, params: la.lockParams, action: la.lockAction ?? '(unnamed)', where: la.lockWhere ?? { state: source } });
  }
  return list;
}

/** The acquisitions declared by a transition's actions (exit, own, entry), cached per transition. */
function acquiringActions(cache: WeakMap<CompiledTransition, Acquiring[]>, tr: CompiledTransition): Acquiring[] {
  let list = cache.get(tr);
  if (list === undefined) cache.set(tr, (list = lockActions(tr.sequence, tr.source)));
  return list;
}

/** A lock a thread holds: its path, name, mode, and its class's wait type (LockEffect.wait). */
export type HeldLock = { path: string; name: string; mode: LockMode; wait?: LockEffect['wait'] };

export interface StepAcquisition extends LockAcquisition {
  /** Locks the thread held before this acquisition. */
  held: HeldLock[];
  /** The acquired lock's wait type (its LockEffect.wait). */
  wait?: LockEffect['wait'];
  /** Its LockEffect.mightSleep: it may sleep though it has no wait type. */
  mightSleep?: boolean;
}

/** lockdep's order of wait types (LD_WAIT_FREE 1, LD_WAIT_SPIN 2, LD_WAIT_SLEEP 4; a task's own context is 4). */
const WAIT_RANK: Record<LockWait, number> = { free: 1, spin: 2, sleep: 4 };

/**
 * The wait-context checks for one acquisition: the strictest held lock (smallest inner wait type) when
 * - lockdep's check_wait_context fails: the lock taken has a wait type and needs a sleepier context (its outer,
 *   default inner, ranks above the strictest inner), `mightSleep: false`; or else
 * - might_sleep() fails: the call may sleep without a wait type lockdep checks (LockEffect.mightSleep,
 *   LockAcquisition.sleepOnly) and the strictest inner is below 'sleep' (atomic context), `mightSleep: true`;
 * else null. A trylock is never checked (it cannot wait), nor held locks without a wait type (LD_WAIT_INV).
 */
export function waitContextViolation(acq: StepAcquisition): { held: HeldLock; mightSleep: boolean } | null {
  if (acq.try) return null;
  let strictest: HeldLock | null = null;
  for (const h of acq.held) {
    if (h.wait && (strictest === null || WAIT_RANK[h.wait.inner] < WAIT_RANK[strictest.wait!.inner])) strictest = h;
  }
  if (strictest === null) return null;
  const context = WAIT_RANK[strictest.wait!.inner];
  if (acq.wait && !acq.sleepOnly && WAIT_RANK[acq.wait.outer ?? acq.wait.inner] > context) return { held: strictest, mightSleep: false };
  if ((acq.sleepOnly || acq.mightSleep) && context < WAIT_RANK.sleep) return { held: strictest, mightSleep: true };
  return null;
}

/**
 * Records acquisitions and holds; one per search. `known` grows with every lock seen acquired: a lock a
 * thread holds was acquired on the path to the state, whose transitions were processed before it.
 */
export class LockOrderRecorder {
  private readonly cache = new WeakMap<CompiledTransition, Acquiring[]>();
  private readonly known = new Map<string, KnownLock>();
  private readonly edges = new Map<string, LockOrderEdge>();
  /**
   * The edges lockdep itself records (check_prevs_add stops at the most recent non-trylock held lock): an
   * edge from a held lock X is left out when the thread also holds a lock Y with X -> Y already recorded, as
   * X -> new is then implied through Y. The state does not keep the order of a thread's holds, so that
   * recorded X -> Y stands for "Y was taken after X". Each keeps the first transition that recorded it directly.
   */
  private readonly direct = new Map<string, LockOrderEdge>();
  /** Class pairs "from\0to" of the recorded edges, any modes. */
  private readonly pairs = new Set<string>();
  /** The class of a lock: the model's lockClass, else its name. */
  readonly classOf: (lock: { path: string; name: string }) => string;
  private readonly eventObjects: Event[];
  /** The machine's guard implementations by name, where a GuardSleep is read (the compiler resolves guard names there). */
  private readonly guardImpls: Record<string, unknown>;
  /** Per transition: whether any named guard of it declares a GuardSleep (false: none, skipped from then on). */
  private readonly sleepingGuards = new WeakMap<CompiledTransition, boolean>();

  constructor(
    private readonly system: CompiledSystem,
    model: Pick<ModelDefinition, 'lockClass'>,
  ) {
    const lockClass = model.lockClass;
    this.classOf = lockClass === undefined ? (l) => l.name : (l) => modelLockClass(lockClass, l);
    this.eventObjects = system.events.map((type) => ({ type }));
    this.guardImpls = (system.machine.implementations as { guards?: Record<string, unknown> }).guards ?? {};
    this.knowInitialHolds();
  }

  /**
   * A model may start with a lock held (machines/kernel/state.ts: mutexHeld('t'), rwsemHeld, ...): no transition
   * acquires it, yet its holder's acquisitions depend on it, as lockdep saw it taken before. So the locks the
   * transitions declare they acquire (their params read in the initial state), or name (LockEffect.lockOf: a
   * spin_unlock, an rcu_read_unlock), that some thread holds there are known from the start. (Only those: the
   * others become known, as before, when first acquired.) A declaration that cannot be read in the initial state is
   * left to the search, which reads it where the action runs.
   */
  private knowInitialHolds(): void {
    const system = this.system;
    const ctx = system.initialContext;
    const candidates = new Map<string, KnownLock>();
    // the paths whose candidate only a release or a nested acquisition named: an acquisition's declaration replaces it
    const namedOnly = new Set<string>();
    const declared = (list: Acquiring[], ev: Event) => {
      for (const a of list) {
        let got: LockAcquisition | LockAcquisition[] | { path: string; name: string } | null;
        let named = false;
        try {
          const params = a.params(ctx, ev);
          // a release or a nested acquisition acquires nothing, but names its lock (LockEffect.lockOf)
          got = a.effect.acquires(params, ctx);
          if (got === null) {
            got = a.effect.lockOf?.(params) ?? null;
            named = true;
          }
        } catch {
          continue;
        }
        for (const acq of got === null ? [] : Array.isArray(got) ? got : [got]) {
          if ('sleepOnly' in acq && acq.sleepOnly) continue;
          if (candidates.has(acq.path) && !(namedOnly.has(acq.path) && !named)) continue;
          candidates.set(acq.path, { effect: a.effect, name: acq.name, action: a.action });
          if (named) namedOnly.add(acq.path);
          else namedOnly.delete(acq.path);
        }
      }
    };
    // The initial state's entry actions first: a lock they take may be one no transition takes (another of its class).
    declared(lockActions(system.initialEntry, '(initial state)'), { type: 'xstate.init' });
    for (const t of system.threads) {
      t.candidates.forEach((byEvent) =>
        byEvent.forEach((list, e) => {
          for (const tr of list ?? []) declared(acquiringActions(this.cache, tr), this.eventObjects[e]);
        }),
      );
    }
    const heldThere = (k: { effect: LockEffect }, path: string, thread: string) => {
      try {
        return k.effect.holds(ctx, path, thread) !== null;
      } catch {
        return false;
      }
    };
    for (const [path, k] of candidates) {
      if (system.threads.some((t) => heldThere(k, path, t.name))) this.known.set(path, k);
    }
  }

  /**
   * The might_sleep() points of the named guards transition `tr` waits on (GuardSleep: plainly or under `and`, not
   * under a `not`, nor in an `or`'s branch other than the first that held: GuardRef.alternative), as sleepOnly calls of
   * its thread with what the thread holds before the step.
   */
  private guardSleeps(tr: CompiledTransition, ctx: Context, ev: Event, out: StepAcquisition[]): void {
    if (this.sleepingGuards.get(tr) === false) return;
    const refs = tr.guardRefs(ctx, ev);
    let any = false;
    for (const ref of refs) {
      const sleep = (this.guardImpls[ref.type] as { sleepEffect?: GuardSleep } | undefined)?.sleepEffect;
      if (!sleep) continue;
      // (which refs a transition has does not depend on the state: only their params do)
      any = true;
      if (ref.negated || ref.alternative) continue;
      const where = { state: tr.source, event: ev.type };
      const on = lockHook(ref.type, where, 'while reading what it sleeps on', () => sleep.sleepsOn(ref.params, ctx), true);
      if (on === null) continue;
      const thread = this.system.threads[tr.thread].name;
      out.push({ path: on.path, name: on.name, mode: 'write', thread, try: false, sleepOnly: true, held: this.heldBy(ctx, thread, where) });
    }
    this.sleepingGuards.set(tr, any);
  }

  /**
   * The acquisitions of the transitions `taken` by event `e` from `ctx`, each with what its thread held: for each
   * transition, the sleeps of the guards it waits on (evaluated before its actions run), then its actions' in order.
   */
  acquisitions(taken: readonly CompiledTransition[], ctx: Context, e: number): StepAcquisition[] {
    const out: StepAcquisition[] = [];
    const ev = this.eventObjects[e];
    for (const tr of taken) {
      if (tr.guard !== null) this.guardSleeps(tr, ctx, ev, out);
      const list = acquiringActions(this.cache, tr);
      if (list.length === 0) continue;
      // what each thread acquires earlier in this same step counts as held for its later acquisitions, and what it
      // releases earlier in the step (LockEffect.releases: "thread\0path") does not
      const alsoHeld: HeldLock[] = [];
      const released = new Set<string>();
      // nested acquisitions earlier in the step ("thread\0path" -> count): an action that acquires and releases
      // nothing but names a lock (LockEffect.lockOf: a nested rcu_read_lock) nests in its thread's hold, and a
      // release later in the step ends that nesting first, not the hold (releases reads the state before the step)
      let nested: Map<string, number> | null = null;
      for (const a of list) {
        if (a.effect.releases) {
          const rel = lockHook(a.action, a.where, 'while reading what it releases', () => a.effect.releases!(a.params(ctx, ev), ctx));
          const key = rel ? `${rel.thread}\u0000${rel.path}` : '';
          const open = rel && nested ? (nested.get(key) ?? 0) : 0;
          if (open > 0) nested!.set(key, open - 1);
          else if (rel) {
            released.add(key);
            for (let i = alsoHeld.length - 1; i >= 0; i--) if (alsoHeld[i].path === rel.path) alsoHeld.splice(i, 1);
          }
        }
        const got = lockHook(a.action, a.where, 'while reading what it acquires', () => a.effect.acquires(a.params(ctx, ev), ctx));
        if (!got && !a.effect.releases && a.effect.lockOf) {
          const params = a.params(ctx, ev) as { thread?: unknown };
          const named = lockHook(a.action, a.where, 'while reading the lock it names', () => a.effect.lockOf!(params));
          if (named && typeof params?.thread === 'string') {
            const key = `${params.thread}\u0000${named.path}`;
            (nested ??= new Map()).set(key, (nested.get(key) ?? 0) + 1);
          }
        }
        if (!got) continue;
        for (const acq of Array.isArray(got) ? got : [got]) {
          // a sleepOnly call is no lock: never known (so never held), nor held by what the step does next
          if (!acq.sleepOnly && !this.known.has(acq.path)) this.known.set(acq.path, { effect: a.effect, name: acq.name, action: a.action });
          const before = this.heldBy(ctx, acq.thread, a.where);
          const held = [...(released.size === 0 ? before : before.filter((h) => !released.has(`${acq.thread}\u0000${h.path}`))), ...alsoHeld];
          const wait = a.effect.wait;
          out.push({ ...acq, held, ...(wait ? { wait } : {}), ...(a.effect.mightSleep ? { mightSleep: true } : {}) });
          if (!acq.released && !acq.sleepOnly) alsoHeld.push(wait ? { path: acq.path, name: acq.name, mode: acq.mode, wait } : { path: acq.path, name: acq.name, mode: acq.mode });
        }
      }
    }
    return out;
  }

  /** The locks among those seen so far that `thread` holds in `ctx` (`where`: the step that asks, for a hook's error). */
  heldBy(ctx: Context, thread: string, where?: Where): HeldLock[] {
    const out: HeldLock[] = [];
    for (const [path, k] of this.known) {
      const mode = lockHook(k.action, where, `while reading whether thread ${thread} holds lock ${k.name} (context path ${path})`, () => k.effect.holds(ctx, path, thread));
      if (mode) out.push(k.effect.wait ? { path, name: k.name, mode, wait: k.effect.wait } : { path, name: k.name, mode });
    }
    return out;
  }

  /** The class of an acquired lock; a sleepOnly call, which is no lock, keeps its name. */
  classOfAcquired(acq: LockAcquisition): string {
    return acq.sleepOnly ? acq.name : this.classOf({ path: acq.path, name: acq.name });
  }

  /**
   * The search's per-transition hook: the step by event `e` from stored state `stateId` (context `ctx`) just
   * taken (its transitions in system.taken); `pathTo` gives a stored state's path, read for new edges only.
   */
  onStep(stateId: number, e: number, ctx: Context, pathTo: (id: number) => number[]): void {
    for (const acq of this.acquisitions(this.system.taken, ctx, e)) {
      if (acq.try) continue;
      if (this.invalid === null) {
        const v = waitContextViolation(acq);
        if (v) {
          const h = v.held;
          const edge = { from: this.classOf(h), fromMode: h.mode, to: this.classOfAcquired(acq), toMode: acq.mode, thread: acq.thread, fromPath: h.path, toPath: acq.path, path: [...pathTo(stateId), e] };
          this.invalid = { edge, mightSleep: v.mightSleep };
        }
      }
      if (acq.sleepOnly) continue;
      const to = this.classOf({ path: acq.path, name: acq.name });
      const heldClasses = acq.held.map((h) => this.classOf(h));
      const recorded: string[] = [];
      acq.held.forEach((h, i) => {
        const from = heldClasses[i];
        const key = `${from}\u0000${h.mode}\u0000${to}\u0000${acq.mode}`;
        const implied = heldClasses.some((y) => y !== from && y !== to && this.pairs.has(`${from}\u0000${y}`));
        if (this.edges.has(key) && (implied || this.direct.has(key))) return;
        const edge = { from, fromMode: h.mode, to, toMode: acq.mode, thread: acq.thread, fromPath: h.path, toPath: acq.path, path: [...pathTo(stateId), e] };
        if (!this.edges.has(key)) this.edges.set(key, edge);
        if (!implied) this.direct.set(key, edge);
        recorded.push(`${from}\u0000${to}`);
      });
      for (const p of recorded) this.pairs.add(p);
    }
  }

  /**
   * The first acquisition seen in an invalid wait context (lockdep's check_wait_context, or might_sleep()), as an
   * edge from the strictest held lock, and which of the two reports it.
   */
  private invalid: { edge: LockOrderEdge; mightSleep: boolean } | null = null;

  /** Number of distinct edges recorded. */
  get size(): number {
    return this.edges.size;
  }

  /**
   * A recursive acquisition (a class to itself), else the shortest cycle of lockdep's own edges (`direct`: the
   * chain its splat prints, e.g. X -> Y -> Z -> X when Z was taken under X and Y), else the shortest cycle of
   * the whole class graph, else null. Both have the same cycles up to such shortcuts; the second is a fallback.
   * Deterministic: edges in the order they were first recorded, classes in first-seen order.
   */
  finding(): LockOrderFinding | null {
    const all = [...this.edges.values()];
    const self = all.find((x) => x.from === x.to);
    if (self) return { kind: 'recursive', edges: [self] };
    const cycle = shortestCycle([...this.direct.values()]) ?? shortestCycle(all);
    if (cycle) return { kind: 'circular', edges: cycle };
    if (this.invalid === null) return null;
    return { kind: 'invalid-wait-context', ...(this.invalid.mightSleep ? { mightSleep: true as const } : {}), edges: [this.invalid.edge] };
  }
}

/** The shortest cycle of the graph of `all` (first start in first-seen order among equally short ones), or null. */
function shortestCycle(all: LockOrderEdge[]): LockOrderEdge[] | null {
  const out = new Map<string, LockOrderEdge[]>();
  for (const x of all) {
    let l = out.get(x.from);
    if (!l) out.set(x.from, (l = []));
    l.push(x);
  }
  let best: LockOrderEdge[] | null = null;
  for (const start of out.keys()) {
    // breadth-first from `start` back to it: the shortest cycle through start
    const via = new Map<string, LockOrderEdge>();
    const queue = [start];
    let found: LockOrderEdge | null = null;
    for (let i = 0; i < queue.length && !found; i++) {
      for (const x of out.get(queue[i]) ?? []) {
        if (x.to === start) {
          found = x;
          break;
        }
        if (!via.has(x.to)) {
          via.set(x.to, x);
          queue.push(x.to);
        }
      }
    }
    if (!found) continue;
    const cycle = [found];
    for (let at = found.from; at !== start; ) {
      const x = via.get(at)!;
      cycle.unshift(x);
      at = x.from;
    }
    if (!best || cycle.length < best.length) best = cycle;
  }
  return best;
}

/** The verdict name of a finding: the cycle's classes, e.g. "A -> B -> A". */
export function lockOrderName(f: LockOrderFinding): string {
  return [...f.edges.map((x) => x.from), f.edges[f.edges.length - 1].to].join(' -> ');
}

/** One edge of a saved lock-order trace: the edge, with its trace's event names in place of indices. */
export type LockOrderTraceEdge = Omit<LockOrderEdge, 'path'> & { events: string[] };

export interface LockOrderReport {
  kind: LockOrderKind;
  /** LockOrderFinding.mightSleep: might_sleep() reports this invalid wait context, not lockdep. */
  mightSleep?: true;
  edges: LockOrderTraceEdge[];
}

const call = (name: string, mode: LockMode) => `${mode === 'read' ? 'rlock' : 'lock'}(${name});`;

/** lockdep-style text for a lock-order report: the warning, each dependency, and the unsafe scenario. */
export function renderLockOrder(r: LockOrderReport, o: { fit?: number } = {}): string {
  const { head, table, tail } = lockOrderText(r, o);
  return [...head, ...table, ...tail].join('\n');
}

/**
 * renderLockOrder's text in three parts: the warning and the dependencies (prose), the unsafe scenario's table
 * (one column per CPU, laid out already: lockdep's 24 columns, narrower down to what its calls need when `fit`
 * asks for it; not to be wrapped), and what follows it (prose).
 */
export function lockOrderText(r: LockOrderReport, o: { fit?: number } = {}): { head: string[]; table: string[]; tail: string[] } {
  const head: string[] = [];
  const scenario = ['', ' Possible unsafe locking scenario:', ''];
  if (r.kind === 'invalid-wait-context' && r.mightSleep) {
    // the kernel's __might_sleep / __might_resched: the call, the atomic context, the locks held
    const x = r.edges[0];
    head.push(' BUG: sleeping function called from invalid context');
    head.push(` ${x.thread} makes a call that may sleep, on: ${x.to}${x.toMode === 'read' ? ' (rlock)' : ''}, whose wait context lockdep does not check`);
    head.push(` while holding: ${x.from} (${x.fromMode === 'read' ? 'rlock' : 'lock'}), in whose section it must not sleep`);
    head.push(`   (trace: ${x.events.length} steps)`);
    return { head, table: [], tail: ['', ' A sleeping call in atomic context: might_sleep() reports it at run time (CONFIG_DEBUG_ATOMIC_SLEEP); lockdep does not check the call\'s wait context (it gives it no wait type, or does not track it).'] };
  }
  if (r.kind === 'invalid-wait-context') {
    // lockdep's print_lock_invalid_wait_context: the lock being taken, the context, the locks held
    const x = r.edges[0];
    head.push(' BUG: Invalid wait context');
    head.push(` ${x.thread} is trying to lock: ${x.to} (${x.toMode === 'read' ? 'rlock' : 'lock'}), which may sleep`);
    head.push(` while holding: ${x.from} (${x.fromMode === 'read' ? 'rlock' : 'lock'}), in whose section it must not sleep`);
    head.push(`   (trace: ${x.events.length} steps)`);
    return { head, table: [], tail: ['', ' A sleeping lock taken in atomic context: "BUG: sleeping function called from invalid context" at run time.'] };
  }
  if (r.kind === 'recursive') {
    const x = r.edges[0];
    head.push(' WARNING: possible recursive locking detected');
    head.push(` ${x.thread} is trying to acquire lock ${x.to} (${x.toMode === 'read' ? 'rlock' : 'lock'})`);
    head.push(` but ${x.thread} is already holding lock ${x.from} (${x.fromMode === 'read' ? 'rlock' : 'lock'})${x.fromPath === x.toPath ? '' : ` (another lock of the same class: ${x.fromPath}, ${x.toPath})`}`);
    head.push(`   (trace: ${x.events.length} steps)`, ...scenario);
    const table = ['       CPU0', '       ----', `  ${call(x.from, x.fromMode)}`, `  ${call(x.to, x.toMode)}`];
    return { head, table, tail: ['', '  *** DEADLOCK ***', '', ' May be due to missing lock nesting notation'] };
  }
  head.push(' WARNING: possible circular locking dependency detected');
  head.push(` the lock-order graph has the cycle ${[...r.edges.map((x) => x.from), r.edges[r.edges.length - 1].to].join(' -> ')}:`);
  r.edges.forEach((x, i) => {
    const bare = (name: string, mode: LockMode) => call(name, mode).replace(/;$/, '');
    head.push(`  #${i} ${x.from} -> ${x.to}: ${x.thread} takes ${bare(x.to, x.toMode)} while holding ${bare(x.from, x.fromMode)} (trace: ${x.events.length} steps)`);
  });
  head.push(...scenario);
  // lockdep's scenario: each CPU runs a run of consecutive edges of one thread (a thread that takes Y under X and
  // then Z under Y is one CPU nesting X and Y, as lockdep's chain is); it holds its edges' `from`s, then tries its
  // last edge's `to`
  const cpus = cpuRuns(r.edges);
  const n = cpus.length;
  const need = Math.max(...r.edges.flatMap((x) => [call(x.from, x.fromMode).length, call(x.to, x.toMode).length]).concat(cpus.map((_, i) => `CPU${i}`.length)).map((l) => l + 2));
  const width = Math.max(need, o.fit === undefined ? 24 : Math.min(24, Math.floor((o.fit - 2) / n)));
  const row = (cpu: number, text: string) => ('  ' + ' '.repeat(width * cpu) + text).replace(/\s+$/, '');
  const table = ['  ' + cpus.map((_, i) => `CPU${i}`.padEnd(width)).join('').replace(/\s+$/, '')];
  table.push('  ' + cpus.map(() => '----'.padEnd(width)).join('').replace(/\s+$/, ''));
  cpus.forEach((run, c) => run.forEach((i) => table.push(row(c, call(r.edges[i].from, r.edges[i].fromMode)))));
  for (let c = n - 1; c >= 0; c--) {
    const last = r.edges[cpus[c][cpus[c].length - 1]];
    table.push(row(c, call(last.to, last.toMode)));
  }
  const tail = ['', '  *** DEADLOCK ***'];
  const whose = cpus.map((run, c) => {
    const t = r.edges[run[0]].thread;
    if (n === r.edges.length) return `CPU${c}: ${t}`;
    return `CPU${c}: ${t}, ${run.length === 1 ? `edge #${run[0]}` : `edges #${run[0]}-#${run[run.length - 1]}`}`;
  });
  const lead = n === r.edges.length ? ' CPU i is the thread of edge #i' : " each CPU is a thread and the edges it took";
  tail.push('', `${lead} (${whose.join('; ')}); each edge was seen on its own trace,`);
  tail.push(' so the order is inverted even when no explored interleaving overlaps them.');
  return { head, table, tail };
}

/**
 * The scenario's CPUs: runs of consecutive edges (indices) of one thread. Never fewer than two: a cycle whose
 * edges are all one thread's (two tasks running the same code, as lockdep has it) keeps one CPU per edge.
 */
function cpuRuns(edges: LockOrderTraceEdge[]): number[][] {
  const runs: number[][] = [];
  edges.forEach((x, i) => {
    const last = runs[runs.length - 1];
    if (last && edges[last[last.length - 1]].thread === x.thread) last.push(i);
    else runs.push([i]);
  });
  return runs.length >= 2 ? runs : edges.map((_, i) => [i]);
}

/**
 * Whether a saved report's edges are what its kind says: a recursive acquisition is one edge from a class to
 * itself; a circular dependency is edges each from the class the one before it goes to, the last back to the
 * first's, through two or more classes. Returns why not, or null.
 */
export function lockOrderShapeProblem(r: LockOrderReport): string | null {
  const e = r.edges;
  const chain = e.map((x) => `${x.from} -> ${x.to}`).join(', ');
  if (r.kind === 'invalid-wait-context') {
    return e.length === 1 ? null : `its edges (${chain}) are not one acquisition in an invalid wait context (one edge from the lock held to the lock taken)`;
  }
  if (r.kind === 'recursive') {
    return e.length === 1 && e[0].from === e[0].to ? null : `its edges (${chain}) are not a recursive acquisition (one edge from a lock class to itself)`;
  }
  const closes = e.length >= 2 && e.every((x, i) => x.to === e[(i + 1) % e.length].from && x.from !== x.to);
  return closes ? null : `its edges (${chain}) do not close a cycle (each edge from the class the one before it goes to, the last back to the first)`;
}

/**
 * Replays one edge's events from the initial state of `space` and checks that the last step acquires
 * `toPath` in thread `thread` while it holds `fromPath`. Returns null when it does, else why not.
 */
export function checkEdgeReplay(
  space: StateSpace,
  model: Pick<ModelDefinition, 'lockClass'>,
  edge: LockOrderTraceEdge,
  o: { waitContext?: boolean; mightSleep?: boolean } = {},
): { ok: true } | { ok: false; step: number; reason: string } {
  const system = space.system;
  const index = new Map(system.events.map((e, i) => [e, i]));
  const rec = new LockOrderRecorder(system, model);
  const walker = new PathWalker(space);
  for (let i = 0; i < edge.events.length; i++) {
    const e = index.get(edge.events[i]);
    if (e === undefined) return { ok: false, step: i + 1, reason: `event ${edge.events[i]} does not exist in this model` };
    const before = walker.context;
    const taken = walker.advance(e);
    if (!taken) return { ok: false, step: i + 1, reason: `event ${edge.events[i]} is not enabled here` };
    const acqs = rec.acquisitions(taken, before, e);
    if (i === edge.events.length - 1) {
      // (a sleepOnly call, which is no lock, ends only an invalid-wait-context edge)
      const hit = acqs.find((a) => a.path === edge.toPath && a.thread === edge.thread && !a.try && (o.waitContext || !a.sleepOnly) && a.held.some((h) => h.path === edge.fromPath));
      if (!hit) {
        return { ok: false, step: i + 1, reason: `the last step (${edge.events[i]}) does not acquire ${edge.to} in ${edge.thread} while it holds ${edge.from}` };
      }
      // The edge is one of classes: the model's classes and modes of the two locks must be the trace's.
      const held = hit.held.find((h) => h.path === edge.fromPath)!;
      for (const [what, lock, cls, mode] of [['acquires', hit, edge.to, edge.toMode], ['holds', held, edge.from, edge.fromMode]] as const) {
        const now = lock === hit ? rec.classOfAcquired(hit) : rec.classOf(lock);
        if (now !== cls || lock.mode !== mode) {
          return { ok: false, step: i + 1, reason: `the last step (${edge.events[i]}): ${edge.thread} ${what} ${lock.path} as class ${now} (${lock.mode}), the trace says ${cls} (${mode})` };
        }
      }
      if (o.waitContext) {
        const v = waitContextViolation({ ...hit, held: [held] });
        if (v === null) {
          const sleeps = hit.sleepOnly || hit.mightSleep ? ', and it may sleep' : '';
          return { ok: false, step: i + 1, reason: `the last step (${edge.events[i]}): taking ${edge.to} while holding ${edge.from} is a valid wait context in this model (their wait types: ${hit.wait?.outer ?? hit.wait?.inner ?? 'none'}${sleeps} under ${held.wait?.inner ?? 'none'})` };
        }
        const by = (m: boolean) => (m ? "might_sleep() (sleeping function called from invalid context)" : "lockdep's check_wait_context (Invalid wait context)");
        if (v.mightSleep !== (o.mightSleep ?? false)) {
          return { ok: false, step: i + 1, reason: `the last step (${edge.events[i]}): ${edge.to} under ${edge.from} is reported by ${by(v.mightSleep)} in this model, the trace says by ${by(o.mightSleep ?? false)}` };
        }
      }
    }
  }
  return { ok: true };
}
