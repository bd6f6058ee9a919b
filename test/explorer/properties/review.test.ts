// Adversarial review of the properties (deadlock, assertions, invariants, livelock, starvation): random small
// models checked by interleave and by an independent brute-force checker built on XState's own transition()
// (explicit graph, reachability closure for the cycles, the README's fairness semantics), plus pinned cases.
import { assign, createMachine, initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, ModelError, ModelRuntimeError } from '../../../explorer/errors.ts';
import { checkModel, instantiate, type CheckResult, type PropertySelection } from '../../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import { complete, completion, kernelWaits, mutex, mutex_lock, mutex_unlock, wait_for_completion } from '../../../machines/kernel/index.ts';
import { mutexHeld } from '../../../machines/kernel/state.ts';
import { straight, tinyModel } from '../../machines/kernel/harness.ts';
import { runCli } from '../../helpers/cli.ts';
import { rng } from '../../helpers/rng.ts';

// ---------------------------------------------------------------------------------------------------------
// Random models as data.

type Var = 'x' | 'y';
interface GTrans {
  event: string;
  target: string; // path relative to the thread, e.g. 's1' or 'c.a'
  guard?: { v: Var; op: 'eq' | 'ne'; k: number };
  action?: { v: Var; kind: 'inc' | 'set'; k: number };
  progress: boolean;
}
interface GState {
  name: string;
  final: boolean;
  end: boolean;
  progress: boolean;
  assert?: string;
  on: GTrans[];
  children?: GState[];
}
interface GThread {
  name: string;
  states: GState[];
}
interface GModel {
  threads: GThread[];
  init: { x: number; y: number };
  invariant: { v: Var; k: number; loc?: { thread: string; state: string } };
  assertions: Record<string, { v: Var; ne: number }>;
  /** A joint event 'sync' (the root's meta.joint) that several threads handle. */
  joint: boolean;
}

const MOD = 3;
/** REVIEW_FUZZ_BIG=1: more states and transitions per thread (for long runs by hand). */
const BIG = !!process.env.REVIEW_FUZZ_BIG;

function leafPaths(states: GState[], prefix = ''): string[] {
  return states.flatMap((s) => (s.children ? leafPaths(s.children, `${prefix}${s.name}.`) : [`${prefix}${s.name}`]));
}

export function genModel(seed: number, joint = false): GModel {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const T = 1 + Math.floor(r() * 3);
  const threads: GThread[] = [];
  const assertionNames = ['a0', 'a1'];
  for (let t = 0; t < T; t++) {
    const name = `t${t}`;
    const S = 2 + Math.floor(r() * (BIG ? 4 : 3));
    const states: GState[] = [];
    for (let i = 0; i < S; i++) {
      const st: GState = { name: `s${i}`, final: false, end: r() < 0.15, progress: r() < 0.2, on: [] };
      if (r() < 0.2) st.assert = pick(assertionNames);
      if (i > 0 && r() < 0.25) {
        st.children = [
          { name: 'a', final: false, end: r() < 0.15, progress: r() < 0.15, on: [], ...(r() < 0.15 ? { assert: pick(assertionNames) } : {}) },
          { name: 'b', final: false, end: r() < 0.15, progress: r() < 0.15, on: [], ...(r() < 0.15 ? { assert: pick(assertionNames) } : {}) },
        ];
      }
      states.push(st);
    }
    if (r() < 0.5) {
      const last = states[S - 1];
      if (!last.children) {
        last.final = true;
        last.end = false;
        last.progress = false;
      }
    }
    const leaves = leafPaths(states);
    // 'sync' is a joint event (the root's meta.joint): every thread whose transition for it is enabled steps.
    const events = ['a', 'b', 'c'].map((e) => `${name}.${e}`).concat(joint && T > 1 ? ['sync'] : []);
    const addTrans = (st: GState) => {
      const n = Math.floor(r() * (BIG ? 5 : 3));
      for (let k = 0; k < n; k++) {
        const tr: GTrans = { event: pick(events), target: pick(leaves.concat(states.filter((s) => s.children).map((s) => s.name))), progress: r() < 0.15 };
        if (r() < 0.6) tr.guard = { v: pick<Var>(['x', 'y']), op: pick(['eq', 'ne'] as const), k: Math.floor(r() * MOD) };
        if (r() < 0.6) tr.action = { v: pick<Var>(['x', 'y']), kind: pick(['inc', 'set'] as const), k: Math.floor(r() * MOD) };
        st.on.push(tr);
      }
    };
    for (const st of states) {
      if (st.final) continue;
      addTrans(st);
      for (const c of st.children ?? []) addTrans(c);
    }
    threads.push({ name, states });
  }
  const t0 = threads[0];
  return {
    threads,
    init: { x: Math.floor(r() * MOD), y: Math.floor(r() * MOD) },
    invariant: { v: pick<Var>(['x', 'y']), k: Math.floor(r() * MOD), ...(r() < 0.5 ? { loc: { thread: t0.name, state: pick(leafPaths(t0.states)) } } : {}) },
    assertions: { a0: { v: 'x', ne: Math.floor(r() * MOD) }, a1: { v: 'y', ne: Math.floor(r() * MOD) } },
    joint,
  };
}

