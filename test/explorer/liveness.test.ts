// Livelock and starvation checking (issue 7): verdicts on the demo models under weak and no fairness,
// lasso traces that replay and render, the SCC fairness test against a brute-force closure, bounds, errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { runCli } from '../helpers/cli.ts';
import { renderTrace } from '../../cli/show.ts';
import { validateTraceObject } from '../../cli/spec.ts';
import { InputError } from '../../explorer/errors.ts';
import { checkModel, instantiate, type CheckResult } from '../../explorer/index.ts';
import { liveness } from '../../explorer/strategies/liveness.ts';
import type { ModelDefinition } from '../../explorer/model.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { EDGE_EVENT, EDGE_PROGRESS, fairCycle, findFairScc, type EdgeFilter, type Fairness, type StateGraph } from '../../explorer/scc.ts';
import mutexFairness from '../../machines/mutex-fairness/index.ts';
import retryLoop from '../../machines/retry-loop/index.ts';
import sharedEvent from '../fixtures/liveness/shared-event.ts';
import spinGap from '../fixtures/liveness/spin-gap.ts';
import { rng } from '../helpers/rng.ts';

function replay(model: ModelDefinition, r: CheckResult) {
  const packed = instantiate(model, r.params, r.variant);
  return replayTrace(packed, model, r.trace!, {});
}

/** The loop of a lasso trace: its steps' events. */
const loopEvents = (r: CheckResult) => r.trace!.steps.slice(r.trace!.loopStart! - 1).map((s) => s.event);

describe('livelock: trylock retry loops', () => {
  it('the ABBA trylock back-off loop livelocks under weak fairness, with a fair lasso that replays', () => {
    const r = checkModel({ model: retryLoop, variant: 'backoff', check: { livelock: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'livelock', name: 'livelock' });
    const t = r.trace!;
    expect(t.loopStart).toBe(1);
    // Both tasks take their first lock, fail the trylock, back off: six steps in lockstep.
    expect(loopEvents(r).sort()).toEqual(
      ['task0.mutex_lock', 'task0.mutex_trylock', 'task0.mutex_unlock', 'task1.mutex_lock', 'task1.mutex_trylock', 'task1.mutex_unlock'].sort(),
    );
    expect(t.steps.every((s) => s.locations.task0 !== 'critical' && s.locations.task1 !== 'critical')).toBe(true);
    expect(t.options).toMatchObject({ fairness: 'weak', livelock: true });
    expect(validateTraceObject(t)).toEqual([]);
    expect(replay(retryLoop, r)).toMatchObject({ status: 'reproduced' });
    expect(r.verdict.message).toMatch(/moving in the loop: task0, task1/);
  });

  it('a trylock spin with a progress mark on success passes under weak fairness', () => {
    for (const rounds of [1, 2, 3]) {
      const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds }, check: { livelock: true, fairness: 'weak' } });
      expect(r.verdict.status).toBe('pass');
    }
  });

  it('the same spin livelocks with no fairness: the spinner spins while the runnable holder never unlocks', () => {
    const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 2 }, check: { livelock: true, fairness: 'none' } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'livelock' });
    const t = r.trace!;
    // Stem: the holder takes m; loop: one failed trylock (a self-loop).
    expect(t.steps.map((s) => s.event)).toEqual(['holder.mutex_lock', 'spinner.mutex_trylock']);
    expect(t.loopStart).toBe(2);
    expect(r.verdict.message).toMatch(/never scheduled \(an unfair loop\): holder/);
    expect(replay(retryLoop, r)).toMatchObject({ status: 'reproduced' });
  });

  it('replay rejects that unfair loop as a weakly fair livelock, and a loop that does not close', () => {
    const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 2 }, check: { livelock: true, fairness: 'none' } });
    const unfair = { ...r.trace!, options: { ...r.trace!.options, fairness: 'weak' } };
    const packed = instantiate(retryLoop, r.params, r.variant);
    expect(replayTrace(packed, retryLoop, unfair, {})).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/not weakly fair: holder stays enabled/) });
    const open = { ...r.trace!, loopStart: 1 };
    expect(replayTrace(packed, retryLoop, open, {})).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/does not return/) });
  });

  it('without the progress mark every loop is a livelock: a progress transition in the loop is rejected by replay', () => {
    // Replay the fair backoff lasso on the spin model's progress semantics is meaningless; instead check that a
    // progress step inside a loop is caught: the spinner's success loop (trylock ok -> unlock) after the holder is done.
    const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 1 }, check: { livelock: true, fairness: 'none' } });
    const t = r.trace!;
    const tampered = {
      ...t,
      steps: [
        { ...t.steps[0], event: 'holder.mutex_lock' },
        { ...t.steps[0], step: 2, event: 'holder.mutex_unlock' },
        { ...t.steps[0], step: 3, event: 'spinner.mutex_trylock' },
        { ...t.steps[0], step: 4, event: 'spinner.mutex_unlock' },
      ],
      loopStart: 3,
    };
    const packed = instantiate(retryLoop, r.params, r.variant);
    expect(replayTrace(packed, retryLoop, tampered, {}, { strictLocations: false })).toMatchObject({
      status: 'not-reproduced',
      reason: expect.stringMatching(/step 3 \(spinner.mutex_trylock\) is a progress transition/),
    });
  });
});

