// Verdicts of small bcachefs-fiemap instances (issue 8): the v2 ABBA deadlock, FM-P1..P3 on the fixes, and liveness of v3 / unconditional / final.
import { describe, expect, it } from 'vitest';
import model from '../../machines/bcachefs-fiemap/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { exploreReference } from '../../explorer/reference.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { setup } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { crossCheck } from '../../explorer/crosscheck.ts';
import { defineModel } from '../../explorer/model.ts';
import { localActions, localGuards, lp, sixLock } from '../../machines/bcachefs-fiemap/locks.ts';
import { exploreWords } from '../helpers/explore-words.ts';
import { checkErrors } from '../helpers/lowering.ts';

type Params = Record<string, number | boolean | string>;
type Check = { deadlock?: boolean; assertions?: boolean; invariants?: boolean | string[]; livelock?: boolean; fairness?: 'weak' | 'none' };

const run = (variant: string, params: Params, check: Check = {}) => checkModel({ model, variant, params, check, maxStates: 500_000 });

/** The explorer's livelock verdict (issue 7): true when it finds a fair non-progress cycle. */
function livelocks(variant: string, params: Params, fairness: 'weak' | 'none'): boolean {
  const r = run(variant, params, { deadlock: false, assertions: false, invariants: false, livelock: true, fairness });
  expect(['pass', 'violation']).toContain(r.verdict.status);
  if (r.verdict.status === 'violation') expect(r.verdict.kind).toBe('livelock');
  return r.verdict.status === 'violation';
}

/**
 * An independent check to cross-check the explorer's livelock verdicts: is there a reachable cycle with no progress step
 * (fiemap.fill_extent, the model's only progress transition) that is fair? Weak fairness: every thread
 * either steps inside the cycle or is disabled somewhere on it. Exact per SCC of the non-progress graph,
 * since one cycle can cover a whole SCC. Built on the compiled model, so it is fast on these sizes.
 */
function nonProgressCycle(variant: string, params: Params, fairness: 'weak' | 'none'): boolean {
  const packed = instantiate(model, resolveParams(model, params), variant);
  const sys = packed.system;
  const init = packed.initial();
  const keyOf = (s: { leaves: any; context: any }) => JSON.stringify([sys.locations(s.leaves), s.context]);
  const ids = new Map<string, number>([[keyOf(init), 0]]);
  const states: Array<{ leaves: any; context: any }> = [init];
  const edges: { to: number; thread: string; progress: boolean }[][] = [];
  for (let h = 0; h < states.length; h++) {
    const out: { to: number; thread: string; progress: boolean }[] = [];
    sys.events.forEach((ev: string, i: number) => {
      const r = sys.step(states[h].leaves, states[h].context, i);
      if (!r) return;
      const k = keyOf(r);
      let id = ids.get(k);
      if (id === undefined) {
        id = states.length;
        ids.set(k, id);
        states.push(r);
      }
      out.push({ to: id, thread: ev.slice(0, ev.indexOf('.')), progress: ev === 'fiemap.fill_extent' });
    });
    edges.push(out);
  }
  // Tarjan over the non-progress edges (recursive: these graphs are a few thousand states).
  const n = states.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const comp = new Array<number>(n).fill(-1);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  let counter = 0;
  let comps = 0;
  const visit = (v: number) => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (const e of edges[v]) {
      if (e.progress) continue;
      if (index[e.to] < 0) {
        visit(e.to);
        low[v] = Math.min(low[v], low[e.to]);
      } else if (onStack[e.to]) low[v] = Math.min(low[v], index[e.to]);
    }
    if (low[v] === index[v]) {
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = false;
        comp[w] = comps;
      } while (w !== v);
      comps++;
    }
  };
  for (let v = 0; v < n; v++) if (index[v] < 0) visit(v);
  const threads = [...new Set(edges.flat().map((e) => e.thread))];
  const membersOf: number[][] = Array.from({ length: comps }, () => []);
  for (let v = 0; v < n; v++) membersOf[comp[v]].push(v);
  for (let c = 0; c < comps; c++) {
    const members = membersOf[c];
    const inner = members.flatMap((v) => edges[v].filter((e) => !e.progress && comp[e.to] === c));
    if (inner.length === 0) continue;
    const fair =
      fairness === 'none' ||
      threads.every((t) => inner.some((e) => e.thread === t) || members.some((v) => !edges[v].some((e) => e.thread === t)));
    if (fair) return true;
  }
  return false;
}

describe('bcachefs-fiemap v2: blocking folio_lock under the leaf read lock', () => {
  it('deadlocks: fiemap -> folio 0 -> writer -> extents leaf 0 -> fiemap, and the trace replays (blocked on final)', () => {
    const check = { deadlock: true, invariants: false };
    const r = run('v2', {}, check);
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const cycle = r.trace!.deadlock!.cycle!;
    expect(cycle.map((e) => [e.thread, e.resource, e.heldBy])).toEqual([
      ['fiemap', 'folio 0', 'writer'],
      ['writer', 'extents leaf 0', 'fiemap'],
    ]);
    const p = resolveParams(model, {});
    expect(replayTrace(instantiate(model, p, 'v2'), model, r.trace!, {}).status).toBe('reproduced');
    const fixed = replayTrace(instantiate(model, p, 'final'), model, r.trace!, selectInvariants(model, p, 'final', false), { strictLocations: false });
    expect(fixed.status).not.toBe('reproduced');
  });

  it('breaks FM-P1 at the first hole scan, one step in', () => {
    const r = run('v2', {}, { deadlock: false, invariants: ['noFolioLockUnderBtreeLocks'] });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'noFolioLockUnderBtreeLocks' });
    expect(r.trace!.steps.map((s) => s.event)).toEqual(['fiemap.peek']);
  });

  it('three-thread form: a read-only writer queues behind the updater pending write lock', () => {
    const r = run('v2', { writerLock: 'read' }, { deadlock: true, invariants: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.trace!.deadlock!.cycle!.map((e) => [e.thread, e.heldBy])).toEqual([
      ['fiemap', 'writer'],
      ['writer', 'updater'],
      ['updater', 'fiemap'],
    ]);
  });
});

