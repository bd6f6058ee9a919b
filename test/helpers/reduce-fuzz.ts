// Random small models for the reduction differential fuzz: a group of identical threads (the same random program,
// so symmetry applies) plus one other thread (sometimes spinning forever at its end), over shared counters and a mutex from machines/kernel, with every
// guard and action footprint-declared and properties that declare what they read. Deterministic per seed.
import { assign, setup } from 'xstate';
import { checkModel, type CheckResult } from '../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../explorer/model.ts';
import type { ReductionName } from '../../explorer/reduce/index.ts';
import { kernelActions, kernelGuards, mutex, mutex_lock, mutex_unlock } from '../../machines/kernel/index.ts';
import { rng } from './rng.ts';


type Op =
  | { kind: 'inc'; v: number }
  | { kind: 'wait'; v: number; value: number }
  | { kind: 'lock' }
  | { kind: 'unlock' }
  | { kind: 'skip' };

const VARS = 2;
const MOD = 3;

function program(r: () => number, len: number): Op[] {
  const ops: Op[] = [];
  let locked = false;
  for (let i = 0; i < len; i++) {
    const x = r();
    if (locked && (x < 0.3 || i === len - 1)) {
      ops.push({ kind: 'unlock' });
      locked = false;
    } else if (!locked && x < 0.25) {
      ops.push({ kind: 'lock' });
      locked = true;
    } else if (x < 0.55) ops.push({ kind: 'inc', v: Math.floor(r() * VARS) });
    else if (x < 0.92) ops.push({ kind: 'wait', v: Math.floor(r() * VARS), value: Math.floor(r() * MOD) });
    else ops.push({ kind: 'skip' });
  }
  if (locked) ops.push({ kind: 'unlock' });
  return ops;
}

/** A thread running `ops` once, or forever (`loop`), or once and then spinning on two steps that touch nothing (`spin`). */
function thread(name: string, ops: Op[], loop: boolean, spin = false): any {
  const states: Record<string, any> = {};
  ops.forEach((op, i) => {
    const next = i + 1 < ops.length ? `s${i + 1}` : loop ? 's0' : spin ? 'spin0' : 'done';
    const ev = `${name}.step${i}`;
    let t: any;
    switch (op.kind) {
      case 'inc':
        t = { actions: [{ type: 'inc', params: { v: `x${op.v}` } }], target: next };
        break;
      case 'wait':
        t = { guard: { type: 'eq', params: { v: `x${op.v}`, value: op.value } }, target: next };
        break;
      case 'lock':
        t = { ...mutex_lock('m', name), target: next };
        break;
      case 'unlock':
        t = { ...mutex_unlock('m', name), target: next };
        break;
      default:
        t = { target: next };
    }
    states[`s${i}`] = { on: { [ev]: t } };
  });
  states.done = { type: 'final' };
  if (spin) {
    // independent and invisible steps around a cycle: only partial order's cycle proviso keeps the others' steps
    states.spin0 = { on: { [`${name}.spin0`]: 'spin1' } };
    states.spin1 = { on: { [`${name}.spin1`]: 'spin0' } };
  }
  return { initial: 's0', states };
}

/** A random model: `k` identical threads g0.. and one thread `other`; params fix nothing (all from the seed). */
export function randomModel(seed: number): ModelDefinition {
  const r = rng(seed);
  const k = 2 + Math.floor(r() * 2);
  const shared = program(r, 2 + Math.floor(r() * 3));
  const own = program(r, 1 + Math.floor(r() * 3));
  const loopGroup = r() < 0.3;
  const loopOther = r() < 0.3;
  const badVar = Math.floor(r() * VARS);
  const badValue = 1 + Math.floor(r() * (MOD - 1));
  const names = Array.from({ length: k }, (_, i) => `g${i}`);
  const spinOther = r() < 0.3;
  const spinGroup = r() < 0.3;
  return defineModel({
    name: `fuzz-${seed}`,
    description: 'random model for the reduction fuzz',
    params: {},
    variants: { main: { description: 'the only one' } },
    defaultVariant: 'main',
    symmetry: () => [{ threads: names }],
    footprints: { inc: { writes: ['{v}'] }, eq: { reads: ['{v}'] } },
    create: () => {
      const states: Record<string, any> = {};
      for (const n of names) states[n] = thread(n, shared, loopGroup, spinGroup);
      states.other = thread('other', own, loopOther, spinOther);
      return setup({
        guards: { ...kernelGuards, eq: ({ context }: any, p: { v: string; value: number }) => context[p.v] === p.value } as any,
        actions: { ...kernelActions, inc: assign(({ context }: any, p: { v: string }) => ({ [p.v]: (context[p.v] + 1) % MOD })) } as any,
      }).createMachine({
        type: 'parallel',
        context: { m: mutex(), ...Object.fromEntries(Array.from({ length: VARS }, (_, i) => [`x${i}`, 0])) },
        states,
      });
    },
    invariants: {
      // a value the counters must not reach (read: one counter)
      notBad: (ctx) => ctx[`x${badVar}`] !== badValue,
      // not every group thread at its second step at once (reads locations)
      notAllSecond: (_ctx, threads) => !names.every((n) => threads[n] === 's1'),
    },
    propertyFootprints: {
      notBad: { context: [`x${badVar}`], locations: false },
      notAllSecond: { context: [], locations: names },
    },
  });
}

/** One property at a time, reduced and unreduced: the statuses must agree (the fuzz's oracle). */
export function compareReduced(model: ModelDefinition, reduce: ReductionName[]): Array<{ property: string; plain: CheckResult; reduced: CheckResult }> {
  const selections: Array<[string, any]> = [
    ['deadlock', { deadlock: true, assertions: false, invariants: false }],
    ...Object.keys(model.invariants ?? {}).map((n) => [n, { deadlock: false, assertions: false, invariants: [n] }] as [string, any]),
  ];
  return selections.map(([property, check]) => ({
    property,
    plain: checkModel({ model, check }),
    reduced: checkModel({ model, check, reduce }),
  }));
}

// The random programs and threads, for the small random model of test/fixtures/models/random-small.ts.
export { program, thread };