describe('livelock: progress marks', () => {
  /** Thread t polls between two child states of `busy`; `busy` is marked progress, the children as given. */
  const polling = (childMark: boolean | undefined): ModelDefinition => ({
    name: 'polling',
    description: 'a poll loop inside a progress state',
    params: {},
    variants: { base: { description: 'the only variant' } },
    defaultVariant: 'base',
    create: () =>
      createMachine({
        type: 'parallel',
        states: {
          t: {
            initial: 'busy',
            states: {
              busy: {
                meta: { progress: true },
                initial: 'poll',
                states: {
                  poll: { ...(childMark === undefined ? {} : { meta: { progress: childMark } }), on: { 't.again': { target: 'poll2' } } },
                  poll2: { ...(childMark === undefined ? {} : { meta: { progress: childMark } }), on: { 't.back': { target: 'poll' } } },
                },
              },
            },
          },
        },
      }),
  });
  it('progress: false on states inside a progress: true parent is no progress (the nearest mark wins): their loop is a livelock', () => {
    expect(checkModel({ model: polling(false), check: { livelock: true } }).verdict).toMatchObject({ status: 'violation', kind: 'livelock' });
    // Unmarked children inherit the parent's mark: the loop is progress.
    expect(checkModel({ model: polling(undefined), check: { livelock: true } }).verdict.status).toBe('pass');
  });
});

describe('starvation: mutex fairness', () => {
  it('a thread blocked in every state of the loop gets no "not strongly fair" remark (btrfs-send: the allocator waits throughout)', async () => {
    const r = await runCli(['check', 'specs/btrfs-send-mutex-starvation.json', '--json', '--no-save']);
    const message: string = JSON.parse(r.out).results[0].verdict.message;
    expect(message).toMatch(/blocked in the loop: allocator$/);
    expect(message).not.toMatch(/runnable in other states/);
  });


  it('a FIFO handoff mutex starves nobody under weak fairness', () => {
    for (const n of [2, 3]) {
      const starvation = Array.from({ length: n }, (_, i) => ({ thread: `task${i}`, goal: 'critical' }));
      const r = checkModel({ model: mutexFairness, variant: 'handoff', params: { n }, check: { starvation } });
      expect(r.verdict.status).toBe('pass');
    }
  });

  it("the kernel's mutex (stealing bounded by MUTEX_FLAG_HANDOFF) starves nobody under weak fairness, and does with none", () => {
    for (const n of [2, 3]) {
      const starvation = Array.from({ length: n }, (_, i) => ({ thread: `task${i}`, goal: 'critical' }));
      expect(checkModel({ model: mutexFairness, variant: 'kernel', params: { n }, check: { starvation } }).verdict.status).toBe('pass');
    }
    const r = checkModel({ model: mutexFairness, variant: 'kernel', check: { starvation: { thread: 'task1', goal: 'critical' }, fairness: 'none' } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'task1' });
  });

  it('a barging mutex starves task1: task0 re-acquires every time, task1 blocked whenever it could run', () => {
    const r = checkModel({ model: mutexFairness, variant: 'barging', check: { starvation: { thread: 'task1', goal: 'critical' } } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'task1' });
    expect(loopEvents(r)).toEqual(['task0.mutex_lock', 'task0.mutex_unlock']);
    expect(r.verdict.message).toMatch(/blocked in the loop: task1/);
    // task1 can run in the loop's other state (the mutex free): weak fairness allows the loop, strong does not, and the message says so
    expect(r.verdict.message).toMatch(/blocked in the loop: task1 \(task1 runnable in other states of it: not strongly fair, --fairness strong excludes this loop\)/);
    expect(r.trace!.options).toMatchObject({ starvation: [{ thread: 'task1', goal: 'critical' }] });
    expect(replay(mutexFairness, r)).toMatchObject({ status: 'reproduced' });
  });

  it('with no fairness even the handoff mutex starves a task that is never scheduled', () => {
    const r = checkModel({ model: mutexFairness, variant: 'handoff', check: { starvation: { thread: 'task0', goal: 'critical' }, fairness: 'none' } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'task0' });
    expect(r.verdict.message).toMatch(/never scheduled \(an unfair loop\): task0/);
  });

  it('replay rejects a starvation loop in which the thread reaches its goal', () => {
    const r = checkModel({ model: mutexFairness, variant: 'barging', check: { starvation: { thread: 'task1', goal: 'critical' } } });
    const t = { ...r.trace!, options: { ...r.trace!.options, starvation: [{ thread: 'task1', goal: 'lock' }] } };
    const packed = instantiate(mutexFairness, r.params, r.variant);
    expect(replayTrace(packed, mutexFairness, t, {})).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/task1 is at lock/) });
  });

  it('names the states when a goal does not exist', () => {
    expect(() => checkModel({ model: mutexFairness, check: { starvation: { thread: 'task1', goal: 'crit' } } })).toThrow(InputError);
    expect(() => checkModel({ model: mutexFairness, check: { starvation: { thread: 'task1', goal: 'crit' } } })).toThrow(/leaf states: lock, critical/);
    expect(() => checkModel({ model: mutexFairness, check: { starvation: { thread: 'task9', goal: 'critical' } } })).toThrow(/no thread 'task9'/);
  });
});