describe('bcachefs-fiemap: v3, unconditional drop_locks_do and final are safe', () => {
  for (const variant of ['v3', 'unconditional', 'final']) {
    for (const params of [{}, { folios: 2, leaves: 2, writes: 1, writerLock: 'read' }] as Params[]) {
      it(`${variant} ${JSON.stringify(params)}: no deadlock, FM-P1..P3 hold`, () => {
        const r = run(variant, params, { deadlock: true, assertions: true, invariants: true });
        expect(r.verdict.status).toBe('pass');
      });
    }
  }

  it('the compiled engine and the XState reference count the same states (v3, no updater)', () => {
    const params = resolveParams(model, {});
    const fast = run('v3', { updates: 0 }, { deadlock: true });
    expect(fast.verdict.status).toBe('pass');
    expect(fast.stats.states).toBe(exploreReference(model.create({ params: { ...params, updates: 0 }, variant: 'v3' })).states);
  });
});

describe('bcachefs-fiemap liveness (issue 7 checker)', () => {
  it('v3 livelocks under weak fairness while the writer keeps re-locking the folio; final does not when it only reads the leaf', () => {
    const endless = { writes: -1, writeback: false };
    expect(livelocks('v3', endless, 'weak')).toBe(true);
    expect(livelocks('v3', { ...endless, writerLock: 'read' }, 'weak')).toBe(true);
    expect(livelocks('final', { ...endless, writerLock: 'read' }, 'weak')).toBe(false);
    // ...but final is not live against endless conflicting leaf updates (FM-P4 is conditional)
    expect(livelocks('final', endless, 'weak')).toBe(true);
  });

  it('v3 with a finite environment: a spin without fairness, none under weak fairness; final never spins', () => {
    expect(livelocks('v3', {}, 'none')).toBe(true);
    expect(livelocks('v3', {}, 'weak')).toBe(false);
    expect(livelocks('final', {}, 'none')).toBe(false);
  });

  it('unconditional drop_locks_do livelocks against an endless leaf updater; final makes progress against it', () => {
    const env = { writes: 0, updates: -1 };
    expect(livelocks('unconditional', env, 'weak')).toBe(true);
    expect(livelocks('final', env, 'weak')).toBe(false);
    expect(livelocks('final', { folios: 2, leaves: 2, writes: 0, updates: -1 }, 'weak')).toBe(false);
  });

  it('final makes progress under weak fairness with a finite environment', () => {
    expect(livelocks('final', { folios: 2, writes: 1, updates: 1 }, 'weak')).toBe(false);
  });

  it('an independent SCC check agrees with the explorer on every case above', () => {
    const cases: Array<[string, Params, 'weak' | 'none']> = [
      ['v3', { writes: -1, writeback: false }, 'weak'],
      ['final', { writes: -1, writeback: false, writerLock: 'read' }, 'weak'],
      ['final', { writes: -1, writeback: false }, 'weak'],
      ['v3', {}, 'none'],
      ['v3', {}, 'weak'],
      ['final', {}, 'none'],
      ['unconditional', { writes: 0, updates: -1 }, 'weak'],
      ['final', { writes: 0, updates: -1 }, 'weak'],
    ];
    for (const [variant, params, fairness] of cases) {
      expect([variant, params, fairness, nonProgressCycle(variant, params, fairness)]).toEqual([variant, params, fairness, livelocks(variant, params, fairness)]);
    }
  });
});

// The declared lowerings of the model's six locks (./locks.ts), folio locks and own guards and actions: every
// step of these instances runs on the packed words (none on the decoded context but the machine's last step
// into all-final), with the successors XState's transition() gives; a six lock misuse reads as before.
describe('bcachefs-fiemap on the packed words', () => {
  const CASES: Array<[string, Params]> = [
    ['unconditional', { folios: 2, writes: 1 }],
    ['v3', { folios: 2, leaves: 2, writes: 1, writerLock: 'read' }],
    ['final', { writes: -1, updates: -1, writeback: false }],
    ['v2', { folios: 2, writes: 1 }],
  ];
  for (const [variant, params] of CASES) {
    it(`${variant} ${JSON.stringify(params)}: every step on the words agrees with XState`, () => {
      const machine = model.create({ params: resolveParams(model, params), variant });
      const on = exploreWords(compileMachine(machine), true);
      expect(on.counts.fallback).toBeLessThan(on.counts.lowered / 100);
      const r = crossCheck(machine, { lowered: true });
      expect(r.difference).toBeUndefined();
      expect(r.states).toBe(on.states.length);
    });
  }

  it('a six lock misuse BAILs on the words and the function reports it, as with lowering off', () => {
    const bad = setup({ guards: localGuards, actions: localActions }).createMachine({
      type: 'parallel',
      context: { leaf: sixLock() },
      states: { t: { initial: 'a', states: { a: { on: { 't.unlock': { actions: [{ type: 'six_read_unlock', params: lp('leaf', 't') }], target: 'done' } } }, done: { type: 'final' } } } },
    });
    const misuse = defineModel({ name: 'six-misuse', description: 'read unlock without a read hold', params: {}, defaultVariant: 'v', variants: { v: { description: 'bad' } }, create: () => bad });
    const [on, off] = checkErrors(misuse);
    expect(on).toMatch(/lock misuse: t read unlock without a read hold/);
    expect(on).toBe(off);
  });
});