function stateConfig(st: GState): any {
  const cfg: any = {};
  if (st.final) cfg.type = 'final';
  const meta: any = {};
  if (st.end) meta.end = true;
  if (st.progress) meta.progress = true;
  if (st.assert) meta.assert = st.assert;
  if (Object.keys(meta).length) cfg.meta = meta;
  if (st.children) {
    cfg.initial = st.children[0].name;
    cfg.states = Object.fromEntries(st.children.map((c) => [c.name, stateConfig(c)]));
  }
  if (st.on.length) {
    const on: Record<string, any[]> = {};
    for (const tr of st.on) {
      const def: any = { target: `#${tr.target}` };
      if (tr.progress) def.meta = { progress: true };
      const g = tr.guard;
      if (g) def.guard = g.op === 'eq' ? ({ context }: any) => context[g.v] === g.k : ({ context }: any) => context[g.v] !== g.k;
      const a = tr.action;
      if (a) def.actions = assign(a.kind === 'inc' ? { [a.v]: ({ context }: any) => (context[a.v] + 1) % MOD } : { [a.v]: () => a.k });
      (on[tr.event] ??= []).push(def);
    }
    cfg.on = on;
  }
  return cfg;
}

const idOf = (thread: string, path: string) => `${thread}-${path.replace(/\./g, '-')}`;

function withIds(thread: string, states: GState[], cfgs: Record<string, any>, prefix = '') {
  for (const st of states) {
    cfgs[st.name].id = idOf(thread, `${prefix}${st.name}`);
    if (st.children) withIds(thread, st.children, cfgs[st.name].states, `${prefix}${st.name}.`);
  }
}

export function buildMachine(m: GModel): AnyStateMachine {
  const states: Record<string, any> = {};
  for (const t of m.threads) {
    const cfgs = Object.fromEntries(t.states.map((s) => [s.name, stateConfig(s)]));
    withIds(t.name, t.states, cfgs);
    // Targets are written as ids '#tN.path'.
    const fix = (o: any) => {
      for (const c of Object.values<any>(o)) {
        for (const defs of Object.values<any>(c.on ?? {})) for (const d of defs) d.target = `#${idOf(t.name, d.target.slice(1))}`;
        if (c.states) fix(c.states);
      }
    };
    fix(cfgs);
    states[t.name] = { initial: t.states[0].name, states: cfgs };
  }
  return createMachine({ type: 'parallel', context: { ...m.init }, states, ...(m.joint ? { meta: { joint: ['sync'] } } : {}) } as any);
}

function invariantFn(m: GModel) {
  const inv = m.invariant;
  return (ctx: any, threads: Record<string, string>) => {
    if (inv.loc && threads[inv.loc.thread] !== inv.loc.state) return true;
    return ctx[inv.v] !== inv.k;
  };
}