describe('lasso traces', () => {
  it('show marks the loop and says it repeats', () => {
    const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 2 }, check: { livelock: true, fairness: 'none' } });
    const text = renderTrace(r.trace!);
    expect(text).toMatch(/┌2 │/);
    expect(text).toMatch(/Steps 2\.\.2 \(marked ┌│\) repeat forever/);
    expect(text).toMatch(/Verdict: LIVELOCK/);
  });

  it('show explains the + beside a progress step (it was printed with no legend)', () => {
    // the spinner's successful trylock is progress; with no fairness the holder starves while it loops
    const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 1 }, check: { starvation: { thread: 'holder', goal: 'done' }, fairness: 'none' } });
    expect(r.verdict.status).toBe('violation');
    const text = renderTrace(r.trace!);
    expect(text).toMatch(/^ *[┌│]?\+\d+ │/m);
    expect(text).toMatch(/\+ marks a progress step \(meta\.progress/);
    // a trace without progress steps has no legend
    const none = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 2 }, check: { livelock: true, fairness: 'none' } });
    expect(renderTrace(none.trace!)).not.toMatch(/marks a progress step/);
  });

  it('an event shared by two threads: the loop is fair only after the third thread has finished', () => {
    const weak = checkModel({ model: sharedEvent, check: { livelock: true, deadlock: false } });
    expect(weak.verdict.kind).toBe('livelock');
    expect(weak.trace!.steps.map((s) => s.event)).toEqual(['c.go', 'sync', 'sync']);
    expect(weak.trace!.loopStart).toBe(2);
    expect(weak.trace!.steps[1].threads).toEqual(['a', 'b']);
    expect(replay(sharedEvent, weak)).toMatchObject({ status: 'reproduced' });
    const none = checkModel({ model: sharedEvent, check: { livelock: true, deadlock: false, fairness: 'none' } });
    expect(none.trace!.steps.map((s) => s.event)).toEqual(['sync', 'sync']);
    expect(none.trace!.loopStart).toBe(1);
  });
});

describe('bounds and the safety path', () => {
  it('a liveness search cut by maxStates with no fair cycle found is incomplete', () => {
    const r = checkModel({ model: mutexFairness, variant: 'handoff', params: { n: 3 }, maxStates: 10, check: { starvation: { thread: 'task0', goal: 'critical' }, deadlock: false } });
    expect(r.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxStates', limit: 10 } });
    const d = checkModel({ model: mutexFairness, variant: 'handoff', params: { n: 3 }, maxDepth: 2, check: { starvation: { thread: 'task0', goal: 'critical' }, deadlock: false } });
    expect(d.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxDepth' } });
  });

  it('a cycle among fully expanded states is reported even when a bound cut the rest', () => {
    const full = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 3 }, check: { livelock: true, deadlock: false, fairness: 'none' } });
    expect(full.stats.states).toBe(11);
    const r = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 3 }, maxStates: 3, check: { livelock: true, deadlock: false, fairness: 'none' } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'livelock', bound: { name: 'maxStates', limit: 3 } });
    expect(r.stats.states).toBe(3);
    expect(replay(retryLoop, r)).toMatchObject({ status: 'reproduced' });
    // Under weak fairness the cut graph has no fair cycle: incomplete, not pass.
    const weak = checkModel({ model: retryLoop, variant: 'spin', params: { rounds: 3 }, maxStates: 3, check: { livelock: true, deadlock: false } });
    expect(weak.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxStates' } });
    // Edges back into stored states are kept at the depth bound: the back-off livelock closes within depth 3.
    const depth = checkModel({ model: retryLoop, variant: 'backoff', maxDepth: 3, check: { livelock: true, deadlock: false } });
    expect(depth.verdict).toMatchObject({ status: 'violation', kind: 'livelock', bound: { name: 'maxDepth', limit: 3 } });
    expect(replay(retryLoop, depth)).toMatchObject({ status: 'reproduced' });
    const shallow = checkModel({ model: retryLoop, variant: 'backoff', maxDepth: 1, check: { livelock: true, deadlock: false } });
    expect(shallow.verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxDepth', limit: 1 } });
  });

  it('the safety check still runs first and wins when it finds a violation', () => {
    const r = checkModel({ model: mutexFairness, variant: 'barging', check: { starvation: { thread: 'task1', goal: 'critical' }, invariants: false } });
    expect(r.verdict.kind).toBe('starvation');
    const s = checkModel({ model: mutexFairness, variant: 'barging' });
    expect(s.verdict.status).toBe('pass');
    expect(s.trace).toBeUndefined();
  });

  it('counts states and edges like the exploration it replaces', () => {
    const space = instantiate(mutexFairness, { n: 3 }, 'handoff');
    const live = liveness.run({ space, bounds: {}, starvation: [{ thread: 'task0', goal: 'critical' }] });
    const safe = checkModel({ model: mutexFairness, variant: 'handoff', params: { n: 3 } });
    expect(live.stats.states).toBe(safe.stats.states);
    expect(live.stats.edges).toBe(safe.stats.transitions);
    expect(live.stats.bytesPerEdge).toBe(6);
  });
});


