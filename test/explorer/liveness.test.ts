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
import { EDGE_PROGRESS, fairCycle, findFairScc, type EdgeFilter, type Fairness, type StateGraph } from '../../explorer/scc.ts';
import mutexFairness from '../../machines/mutex-fairness/index.ts';
import retryLoop from '../../machines/retry-loop/index.ts';
import sharedEvent from '../fixtures/liveness/shared-event.ts';
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
  const g: StateGraph = {
    n,
    threadCount: T,
    maskWords: 1,
    offsets,
    targets: Int32Array.from(targets),
    edgeEvents: Uint16Array.from(events),
    edgeThreads: Uint32Array.from(movers),
    eventOwner: new Int32Array(0),
    enabled,
    stateFlags: new Uint8Array(n),
  };
  return { g, progress: new Uint8Array(0) };
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

  it('rejects a bad --fairness and a bad starvation spec', async () => {
    const bad = await run(['check', 'specs/liveness-spin-weak.json', '--fairness', 'strong']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/option --fairness "strong": expected one of none, weak/);
    const dir = mkdtempSync(join(tmpdir(), 'interleave-live-'));
    const spec = join(dir, 'bad.json');
    writeFileSync(spec, JSON.stringify({ model: 'mutex-fairness', check: { starvation: { thread: 'task1' } }, expect: { status: 'pass' } }));
    const r = await run(['check', spec, '--no-save']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing field 'goal'/);
  });
});