export function toModel(m: GModel): ModelDefinition {
  const assertions = Object.fromEntries(Object.entries(m.assertions).map(([n, a]) => [n, (ctx: any) => ctx[a.v] !== a.ne]));
  return {
    name: 'fuzz',
    description: 'random',
    params: {},
    variants: { v: { description: 'v' } },
    defaultVariant: 'v',
    create: () => buildMachine(m),
    invariants: { inv: invariantFn(m) },
    assertions,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The brute-force checker: XState's own transition(), an explicit graph.

interface BNode {
  snap: AnyMachineSnapshot;
  locs: Record<string, string>;
  depth: number;
  edges: Array<{ event: string; threads: string[]; to: number; progress: boolean }>;
  enabled: Set<string>;
  progress: boolean;
  ends: boolean; // every thread at a final state or meta.end
  asserts: Array<{ thread: string; name: string }>;
}

function locsOf(machine: AnyStateMachine, snap: AnyMachineSnapshot): Record<string, string> {
  const out: Record<string, string> = {};
  const value = snap.value as Record<string, any>;
  for (const t of Object.keys(machine.root.states)) {
    let v = value[t];
    const parts: string[] = [];
    while (v !== null && typeof v === 'object') {
      const k = Object.keys(v)[0];
      parts.push(k);
      v = v[k];
    }
    parts.push(String(v));
    out[t] = parts.join('.');
  }
  return out;
}

const keyOf = (snap: AnyMachineSnapshot) => JSON.stringify([snap.value, snap.context.x, snap.context.y]);

export function bruteGraph(m: GModel): BNode[] {
  const machine = buildMachine(m);
  const events = m.threads.flatMap((t) => ['a', 'b', 'c'].map((e) => `${t.name}.${e}`)).concat(m.joint ? ['sync'] : []);
  const nodes: BNode[] = [];
  const index = new Map<string, number>();
  const nodeOf = (snap: AnyMachineSnapshot, depth: number): number => {
    const k = keyOf(snap);
    let i = index.get(k);
    if (i !== undefined) return i;
    i = nodes.length;
    index.set(k, i);
    const locs = locsOf(machine, snap);
    // Per thread: the chain of state nodes of its leaf (leaf .. region), with their meta.
    let progress = false;
    let ends = true;
    const asserts: BNode['asserts'] = [];
    for (const t of Object.keys(locs)) {
      const chain = snap._nodes.filter((n: any) => n.path[0] === t && n.path.length > 1);
      const leaf = chain.reduce((a: any, b: any) => (b.path.length > a.path.length ? b : a));
      let end = leaf.type === 'final';
      for (const n of chain) {
        if (n.meta?.progress) progress = true;
        if (n.meta?.end) end = true;
        if (n.meta?.assert) asserts.push({ thread: t, name: n.meta.assert });
      }
      if (!end) ends = false;
    }
    nodes.push({ snap, locs, depth, edges: [], enabled: new Set(), progress, ends, asserts });
    return i;
  };
  nodeOf(initialTransition(machine)[0] as AnyMachineSnapshot, 0);
  for (let i = 0; i < nodes.length; i++) {
    const nd = nodes[i];
    if (nd.snap.status !== 'active') continue;
    for (const ev of events) {
      const td = machine.getTransitionData(nd.snap as any, { type: ev } as any);
      if (!td || td.length === 0) continue;
      const threads = [...new Set(td.map((t: any) => t.source.path[0] as string))];
      for (const t of threads) nd.enabled.add(t);
      const [next] = transition(machine, nd.snap as any, { type: ev } as any);
      const to = nodeOf(next as AnyMachineSnapshot, nd.depth + 1);
      nd.edges.push({ event: ev, threads, to, progress: td.some((t: any) => !!t.meta?.progress) });
    }
  }
  return nodes;
}

/** Is there a reachable cycle over `ok` edges that is fair (weak: every thread moves in it or is disabled somewhere in it)? */
export function bruteFairCycle(nodes: BNode[], threads: string[], ok: (from: number, e: BNode['edges'][number]) => boolean, fairness: 'weak' | 'none'): boolean {
  const n = nodes.length;
  const reach: Uint8Array[] = nodes.map(() => new Uint8Array(n));
  for (let s = 0; s < n; s++) {
    const stack = [s];
    while (stack.length) {
      const u = stack.pop()!;
      for (const e of nodes[u].edges) {
        if (!ok(u, e) || reach[s][e.to]) continue;
        reach[s][e.to] = 1;
        stack.push(e.to);
      }
    }
  }
  for (let s = 0; s < n; s++) {
    if (!reach[s][s]) continue; // s lies on no cycle
    const scc = [...Array(n).keys()].filter((v) => reach[s][v] && reach[v][s]);
    if (fairness === 'none') return true;
    const inScc = new Set(scc);
    const covered = threads.every(
      (t) =>
        scc.some((v) => !nodes[v].enabled.has(t)) ||
        scc.some((v) => nodes[v].edges.some((e) => e.threads.includes(t) && inScc.has(e.to) && ok(v, e))),
    );
    if (covered) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Comparison.

const SAFETY_OFF: PropertySelection = { deadlock: false, assertions: false, invariants: false };

function run(model: ModelDefinition, check: PropertySelection, stopAtFirst = false): CheckResult {
  return checkModel({ model, check, stopAtFirst, maxStates: 100_000 });
}

/** Replays a lasso on XState and checks it is a real cycle with the property (returns a problem, or null). */
function lassoProblem(m: GModel, nodes: BNode[], r: CheckResult, inLoop: (i: number) => string | null, edgeOk: (from: number, e: BNode['edges'][number]) => boolean, fairness: 'weak' | 'none'): string | null {
  const t = r.trace!;
  const loopStart = t.loopStart!;
  let cur = 0;
  const visited: number[] = [0];
  const moved = new Set<string>();
  for (const s of t.steps) {
    const e = nodes[cur].edges.find((x) => x.event === s.event);
    if (!e) return `step ${s.step} ${s.event} not enabled`;
    if (s.step >= loopStart) {
      if (!edgeOk(cur, e)) return `step ${s.step} is not allowed in the loop`;
      for (const t of e.threads) moved.add(t);
    }
    cur = e.to;
    visited.push(cur);
  }
  if (visited[loopStart - 1] !== cur) return 'the loop does not close';
  const loopStates = visited.slice(loopStart - 1);
  for (const v of loopStates) {
    const p = inLoop(v);
    if (p) return p;
  }
  if (fairness === 'weak') {
    for (const th of m.threads.map((x) => x.name)) {
      if (!moved.has(th) && loopStates.every((v) => nodes[v].enabled.has(th))) return `unfair: ${th}`;
    }
  }
  return null;
}

/** Problems found comparing interleave with the brute force on the model of `seed`; `seen` collects the brute force's verdicts (`livelock-weak:violation`). */
export function compare(seed: number, seen = new Set<string>(), joint = false): string[] {
  const g = genModel(seed, joint);
  const model = toModel(g);
  const nodes = bruteGraph(g);
  const problems: string[] = [];
  const threads = g.threads.map((t) => t.name);
  const say = (what: string) => problems.push(`seed ${seed}${joint ? ' (joint)' : ''}: ${what}`);
  const transitions = nodes.reduce((a, n) => a + n.edges.length, 0);

  // Deadlock.
  {
    const dead = nodes.filter((n) => n.edges.length === 0 && !n.ends);
    const r = run(model, { deadlock: true, assertions: false, invariants: false });
    const want = dead.length ? 'violation' : 'pass';
    seen.add(`deadlock:${want}`);
    if (r.verdict.status !== want) say(`deadlock: interleave ${r.verdict.status}, brute ${want}`);
    if (r.stats.states !== nodes.length) say(`deadlock run: states ${r.stats.states}, brute ${nodes.length}`);
    if (r.stats.transitions !== transitions) say(`deadlock run: transitions ${r.stats.transitions}, brute ${transitions}`);
    const r1 = run(model, { deadlock: true, assertions: false, invariants: false }, true);
    if (dead.length && r1.trace!.steps.length !== Math.min(...dead.map((d) => d.depth))) say(`deadlock depth ${r1.trace!.steps.length}, brute ${Math.min(...dead.map((d) => d.depth))}`);
  }
  // Assertions.
  {
    const bad = nodes.filter((n) => n.asserts.some((a) => !model.assertions![a.name](n.snap.context, n.locs)));
    const r = run(model, { deadlock: false, assertions: true, invariants: false }, true);
    const want = bad.length ? 'violation' : 'pass';
    seen.add(`assertion:${want}`);
    if (r.verdict.status !== want) say(`assertion: interleave ${r.verdict.status}, brute ${want}`);
    if (bad.length && r.trace!.steps.length !== Math.min(...bad.map((d) => d.depth))) say(`assertion depth ${r.trace!.steps.length}, brute ${Math.min(...bad.map((d) => d.depth))}`);
  }
  // Invariants.
  {
    const inv = invariantFn(g);
    const bad = nodes.filter((n) => !inv(n.snap.context, n.locs));
    const r = run(model, { deadlock: false, assertions: false, invariants: true }, true);
    const want = bad.length ? 'violation' : 'pass';
    seen.add(`invariant:${want}`);
    if (r.verdict.status !== want) say(`invariant: interleave ${r.verdict.status}, brute ${want}`);
    if (bad.length && r.trace!.steps.length !== Math.min(...bad.map((d) => d.depth))) say(`invariant depth ${r.trace!.steps.length}, brute ${Math.min(...bad.map((d) => d.depth))}`);
  }
  // Livelock and starvation, both fairness settings.
  for (const fairness of ['weak', 'none'] as const) {
    const ok = (_from: number, e: BNode['edges'][number]) => !e.progress && !nodes[e.to].progress && !nodes[_from].progress;
    const want = bruteFairCycle(nodes, threads, ok, fairness) ? 'violation' : 'pass';
    seen.add(`livelock-${fairness}:${want}`);
    const r = run(model, { ...SAFETY_OFF, livelock: true, fairness });
    if (r.verdict.status !== want) say(`livelock ${fairness}: interleave ${r.verdict.status}, brute ${want}`);
    if (r.stats.states !== nodes.length) say(`livelock ${fairness}: states ${r.stats.states}, brute ${nodes.length}`);
    if (r.verdict.status === 'violation') {
      const p = lassoProblem(g, nodes, r, (v) => (nodes[v].progress ? 'progress state in loop' : null), ok, fairness);
      if (p) say(`livelock ${fairness} lasso: ${p}`);
    }
    // Starvation of t0, goal: one of its states (a leaf or a compound state).
    const t0 = g.threads[0];
    const goals = leafPaths(t0.states).concat(t0.states.filter((s) => s.children).map((s) => s.name));
    const goal = goals[seed % goals.length];
    const finals = new Set(t0.states.filter((s) => s.final).map((s) => s.name));
    const excluded = (v: number) => {
      const l = nodes[v].locs[t0.name];
      return l === goal || l.startsWith(goal + '.') || finals.has(l);
    };
    const sok = (from: number, e: BNode['edges'][number]) => !excluded(from) && !excluded(e.to);
    const swant = bruteFairCycle(nodes, threads, sok, fairness) ? 'violation' : 'pass';
    seen.add(`starvation-${fairness}:${swant}`);
    const s = run(model, { ...SAFETY_OFF, starvation: { thread: t0.name, goal }, fairness });
    if (s.verdict.status !== swant) say(`starvation ${fairness} (goal ${goal}): interleave ${s.verdict.status}, brute ${swant}`);
    if (s.verdict.status === 'violation') {
      const p = lassoProblem(g, nodes, s, (v) => (excluded(v) ? 'goal in loop' : null), sok, fairness);
      if (p) say(`starvation ${fairness} lasso: ${p}`);
    }
  }
  return problems;
}

const SEEDS = Number(process.env.REVIEW_FUZZ_SEEDS ?? 10);
const JOINT_SEEDS = Number(process.env.REVIEW_FUZZ_JOINT_SEEDS ?? 6);
const FIRST = Number(process.env.REVIEW_FUZZ_FIRST ?? 1);

describe('random small models: interleave against a brute-force checker on XState transition()', () => {
  it(`agrees on ${SEEDS} + ${JOINT_SEEDS} (with a joint event) models (deadlock, assertions, invariants, livelock and starvation under both fairness settings)`, () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) problems.push(...compare(seed, seen));
    for (let seed = FIRST; seed < FIRST + JOINT_SEEDS; seed++) problems.push(...compare(seed, seen, true));
    expect(problems).toEqual([]);
    // Not vacuous: both verdicts of every property occur among these models.
    for (const p of ['deadlock', 'assertion', 'invariant', 'livelock-weak', 'livelock-none', 'starvation-weak', 'starvation-none']) {
      expect(seen).toContain(`${p}:violation`);
      expect(seen).toContain(`${p}:pass`);
    }
  });
});

/** A model of one variant around `create`. */
const oneVariant = (create: () => AnyStateMachine, extra: Partial<ModelDefinition> = {}): ModelDefinition =>
  defineModel({ name: 'review', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, ...extra });
const kernelModel = (create: () => AnyStateMachine): ModelDefinition => oneVariant(create, { waits: kernelWaits });

describe('lock order', () => {
  it('a lock taken by an initial state\'s entry action counts as held from the start: an ABBA inversion through it', () => {
    // t0's initial state takes inode lock a0 on entry (class A); t0 then takes B. t1, only after t0 is done, takes B
    // then inode lock a1 (class A too). lockdep sees A -> B and B -> A. No transition acquires a0, so the recorder
    // never knew it was held and recorded no A -> B: the inversion passed.
    const t0 = straight('t0', [mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0', 'B'), mutex_unlock('a0', 't0', 'a0'), complete('done')]);
    t0.states.s0.entry = mutex_lock('a0', 't0', 'a0').actions;
    const m = oneVariant(
      () =>
        tinyModel({ a0: mutex(), a1: mutex(), b: mutex(), done: completion() }, {
          t0,
          t1: straight('t1', [wait_for_completion('done', 't1'), mutex_lock('b', 't1', 'B'), mutex_lock('a1', 't1', 'a1'), mutex_unlock('a1', 't1', 'a1'), mutex_unlock('b', 't1', 'B')]),
        }),
      { waits: kernelWaits, lockClass: ({ name }) => (name.startsWith('a') ? 'A' : name) },
    );
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'A -> B -> A' });
    expect(r.trace!.lockOrder!.edges.map((x) => `${x.thread}: ${x.from} -> ${x.to}`)).toEqual(['t0: A -> B', 't1: B -> A']);
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it('a lock held in the initial state (mutexHeld) counts as held: its holder taking another lock adds the edge', () => {
    // t0 starts holding A (mutex_lock() returned before the model starts) and takes B; t1, only after t0 is done,
    // takes B then A. lockdep sees A -> B and B -> A; no interleaving deadlocks.
    const m = kernelModel(() =>
      tinyModel({ a: mutexHeld('t0'), b: mutex(), done: completion() }, {
        t0: straight('t0', [mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0', 'B'), mutex_unlock('a', 't0', 'A'), complete('done')]),
        t1: straight('t1', [wait_for_completion('done', 't1'), mutex_lock('b', 't1', 'B'), mutex_lock('a', 't1', 'A'), mutex_unlock('a', 't1', 'A'), mutex_unlock('b', 't1', 'B')]),
      }),
    );
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'A -> B -> A' });
    expect(r.trace!.lockOrder!.edges.map((x) => `${x.thread}: ${x.from} -> ${x.to}`)).toEqual(['t0: A -> B', 't1: B -> A']);
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it("a model's lockClass that throws or names no class is a model error naming the lock, not an internal error", () => {
    const create = () =>
      tinyModel({ a: mutex(), b: mutex() }, {
        t0: straight('t0', [mutex_lock('a', 't0', 'A'), mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0', 'B'), mutex_unlock('a', 't0', 'A')]),
      });
    const throwing = { ...kernelModel(create), lockClass: (l: { name: string }) => (l.name === 'B' ? (null as any).boom : l.name) };
    expect(() => checkModel({ model: throwing, check: { lockOrder: true } })).toThrow(ModelRuntimeError);
    expect(() => checkModel({ model: throwing, check: { lockOrder: true } })).toThrow(/lockClass threw for lock B \(context path b\): .*; fix the model's lockClass/);
    const nameless = { ...kernelModel(create), lockClass: (l: { name: string }) => (l.name === 'B' ? undefined : l.name) as string };
    expect(() => checkModel({ model: nameless, check: { lockOrder: true } })).toThrow(ModelError);
    expect(() => checkModel({ model: nameless, check: { lockOrder: true } })).toThrow(/lockClass returned undefined for lock B \(context path b\); .* a non-empty string/);
  });

  it('replay reproduces a lock-order trace only when its edges close the cycle (or the one edge is recursive)', () => {
    const m = kernelModel(() =>
      tinyModel({ a: mutex(), b: mutex(), done: completion() }, {
        t0: straight('t0', [mutex_lock('a', 't0', 'A'), mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0', 'B'), mutex_unlock('a', 't0', 'A'), complete('done')]),
        t1: straight('t1', [wait_for_completion('done', 't1'), mutex_lock('b', 't1', 'B'), mutex_lock('a', 't1', 'A'), mutex_unlock('a', 't1', 'A'), mutex_unlock('b', 't1', 'B')]),
      }),
    );
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'A -> B -> A' });
    const space = instantiate(m, r.params, r.variant);
    expect(replayTrace(space, m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    const edited = (f: (lo: NonNullable<CheckResult['trace']>['lockOrder'] & object) => void) => {
      const t = structuredClone(r.trace!);
      f(t.lockOrder!);
      return replayTrace(space, m, t, {});
    };
    // A -> B alone is no cycle; nor is A -> B twice; nor is A -> B a recursive acquisition.
    expect(edited((lo) => (lo.edges = lo.edges.slice(0, 1)))).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/do not close a cycle/) });
    expect(edited((lo) => (lo.edges = [lo.edges[0], lo.edges[0]]))).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/do not close a cycle/) });
    expect(
      edited((lo) => {
        lo.kind = 'recursive';
        lo.edges = lo.edges.slice(0, 1);
      }),
    ).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/not a recursive acquisition/) });
  });
});

describe('lasso traces', () => {
  it("replay refuses a lasso trace whose options.fairness or options.starvation it cannot read, naming the trace's field", () => {
    // t0 spins a <-> b; t1 could finish but is never scheduled in that loop: unfair.
    const m = oneVariant(() =>
      createMachine({
        type: 'parallel',
        states: {
          t0: { initial: 'a', states: { a: { on: { 't0.go': 'b' } }, b: { on: { 't0.back': 'a' } } } },
          t1: { initial: 'idle', states: { idle: { on: { 't1.go': 'done' } }, done: { type: 'final' } } },
        },
      }),
    );
    const r = checkModel({ model: m, check: { deadlock: false, livelock: true, fairness: 'none' } });
    expect(r.trace!.steps.map((x) => x.event)).not.toContain('t1.go');
    const space = instantiate(m, r.params, r.variant);
    expect(replayTrace(space, m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    expect(replayTrace(space, m, { ...r.trace!, options: { ...r.trace!.options, fairness: 'weak' } }, {})).toMatchObject({
      status: 'not-reproduced',
      reason: expect.stringMatching(/not weakly fair: t1 stays enabled in every state of the loop but never moves$/),
    });
    // A misspelt fairness is not 'none'.
    expect(() => replayTrace(space, m, { ...r.trace!, options: { ...r.trace!.options, fairness: 'wek' } }, {})).toThrow(InputError);
    expect(() => replayTrace(space, m, { ...r.trace!, options: { ...r.trace!.options, fairness: 'wek' } }, {})).toThrow(/\$\.options\.fairness: 'wek' is not one of none, weak/);
    const s = checkModel({ model: m, check: { deadlock: false, starvation: { thread: 't1', goal: 'done' }, fairness: 'none' } });
    expect(() => replayTrace(space, m, { ...s.trace!, options: { ...s.trace!.options, starvation: [{ thread: 't1', goal: 'gone' }] } }, {})).toThrow(/\$\.options\.starvation\[0\]\.goal: thread t1 has no state 'gone'/);
  });
});

describe('lasso traces on the command line', () => {
  it('replay of a trace with a misspelt options.fairness is bad input naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interleave-review-'));
    expect((await runCli(['check', 'specs/liveness-spin-unfair.json', '--out', dir, '--quiet'])).code).toBe(0);
    const file = join(dir, 'liveness-spin-unfair.json');
    const t = JSON.parse(readFileSync(file, 'utf8'));
    expect((await runCli(['replay', file])).code).toBe(0);
    writeFileSync(file, JSON.stringify({ ...t, options: { ...t.options, fairness: 'wek' } }));
    const r = await runCli(['replay', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: $.options.fairness: 'wek' is not one of none, weak`);
  });
});

describe('starvation traces', () => {
  it('two goals of one thread: the lasso of the second replays, though its loop passes the first goal', () => {
    // t0 loops a -> b -> a and never reaches c: no starvation with goal a, starvation with goal c.
    const m = oneVariant(() => createMachine({ type: 'parallel', states: { t0: { initial: 'a', states: { a: { on: { 't0.go': 'b' } }, b: { on: { 't0.back': 'a' } }, c: {} } } } }));
    const r = checkModel({ model: m, check: { starvation: [{ thread: 't0', goal: 'a' }, { thread: 't0', goal: 'c' }] } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 't0' });
    expect(r.verdict.message).toMatch(/never reaches c/);
    expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    // The loop still has to show one of the goals' starvation: with goal a alone it does not.
    const onlyA = { ...r.trace!, options: { ...r.trace!.options, starvation: [{ thread: 't0', goal: 'a' }] } };
    expect(replayTrace(instantiate(m, r.params, r.variant), m, onlyA, {})).toMatchObject({ status: 'not-reproduced', reason: expect.stringMatching(/t0 is at a .* its goal/) });
  });
});

describe('weak fairness with 32 threads or more', () => {
  /** `blocked` threads that can never move (from w to x), a thread looping a <-> b forever, and one that can finish once. */
  const many = (blocked: number) => {
    const states: Record<string, unknown> = {};
    for (let i = 0; i < blocked; i++) states[`b${i}`] = { initial: 'w', states: { w: { on: { [`b${i}.go`]: { guard: ({ context }: any) => context.never, target: 'x' } } }, x: {} } };
    states.loop = { initial: 'a', states: { a: { on: { 'loop.go': 'b' } }, b: { on: { 'loop.back': 'a' } } } };
    states.late = { initial: 'idle', states: { idle: { on: { 'late.go': 'done' } }, done: { type: 'final' } } };
    return oneVariant(() => createMachine({ type: 'parallel', context: { never: false }, states } as any));
  };

  it('finds the fair non-progress loop and the starvation whatever the thread count (bit 31 of a mask word included)', () => {
    for (const blocked of [29, 30, 63]) {
      const m = many(blocked);
      // Fair only once late has finished: the lasso's stem takes late.go.
      const r = checkModel({ model: m, check: { deadlock: false, livelock: true } });
      expect({ threads: blocked + 2, verdict: r.verdict.status }).toEqual({ threads: blocked + 2, verdict: 'violation' });
      expect(r.trace!.steps.slice(0, r.trace!.loopStart! - 1).map((s) => s.event)).toContain('late.go');
      expect(replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {})).toMatchObject({ status: 'reproduced' });
      // b0 never reaches x, in the same loop.
      const s = checkModel({ model: m, check: { deadlock: false, starvation: { thread: 'b0', goal: 'x' } } });
      expect({ threads: blocked + 2, verdict: s.verdict.status }).toEqual({ threads: blocked + 2, verdict: 'violation' });
      expect(s.trace!.steps.slice(0, s.trace!.loopStart! - 1).map((x) => x.event)).toContain('late.go');
      // With no fairness, the loop alone (late never scheduled) is a livelock already.
      const none = checkModel({ model: m, check: { deadlock: false, livelock: true, fairness: 'none' } });
      expect(none.trace!.steps.map((x) => x.event)).not.toContain('late.go');
    }
  });
});

describe('deadlock reports', () => {
  // t1 takes r for good (busy) and stops at y, which is no valid end; t0 then waits for r forever.
  const waitsModel = (describer: (ctx: any) => any) =>
    oneVariant(
      () =>
        createMachine({
          type: 'parallel',
          context: { busy: false },
          states: {
            t0: { initial: 'a', states: { a: { on: { 't0.go': { guard: 'free', target: 'b' } } }, b: { type: 'final' } } },
            t1: { initial: 'x', states: { x: { on: { 't1.take': { actions: assign({ busy: true }), target: 'y' } } }, y: {} } },
          },
        }).provide({ guards: { free: ({ context }: any) => !context.busy } } as any),
      { waits: { free: describer } },
    );

  it('name the holder from the wait describer', () => {
    const m = waitsModel((ctx) => (ctx.busy ? { resource: 'r', kind: 'mutex', holders: ['t1'] } : null));
    const r = checkModel({ model: m });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.trace!.deadlock!.blocked).toEqual([
      { thread: 't0', state: 'a', waits: [{ resource: 'r', kind: 'mutex', holders: ['t1'] }] },
      { thread: 't1', state: 'y', waits: [] },
    ]);
    // A describer that returns undefined (falls off its end) describes no wait, as null does.
    const quiet = checkModel({ model: waitsModel(() => undefined) });
    expect(quiet.trace!.deadlock!.blocked[0]).toEqual({ thread: 't0', state: 'a', waits: [] });
  });

  it('a wait describer returning no holder list, or throwing, is a model error naming it, also in replay', () => {
    const good = waitsModel((ctx) => (ctx.busy ? { resource: 'r', kind: 'mutex', holders: ['t1'] } : null));
    const r = checkModel({ model: good });
    for (const [describer, error, text] of [
      [(ctx: any) => (ctx.busy ? { resource: 'r', kind: 'mutex' } : null), ModelError, /waits\.free returned .*holders.*; fix the describer/],
      [(ctx: any) => (ctx.busy ? { resource: 'r', kind: 'mutex', holders: [1] } : null), ModelError, /waits\.free returned .*holders/],
      [(ctx: any) => (ctx.busy ? { kind: 'mutex', holders: [] } : null), ModelError, /waits\.free returned .*resource/],
      [(ctx: any) => (ctx.busy ? { resource: 'r', kind: 'mutex', holders: ['t1'], holdVerb: 'Taken by' } : null), ModelError, /waits\.free returned .*holdVerb is not a participle/],
      [(ctx: any) => (ctx.busy ? (null as any).x : null), ModelRuntimeError, /waits\.free threw .*; fix the describer/],
    ] as const) {
      const bad = waitsModel(describer);
      expect(() => checkModel({ model: bad })).toThrow(error);
      expect(() => checkModel({ model: bad })).toThrow(text);
      // Replay of a step the describer explains (t0.go after t1.take is not enabled).
      const t = structuredClone(r.trace!);
      t.steps.push({ ...t.steps[0], step: 2, event: 't0.go', threads: ['t0'] });
      expect(() => replayTrace(instantiate(bad, r.params, r.variant), bad, t, {})).toThrow(error);
      expect(() => replayTrace(instantiate(bad, r.params, r.variant), bad, t, {})).toThrow(text);
    }
  });
});