/** A random graph: random edges with random mover sets; enabled = union of movers on out-edges (as in a real system). */
function randomGraph(rand: () => number): { g: StateGraph; progress: Uint8Array } {
  const n = 2 + Math.floor(rand() * 7);
  const T = 1 + Math.floor(rand() * 3);
  const offsets = new Int32Array(n + 1);
  const targets: number[] = [];
  const events: number[] = [];
  const movers: number[] = [];
  const enabled = new Uint32Array(n);
  for (let v = 0; v < n; v++) {
    offsets[v] = targets.length;
    const deg = Math.floor(rand() * 4);
    for (let k = 0; k < deg; k++) {
      targets.push(Math.floor(rand() * n));
      const m = 1 + Math.floor(rand() * ((1 << T) - 1));
      movers.push(m);
      enabled[v] |= m;
      events.push(rand() < 0.25 ? EDGE_PROGRESS : 0);
    }
  }
  offsets[n] = targets.length;
  return { g: maskGraph(T, offsets, targets, events, movers, new Int32Array(0), enabled), progress: new Uint8Array(0) };
}

/** A graph of one mask word whose edges record the threads they move. */
function maskGraph(T: number, offsets: Int32Array, targets: number[], events: number[], movers: number[], eventOwner: Int32Array, enabled: Uint32Array): StateGraph {
  const n = offsets.length - 1;
  return {
    n,
    threadCount: T,
    maskWords: 1,
    offsets,
    targets: Int32Array.from(targets),
    edgeEvents: Uint16Array.from(events),
    edgeThreads: Uint32Array.from(movers),
    eventOwner,
    enabled,
    stateFlags: new Uint8Array(n),
  };
}

/** Brute force: SCCs by transitive closure, then the weak-fairness criterion; smallest state of a fair SCC. */
function bruteForce(g: StateGraph, ok: EdgeFilter, fairness: Fairness): number {
  const n = g.n;
  const reach = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (let v = 0; v < n; v++) for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) if (ok(e, v)) reach[v][g.targets[e]] = true;
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) if (reach[i][k]) for (let j = 0; j < n; j++) if (reach[k][j]) reach[i][j] = true;
  const all = (1 << g.threadCount) - 1;
  for (let i = 0; i < n; i++) {
    const scc = [...Array(n).keys()].filter((j) => j === i || (reach[i][j] && reach[j][i]));
    let internal = false;
    let acc = 0;
    for (const x of scc) {
      acc |= ~g.enabled[x] & all;
      for (let e = g.offsets[x]; e < g.offsets[x + 1]; e++) {
        if (!ok(e, x) || !scc.includes(g.targets[e])) continue;
        internal = true;
        acc |= g.edgeThreads![e];
      }
    }
    if (internal && (fairness === 'none' || acc === all)) return Math.min(...scc);
  }
  return -1;
}

describe('fair SCCs (scc.ts)', () => {
  it('agrees with a brute-force closure on 3000 random graphs, and every lasso cycle is a fair closed walk', () => {
    const rand = rng(7);
    let found = 0;
    for (let i = 0; i < 3000; i++) {
      const { g } = randomGraph(rand);
      const ok: EdgeFilter = (e) => (g.edgeEvents[e] & EDGE_PROGRESS) === 0;
      for (const fairness of ['weak', 'none'] as const) {
        const r = findFairScc(g, ok, fairness);
        const want = bruteForce(g, ok, fairness);
        expect(r.scc?.root ?? -1).toBe(want);
        if (!r.scc) continue;
        found++;
        const cycle = fairCycle(g, ok, r.scc, fairness);
        expect(cycle.length).toBeGreaterThan(0);
        let at = r.scc.root;
        let moved = 0;
        let disabled = 0;
        const all = (1 << g.threadCount) - 1;
        for (const e of cycle) {
          expect(e >= g.offsets[at] && e < g.offsets[at + 1] && ok(e, at)).toBe(true);
          disabled |= ~g.enabled[at] & all;
          moved |= g.edgeThreads![e];
          at = g.targets[e];
          expect(r.scc.member(at)).toBe(true);
        }
        expect(at).toBe(r.scc.root);
        if (fairness === 'weak') expect(moved | disabled).toBe(all);
      }
    }
    expect(found).toBeGreaterThan(500);
  });

  it('is iterative: a 10^6-state ring does not overflow the stack', () => {
    const n = 1_000_000;
    const offsets = new Int32Array(n + 1);
    const targets = new Int32Array(n);
    for (let v = 0; v < n; v++) {
      offsets[v] = v;
      targets[v] = (v + 1) % n;
    }
    offsets[n] = n;
    const g: StateGraph = {
      n,
      threadCount: 1,
      maskWords: 1,
      offsets,
      targets,
      edgeEvents: new Uint16Array(n),
      edgeThreads: null,
      eventOwner: new Int32Array([0]),
      enabled: new Uint32Array(n).fill(1),
      stateFlags: new Uint8Array(n),
    };
    const r = findFairScc(g, () => true, 'weak');
    expect(r.scc).toMatchObject({ root: 0, size: n });
    expect(fairCycle(g, () => true, r.scc!, 'weak')).toHaveLength(n);
  });
});

