// The one path walker: follows a path of events from the initial state through the state space, one
// step at a time. Counterexample traces, replay and the liveness reports all walk paths with it.
import type { CompiledTransition } from '../compile/index.ts';
import type { Context } from '../model.ts';
import type { PathState, StateSpace } from './index.ts';

export class PathWalker implements PathState {
  leaves: Int32Array;
  context: Context;
  /** Steps taken so far. */
  steps = 0;

  constructor(readonly space: StateSpace) {
    const init = space.initial();
    this.leaves = init.leaves;
    this.context = init.context;
  }

  /** Takes `event`: the transitions taken (one per thread that moved), or null when it is not enabled here (the walker stays). */
  advance(event: number): CompiledTransition[] | null {
    const next = this.space.step(this, event);
    if (!next) return null;
    this.leaves = next.leaves;
    this.context = next.context;
    this.steps++;
    return next.taken;
  }

  /** Every thread is in a final state. */
  get finished(): boolean {
    return this.space.system.allFinal(this.leaves);
  }

  /** Every thread is final or at a valid end (`meta.end`). */
  get ended(): boolean {
    return this.space.system.allEnded(this.leaves);
  }

  /** The threads that can move here. */
  enabledThreads(): Set<number> {
    return this.space.enabledThreads(this);
  }

  /** A key equal for equal states (leaves and context). */
  key(): string {
    return JSON.stringify([...this.leaves]) + JSON.stringify(this.context);
  }
}
