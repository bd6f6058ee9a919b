// Test helper: walks every reachable state with XState's transition() and checks that the compiled
// engine computes the same successor, event by event.
import { expect } from 'vitest';
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { compileMachine } from '../../explorer/compile.ts';
import { canonicalJson, createReferenceStepper, referenceKey, threadLocationsOf } from '../../explorer/reference.ts';

/** Walks every reachable state with the reference stepper and compares successor sets. Returns the state count. */
export function compareEverywhere(machine: AnyStateMachine, limit = 20000): number {
  const system = compileMachine(machine);
  const ref = createReferenceStepper(machine);
  const init = ref.initial();
  const seen = new Set<string>([referenceKey(init)]);
  const queue: AnyMachineSnapshot[] = [init];
  const toLeaves = (s: AnyMachineSnapshot) => {
    const loc = threadLocationsOf(s);
    return Int32Array.from(system.threads.map((t) => {
      const i = t.leafPaths.indexOf(loc[t.name]);
      if (i < 0) throw new Error(`thread ${t.name} at unknown leaf ${loc[t.name]}`);
      return i;
    }));
  };
  const compiledKey = (leaves: Int32Array, ctx: unknown) => {
    const loc = system.locations(leaves);
    return Object.keys(loc).map((k) => `${k}=${loc[k]}`).join(';') + '|' + canonicalJson(ctx);
  };
  expect(compiledKey(system.initialLeaves, system.initialContext)).toBe(referenceKey(init));
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head];
    const leaves = toLeaves(s);
    const expected = new Map<string, string>();
    for (const { event, next } of ref.successors(s)) expected.set(event, referenceKey(next));
    const actual = new Map<string, string>();
    if (!system.allFinal(leaves)) {
      system.events.forEach((ev, e) => {
        const r = system.step(leaves, s.context, e);
        if (r) actual.set(ev, compiledKey(r.leaves, r.context));
      });
    }
    if (canonicalJson([...actual].sort()) !== canonicalJson([...expected].sort())) {
      expect({ state: referenceKey(s), successors: Object.fromEntries([...actual].sort()) }).toEqual({
        state: referenceKey(s),
        successors: Object.fromEntries([...expected].sort()),
      });
    }
    for (const { next } of ref.successors(s)) {
      const k = referenceKey(next);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(next);
        if (seen.size > limit) throw new Error(`more than ${limit} states: give the model smaller smallParams`);
      }
    }
  }
  return seen.size;
}