/**
 * A hand-built graph for the strong-fairness tests: edges [from, to, event], each event owned by thread
 * eventOwner[event]; a state's enabled threads are the owners of its out-edges (as in a real system), and of
 * its `cut` events (edges a bound dropped: [from, event]).
 */
function handGraph(n: number, eventOwner: number[], edges: Array<[number, number, number]>, cut: Array<[number, number]> = []): StateGraph {
  const sorted = [...edges].sort((a, b) => a[0] - b[0]);
  const offsets = new Int32Array(n + 1);
  for (const [from] of sorted) offsets[from + 1]++;
  for (let v = 0; v < n; v++) offsets[v + 1] += offsets[v];
  const enabled = new Uint32Array(n);
  for (const [from, , ev] of sorted) enabled[from] |= 1 << eventOwner[ev];
  for (const [from, ev] of cut) enabled[from] |= 1 << eventOwner[ev];
  return {
    n,
    threadCount: Math.max(...eventOwner) + 1,
    maskWords: 1,
    offsets,
    targets: Int32Array.from(sorted.map((x) => x[1])),
    edgeEvents: Uint16Array.from(sorted.map((x) => x[2])),
    edgeThreads: null,
    eventOwner: Int32Array.from(eventOwner),
    enabled,
    stateFlags: new Uint8Array(n),
    ...(cut.length ? { cut: { from: Int32Array.from(cut.map((x) => x[0])), events: Uint16Array.from(cut.map((x) => x[1])), threads: null } } : {}),
  };
}

/** The (thread, event) labels of edge e, or of cut edge c, as strings. */
function labelsOf(g: StateGraph, e: number, cut = false): string[] {
  const ev = (cut ? g.cut!.events[e] : g.edgeEvents[e]) & EDGE_EVENT;
  const owner = ev < g.eventOwner.length ? g.eventOwner[ev] : -1;
  if (owner >= 0) return [`${ev}:${owner}`];
  const mask = (cut ? g.cut!.threads! : g.edgeThreads!)[e];
  const out: string[] = [];
  for (let t = 0; t < g.threadCount; t++) if (mask & (1 << t)) out.push(`${ev}:${t}`);
  return out;
}

/** Labels enabled in state v: those of its out-edges in the full graph and of its cut edges. */
function enabledLabels(g: StateGraph, v: number): string[] {
  const out: string[] = [];
  for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) out.push(...labelsOf(g, e));
  if (g.cut) g.cut.from.forEach((f, c) => f === v && out.push(...labelsOf(g, c, true)));
  return out;
}

/** The threads moving on edge e. */
const moversOf = (g: StateGraph, e: number) => (g.edgeThreads ? g.edgeThreads[e] : 1 << g.eventOwner[g.edgeEvents[e] & EDGE_EVENT]);

/**
 * Why a lasso cycle (edge list from root) is not a strongly fair closed walk inside the SCC, or null: every edge
 * ok and inside, back at the root, every label enabled in one of its states taken on it, every thread moving or
 * disabled in one of its states.
 */
function strongCycleProblem(g: StateGraph, ok: EdgeFilter, scc: { root: number; member: (v: number) => boolean }, cycle: number[]): string | null {
  const all = (1 << g.threadCount) - 1;
  const enabled = new Set<string>();
  const taken = new Set<string>();
  let at = scc.root;
  let moved = 0;
  let disabled = 0;
  if (cycle.length === 0) return 'empty cycle';
  for (const e of cycle) {
    if (!(e >= g.offsets[at] && e < g.offsets[at + 1] && ok(e, at))) return `edge ${e} does not leave ${at} along an ok edge`;
    enabledLabels(g, at).forEach((l) => enabled.add(l));
    labelsOf(g, e).forEach((l) => taken.add(l));
    disabled |= ~g.enabled[at] & all;
    moved |= moversOf(g, e);
    at = g.targets[e];
    if (!scc.member(at)) return `state ${at} is outside the SCC`;
  }
  if (at !== scc.root) return 'the cycle does not return to the root';
  const missing = [...enabled].filter((l) => !taken.has(l));
  if (missing.length) return `labels enabled but never taken: ${missing.join(', ')}`;
  if ((moved | disabled) !== all) return 'not weakly fair';
  return null;
}

