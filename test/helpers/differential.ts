// Test helper: walks every reachable state with XState's transition() and checks that the compiled
// engine computes the same successor, event by event (explorer/crosscheck.ts).
import { expect } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { crossCheck } from '../../explorer/crosscheck.ts';

/** Walks every reachable state with the reference stepper and compares successor sets. Returns the state count. */
export function compareEverywhere(machine: AnyStateMachine, limit = 20000): number {
  const r = crossCheck(machine, { limit });
  if (r.status === 'cut') throw new Error(`more than ${limit} states: give the model smaller smallParams`);
  if (r.difference) {
    expect({ state: r.difference.state, successors: r.difference.engine }).toEqual({ state: r.difference.state, successors: r.difference.xstate });
  }
  return r.states;
}
