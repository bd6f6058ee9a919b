// Test harness for kernel-primitive unit tests: builds tiny parallel models and explores them with the reference stepper.
import { expect } from 'vitest';
import { setup, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { compileMachine } from '../../../explorer/compile/index.ts';
import { crossCheck } from '../../../explorer/crosscheck.ts';
import { defineModel } from '../../../explorer/model.ts';
import { checkFootprints } from '../../../explorer/reduce/check.ts';
import { createReferenceStepper, referenceKey, threadLocationsOf } from '../../../explorer/reference.ts';
import { kernelActions, kernelGuards, kernelWaits } from '../../../machines/kernel/index.ts';
import { exploreWords } from '../../helpers/explore-words.ts';

/** A parallel machine whose regions are the given threads, with kernel guards/actions registered. */
export function tinyModel(context: Record<string, any>, threads: Record<string, any>, extra: { guards?: any; actions?: any } = {}): AnyStateMachine {
  return setup({
    guards: { ...kernelGuards, ...(extra.guards ?? {}) },
    actions: { ...kernelActions, ...(extra.actions ?? {}) },
  }).createMachine({ id: 'tiny', type: 'parallel', context, states: threads } as any);
}

/**
 * A straight-line thread: steps[i] is a transition fragment, an array of transitions, or a function of the
 * next state's name returning transitions (for the blocking calls that carry their target, e.g.
 * `(n) => down_read('sem', t, n)`), from state s<i>; ends in final `done`.
 */
export function straight(thread: string, steps: Array<any>, names?: string[]): any {
  const states: Record<string, any> = {};
  const name = (i: number) => (i === steps.length ? 'done' : (names?.[i] ?? `s${i}`));
  steps.forEach((step, i) => {
    const target = name(i + 1);
    states[name(i)] = {
      on: { [`${thread}.${name(i)}`]: typeof step === 'function' ? step(target) : Array.isArray(step) ? step : { ...step, target } },
    };
  });
  states.done = { type: 'final' };
  return { initial: name(0), states };
}

/**
 * straight(), ending in a `done` that is not final: the step into an all-final state runs every exit action on the
 * decoded context, which the word-path tests would count as a fallback.
 */
export function straightOpen(thread: string, steps: Array<any>, names?: string[]): any {
  const x = straight(thread, steps, names);
  x.states.done = {};
  return x;
}

export interface Explored {
  states: number;
  /** Deadlocked snapshots (no enabled event, machine not done). */
  deadlocks: AnyMachineSnapshot[];
  /** Every reachable snapshot. */
  all: AnyMachineSnapshot[];
}

/** Breadth-first exploration with the reference stepper, keeping snapshots. */
export function explore(machine: AnyStateMachine, maxStates = 200_000): Explored {
  const stepper = createReferenceStepper(machine);
  const init = stepper.initial();
  const seen = new Set([referenceKey(init)]);
  const all = [init];
  const deadlocks: AnyMachineSnapshot[] = [];
  for (let head = 0; head < all.length; head++) {
    const s = all[head];
    const succ = stepper.successors(s);
    if (succ.length === 0 && s.status === 'active') deadlocks.push(s);
    for (const { next } of succ) {
      const k = referenceKey(next);
      if (!seen.has(k)) {
        seen.add(k);
        all.push(next);
        if (all.length > maxStates) throw new Error('too many states');
      }
    }
  }
  return { states: all.length, deadlocks, all };
}

export const where = (s: AnyMachineSnapshot) => threadLocationsOf(s);

/**
 * Holds a machine over kernel primitives to the engine's contracts: the compiled step (word path on) agrees with
 * XState's transition() on every reachable state, the word path reaches the states and transitions the decoded
 * step does, the footprints declared for --reduce por hold there, and the reduced search has the unreduced
 * verdict. Returns the state count and the steps that ran lowered and fell back to the decoded step.
 */
export function agreesEverywhere(name: string, machine: AnyStateMachine): { states: number; lowered: number; fallback: number } {
  const r = crossCheck(machine, { lowered: true });
  expect(r.difference).toBeUndefined();
  expect(r.status).toBe('agree');
  const on = exploreWords(compileMachine(machine), true);
  const off = exploreWords(compileMachine(machine), false);
  expect(on.states).toEqual(off.states);
  expect(on.edges).toEqual(off.edges);
  const def = defineModel({ name, description: name, params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: () => machine, waits: kernelWaits });
  expect(checkFootprints(instantiate(def, {}, 'v').packed, { model: def, options: { params: {}, variant: 'v' } })).toMatchObject({ complete: true, undeclared: [] });
  expect(checkModel({ model: def, reduce: ['por'] }).verdict).toEqual(checkModel({ model: def }).verdict);
  return { states: r.states, lowered: on.counts.lowered, fallback: on.counts.fallback };
}