/** Brute force for strong fairness: the smallest state of a state set that is strongly connected along its internal ok edges, has one, and is fair (every label enabled in it taken inside it, every thread moving inside or disabled in it). */
function bruteForceStrong(g: StateGraph, ok: EdgeFilter): number {
  const n = g.n;
  const all = (1 << g.threadCount) - 1;
  let best = -1;
  for (let set = 1; set < 1 << n; set++) {
    const inSet = (v: number) => (set & (1 << v)) !== 0;
    const members = [...Array(n).keys()].filter(inSet);
    const internal: number[] = [];
    for (const x of members) for (let e = g.offsets[x]; e < g.offsets[x + 1]; e++) if (ok(e, x) && inSet(g.targets[e])) internal.push(e);
    if (internal.length === 0) continue;
    // strongly connected along the internal edges: every member reaches every member
    const src = (e: number) => members.find((x) => e >= g.offsets[x] && e < g.offsets[x + 1])!;
    const reaches = (from: number) => {
      const seen = new Set([from]);
      const todo = [from];
      while (todo.length) {
        const x = todo.pop()!;
        for (const e of internal) if (src(e) === x && !seen.has(g.targets[e])) (seen.add(g.targets[e]), todo.push(g.targets[e]));
      }
      return seen;
    };
    if (members.some((x) => reaches(x).size !== members.length)) continue;
    const taken = new Set(internal.flatMap((e) => labelsOf(g, e)));
    if (members.some((x) => enabledLabels(g, x).some((l) => !taken.has(l)))) continue;
    let acc = 0;
    for (const x of members) acc |= ~g.enabled[x] & all;
    for (const e of internal) acc |= moversOf(g, e);
    if (acc !== all) continue;
    if (best < 0 || members[0] < best) best = members[0];
  }
  return best;
}

/** A random graph with events: each event owned by one thread or shared (moving a random set of its threads); one edge per (state, event); some events cut by a bound. */
function randomEventGraph(rand: () => number): StateGraph {
  const n = 1 + Math.floor(rand() * 7);
  const T = 1 + Math.floor(rand() * 3);
  const E = 1 + Math.floor(rand() * 4);
  const eventOwner = Int32Array.from({ length: E }, () => (rand() < 0.2 ? -1 : Math.floor(rand() * T)));
  const offsets = new Int32Array(n + 1);
  const targets: number[] = [];
  const events: number[] = [];
  const movers: number[] = [];
  const cutFrom: number[] = [];
  const cutEvents: number[] = [];
  const cutMovers: number[] = [];
  const enabled = new Uint32Array(n);
  const moverOf = (ev: number) => (eventOwner[ev] >= 0 ? 1 << eventOwner[ev] : 1 + Math.floor(rand() * ((1 << T) - 1)));
  for (let v = 0; v < n; v++) {
    offsets[v] = targets.length;
    for (let ev = 0; ev < E; ev++) {
      const r = rand();
      if (r < 0.45) {
        const m = moverOf(ev);
        targets.push(Math.floor(rand() * n));
        events.push(ev | (rand() < 0.2 ? EDGE_PROGRESS : 0));
        movers.push(m);
        enabled[v] |= m;
      } else if (r < 0.5) {
        const m = moverOf(ev);
        cutFrom.push(v);
        cutEvents.push(ev);
        cutMovers.push(m);
        enabled[v] |= m;
      }
    }
  }
  offsets[n] = targets.length;
  return {
    ...maskGraph(T, offsets, targets, events, movers, eventOwner, enabled),
    ...(cutFrom.length ? { cut: { from: Int32Array.from(cutFrom), events: Uint16Array.from(cutEvents), threads: Uint32Array.from(cutMovers) } } : {}),
  };
}

