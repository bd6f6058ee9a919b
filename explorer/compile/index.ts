// The compiler: turns an XState v5 machine (parallel root, one region per thread) into a fast
// transition system over (one leaf per thread, context).
//
// Semantics follow XState's own microstep (see node_modules/xstate .../raise-*.esm.js, `microstep`,
// `computeExitSet`, `computeEntrySet`, `getTransitionDomain`): for an event, each thread selects the
// first transition whose guard holds, walking from its active leaf up to the thread's region node;
// then exit actions of all exited states run (reverse document order), then the transitions'
// actions, then entry actions of entered states (document order). Guards see the pre-step context.
// When every thread ends in a final state the machine is done: XState runs the exit actions of all
// active states, and no further step is possible.
//
// The build is split by concern: feature rejection (./features.ts), guards (./guards.ts), actions
// (./actions.ts), the candidate tables (./tables.ts); the runtime step is ./step.ts.
//
// What it does not support it rejects with a ModelError naming the state, the event and the feature.
import { initialTransition, type AnyStateMachine } from 'xstate';
import { inPlaceHint, ModelRuntimeError, thrownMessage } from '../errors.ts';
import { createActionCompiler, createStateActions } from './actions.ts';
import { checkRoot } from './features.ts';
import { createGuardCompiler } from './guards.ts';
import { isDescendant } from './nodes.ts';
import { createRuntime } from './step.ts';
import { buildTables } from './tables.ts';
import type { CompiledSystem, StateNode } from './types.ts';

export type { ActionFn, CompiledSystem, CompiledThread, CompiledTransition, GuardFn, GuardRef, LockAction, StepResult } from './types.ts';
export { GUARD_CALL_SOURCE, guardCallFactory, SINGLE_ASSIGN_SOURCE, singleAssignFactory } from './fresh.ts';

export function compileMachine(machine: AnyStateMachine): CompiledSystem {
  const root = machine.root as StateNode;
  checkRoot(root);
  const actions = createActionCompiler(machine);
  const stateActions = createStateActions(actions, root);
  const { threads, events, eventThreads } = buildTables({ root, guards: createGuardCompiler(machine), actions, stateActions });

  // Initial state from XState itself: entry actions and initial states exactly as XState runs them.
  let init;
  try {
    [init] = initialTransition(machine);
  } catch (e) {
    throw new ModelRuntimeError(`the machine's initial state could not be computed: ${thrownMessage(e)}`, { state: '(root)' }, e);
  }
  // XState keeps what an initial entry action threw in the snapshot (status 'error') rather than throwing it.
  if ((init as any).status === 'error') {
    const e = (init as any).error;
    throw new ModelRuntimeError(`the machine's initial state could not be computed: ${thrownMessage(e)}${inPlaceHint(e)}; fix the initial entry actions`, { state: '(root)' }, e);
  }
  const initialLeaves = new Int32Array(threads.length);
  const initNodes: StateNode[] = (init as any)._nodes;
  for (const t of threads) {
    const leaf = initNodes.find((n: StateNode) => (n.type === 'atomic' || n.type === 'final') && (n === t.node || isDescendant(n, t.node)));
    initialLeaves[t.index] = t.leaves.indexOf(leaf);
    if (initialLeaves[t.index] < 0) throw new ModelRuntimeError(`the machine's initial state has thread ${t.name} in no state of its own (XState's snapshot: ${JSON.stringify((init as any).value)})`, { thread: t.name, state: '(root)' });
  }

  // Every state of the initial configuration was entered by default (its initial actions too, for compound ones).
  const initialEntry = initNodes.flatMap((n) => stateActions.defaultEntryOf(n));
  return createRuntime({ machine, threads, events, eventThreads, stateActions, initialLeaves, initialContext: (init as any).context, initialEntry });
}