describe('strong fairness (scc.ts): every (thread, event) enabled infinitely often is taken infinitely often', () => {
  const all: EdgeFilter = () => true;

  it('a loop in which the reader is enabled at one state but never moves: fair under weak fairness, not under strong', () => {
    // threads: writer 0 (event 0), reader 1 (event 1); 0 -w-> 1 -w-> 0, and the reader could leave 0 for 2
    const g = handGraph(3, [0, 1], [
      [0, 1, 0],
      [1, 0, 0],
      [0, 2, 1],
    ]);
    expect(findFairScc(g, all, 'weak').scc?.root).toBe(0);
    const strong = findFairScc(g, all, 'strong');
    expect(strong.scc).toBeUndefined();
    expect(strong.cyclic).toBe(1);
  });

  it('the whole SCC is unfair, a sub-SCC without the state where the untaken label is enabled is fair', () => {
    // events: A 0 and B 1 of thread 0, R 2 of thread 1. {0, 1, 2} is an SCC; R is enabled at 0 only, never
    // taken inside. Without 0: 1 -B-> 2 -A-> 1 takes A and B, the labels enabled at 1 (A to 0, B) and 2 (A).
    const g = handGraph(4, [0, 0, 1], [
      [0, 1, 0],
      [0, 3, 2],
      [1, 0, 0],
      [1, 2, 1],
      [2, 1, 0],
    ]);
    expect(findFairScc(g, all, 'weak').scc).toMatchObject({ root: 0, size: 3 });
    const r = findFairScc(g, all, 'strong');
    expect(r.scc).toMatchObject({ root: 1, size: 2 });
    expect([0, 1, 2, 3].map((v) => r.scc!.member(v))).toEqual([false, true, true, false]);
    const cycle = fairCycle(g, all, r.scc!, 'strong');
    expect(strongCycleProblem(g, all, r.scc!, cycle)).toBeNull();
    // the cycle alone does not take A out of 1 (to 0), but A is taken 2 -> 1: the label, not the edge, counts
    expect(cycle.map((e) => g.targets[e])).toEqual([2, 1]);
  });

  it('the lasso takes every label enabled in the SCC, not only the shortest way back', () => {
    // one thread, events A 0 and B 1: 0 -A-> 1 -A-> 0 is weakly fair; strong needs B too (0 -B-> 2 -A-> 0)
    const g = handGraph(3, [0, 0], [
      [0, 1, 0],
      [0, 2, 1],
      [1, 0, 0],
      [2, 0, 0],
    ]);
    const weak = findFairScc(g, all, 'weak');
    expect(fairCycle(g, all, weak.scc!, 'weak').map((e) => g.edgeEvents[e])).toEqual([0, 0]);
    const r = findFairScc(g, all, 'strong');
    expect(r.scc).toMatchObject({ root: 0, size: 3 });
    const cycle = fairCycle(g, all, r.scc!, 'strong');
    expect(cycle.map((e) => g.edgeEvents[e])).toContain(1);
    expect(strongCycleProblem(g, all, r.scc!, cycle)).toBeNull();
  });

  it('a label enabled only on an edge a bound cut still counts as enabled', () => {
    // 0 -w-> 1 -w-> 0; the reader's event 1 is enabled at 0, its edge cut (the target was never stored)
    const g = handGraph(2, [0, 1], [
      [0, 1, 0],
      [1, 0, 0],
    ], [[0, 1]]);
    expect(findFairScc(g, all, 'weak').scc?.root).toBe(0);
    expect(findFairScc(g, all, 'strong').scc).toBeUndefined();
  });

  it('an edge the filter refuses still enables its label (enabled is the full graph), and a refused edge is never taken', () => {
    // 0 -A-> 1 -A-> 0, 1 -B-> 0 refused by the filter: B is enabled at 1 and never taken
    const g = handGraph(2, [0, 0], [
      [0, 1, 0],
      [1, 0, 0],
      [1, 0, 1],
    ]);
    const ok: EdgeFilter = (e) => g.edgeEvents[e] !== 1;
    expect(findFairScc(g, ok, 'weak').scc?.root).toBe(0);
    expect(findFairScc(g, ok, 'strong').scc).toBeUndefined();
    expect(findFairScc(g, all, 'strong').scc?.root).toBe(0);
  });

  it('agrees with a brute force over state sets on 3000 random graphs with events, shared events and cut edges; every lasso is strongly fair', () => {
    const rand = rng(11);
    let found = 0;
    let weakOnly = 0;
    for (let i = 0; i < 3000; i++) {
      const g = randomEventGraph(rand);
      const ok: EdgeFilter = (e) => (g.edgeEvents[e] & EDGE_PROGRESS) === 0;
      const r = findFairScc(g, ok, 'strong');
      expect(r.scc?.root ?? -1).toBe(bruteForceStrong(g, ok));
      // strong never reports a cycle weak would reject
      const weak = findFairScc(g, ok, 'weak');
      if (r.scc) expect(weak.scc).toBeDefined();
      else if (weak.scc) weakOnly++;
      if (!r.scc) continue;
      found++;
      let size = 0;
      for (let v = 0; v < g.n; v++) if (r.scc.member(v)) size++;
      expect(size).toBe(r.scc.size);
      expect(strongCycleProblem(g, ok, r.scc, fairCycle(g, ok, r.scc, 'strong'))).toBeNull();
    }
    expect(found).toBeGreaterThan(300);
    expect(weakOnly).toBeGreaterThan(100);
  });

  it('is iterative: a 10^6-state ring, and a 2000-state ring peeled one state per round', () => {
    const n = 1_000_000;
    const ring: Array<[number, number, number]> = [];
    for (let v = 0; v < n; v++) ring.push([v, (v + 1) % n, 0]);
    const g = handGraph(n, [0], ring);
    const r = findFairScc(g, all, 'strong');
    expect(r.scc).toMatchObject({ root: 0, size: n });
    expect(fairCycle(g, all, r.scc!, 'strong')).toHaveLength(n);
    // A ring walked both ways (events 0 and 1); label k + 2 is enabled at state k (a cut edge) and taken only
    // at k + 1 (a self-loop): each round removes the last state alone (its label is taken nowhere), which
    // leaves the label of the state before it untaken: m rounds, none fair. Weak fairness takes the ring.
    const m = 2000;
    const edges: Array<[number, number, number]> = [];
    const cut: Array<[number, number]> = [];
    for (let v = 0; v < m; v++) {
      edges.push([v, (v + 1) % m, 0], [v, (v + m - 1) % m, 1]);
      if (v > 0) edges.push([v, v, v + 1]);
      cut.push([v, v + 2]);
    }
    const peel = handGraph(m, Array.from({ length: m + 2 }, () => 0), edges, cut);
    expect(findFairScc(peel, all, 'weak').scc).toMatchObject({ root: 0, size: m });
    expect(findFairScc(peel, all, 'strong').scc).toBeUndefined();
  });
});

describe('strong fairness: the search and replay', () => {
  const starve = (fairness: Fairness, maxStates?: number) =>
    checkModel({ model: spinGap, maxStates, check: { deadlock: false, starvation: { thread: 'reader', goal: 'done' }, fairness } });

  it('a reader enabled only in the gaps of an endless writer starves under weak fairness, not under strong', () => {
    const weak = starve('weak');
    expect(weak.verdict).toMatchObject({ status: 'violation', kind: 'starvation' });
    expect(loopEvents(weak)).toEqual(['w.step', 'w.step']);
    const strong = starve('strong');
    expect(strong.verdict.status).toBe('pass');
    expect(strong.stats.states).toBe(weak.stats.states);
  });

  it('under a bound the edges to states never stored still enable their (thread, event): incomplete, not a false starvation', () => {
    // maxStates 2 stores the writer's two states; r.go's edge (to a third state) is cut
    expect(starve('weak', 2).verdict).toMatchObject({ status: 'violation', kind: 'starvation', bound: { name: 'maxStates', limit: 2 } });
    expect(starve('strong', 2).verdict).toMatchObject({ status: 'incomplete', bound: { name: 'maxStates', limit: 2 } });
  });

  it('replay checks a strong lasso for strong fairness: the weak lasso, relabelled strong, is rejected naming the untaken event', () => {
    const weak = starve('weak');
    const trace = { ...weak.trace!, options: { ...weak.trace!.options, fairness: 'strong' } };
    const rep = replayTrace(instantiate(spinGap, {}, 'base'), spinGap, trace as typeof weak.trace & {}, {});
    expect(rep.status).toBe('not-reproduced');
    expect(rep.reason).toMatch(/the loop is not strongly fair: r\.go of reader is enabled in a state of the loop but never taken in it/);
    expect(replay(spinGap, weak)).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/weakly fair/) });
  });

  it('a livelock reported under strong fairness replays as strongly fair, and says so', () => {
    const r = checkModel({ model: retryLoop, variant: 'backoff', check: { livelock: true, deadlock: false, fairness: 'strong' } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'livelock' });
    expect(r.verdict.message).toMatch(/under strong fairness \(every thread moves or is blocked somewhere in the loop, and takes every event of its that is enabled somewhere in it\)/);
    expect(r.trace!.options!.fairness).toBe('strong');
    expect(replay(retryLoop, r)).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/strongly fair/) });
  });
});

const run = runCli;

describe('CLI', () => {
  it('the liveness specs match; --fairness none overrides the spec and turns the spin spec into a livelock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-live-'));
    const ok = await run(['check', 'specs/liveness-backoff.json', 'specs/liveness-spin-weak.json', 'specs/liveness-spin-unfair.json', 'specs/liveness-mutex-barging.json', 'specs/liveness-mutex-handoff.json', '--json', '--out', dir]);
    expect(ok.code).toBe(0);
    const r = await run(['check', 'specs/liveness-spin-weak.json', '--fairness', 'none', '--json', '--out', dir]);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out).results[0];
    expect(res.verdict).toMatchObject({ status: 'violation', kind: 'livelock' });
    const file = join(dir, 'liveness-spin-weak.json');
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    expect(trace.loopStart).toBe(2);
    expect(trace.options.fairness).toBe('none');
    const rep = await run(['replay', file]);
    expect(rep.code).toBe(0);
    expect(rep.out).toMatch(/^REPRODUCED livelock/);
    const show = await run(['show', file]);
    expect(show.out).toMatch(/repeat forever/);
  });

  it('check.fairness strong in a spec and --fairness strong: the afs reader without the even-read assumption returns', async () => {
    const spec = await run(['check', 'specs/afs-seqlock-starvation-fixed-strong.json', '--json', '--no-save']);
    expect(spec.code).toBe(0);
    expect(JSON.parse(spec.out).results[0].verdict.status).toBe('pass');
    // the weak spec of the same model expects the starvation: --fairness strong turns it into a pass (a mismatch)
    const flag = await run(['check', 'specs/afs-seqlock-starvation-fixed-no-even-read.json', '--fairness', 'strong', '--json', '--no-save']);
    expect(flag.code).toBe(1);
    expect(JSON.parse(flag.out).results[0].verdict.status).toBe('pass');
  });

  it('rejects a bad --fairness and a bad starvation spec', async () => {
    const bad = await run(['check', 'specs/liveness-spin-weak.json', '--fairness', 'fair']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/option --fairness "fair": expected one of none, weak, strong/);
    const dir = mkdtempSync(join(tmpdir(), 'interleave-live-'));
    const badFair = join(dir, 'bad-fair.json');
    writeFileSync(badFair, JSON.stringify({ model: 'mutex-fairness', check: { starvation: { thread: 'task1', goal: 'critical' }, fairness: 'strongest' }, expect: { status: 'pass' } }));
    const f = await run(['check', badFair, '--no-save']);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/\$\.check\.fairness: must be one of "none", "weak", "strong"/);
    const spec = join(dir, 'bad.json');
    writeFileSync(spec, JSON.stringify({ model: 'mutex-fairness', check: { starvation: { thread: 'task1' } }, expect: { status: 'pass' } }));
    const r = await run(['check', spec, '--no-save']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing field 'goal'/);
  });
});
