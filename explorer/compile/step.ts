// The runtime step: the successor of (leaves, context) by one event, with XState's microstep semantics
// over the tables built at compile time (./tables.ts), and the per-state queries every search makes
// (candidate events, all final, all ended). The space (../space/) is its only caller on the hot path.
import type { AnyStateMachine } from 'xstate';
import type { Context, ThreadLocations } from '../model.ts';
import type { StateActions } from './actions.ts';
import type { ActionFn, CompiledSystem, CompiledThread, CompiledTransition, Event, StateNode, StepResult } from './types.ts';

export interface RuntimeInput {
  machine: AnyStateMachine;
  threads: CompiledThread[];
  events: string[];
  eventThreads: number[][];
  stateActions: StateActions;
  initialLeaves: Int32Array;
  initialContext: Context;
  initialEntry: ActionFn[];
}

/** The compiled system: the tables and the step over them. */
export function createRuntime({ machine, threads, events, eventThreads, stateActions, initialLeaves, initialContext, initialEntry }: RuntimeInput): CompiledSystem {
  const { entryOf, defaultEntryOf, exitOf, rootOutput } = stateActions;
  // The event the machine's output is computed with when the machine is done (XState's done event of its root).
  const rootDone = Object.freeze({ type: `xstate.done.state.${machine.root.id}` });
  const runAll = (fns: ActionFn[], ctx: Context, ev: Event) => {
    for (const f of fns) ctx = f(ctx, ev);
    return ctx;
  };

  const doneExit = (leaves: Int32Array, ctx: Context, ev: Event) => {
    if (rootOutput !== null) rootOutput(ctx, rootDone);
    const active = new Set<StateNode>();
    for (const t of threads) for (let m = t.leaves[leaves[t.index]]; m; m = m.parent) active.add(m);
    for (const n of [...active].sort((a, b) => b.order - a.order)) ctx = runAll(exitOf(n), ctx, ev);
    return ctx;
  };

  const allFinal = (leaves: ArrayLike<number>) => {
    for (const t of threads) if (!t.isFinal[leaves[t.index]]) return false;
    return true;
  };

  const allEnded = (leaves: ArrayLike<number>) => {
    for (const t of threads) if (!t.isEnd[leaves[t.index]]) return false;
    return true;
  };

  const eventObjects = events.map((type) => Object.freeze({ type }));

  // The transitions the last successful stepInto took (reused: valid until the next successful step).
  const taken: CompiledTransition[] = [];

  /**
   * The successor for an event, without allocating beyond what the model's own actions do: the next
   * leaves go into `out` (which may be `leaves` itself only if the caller no longer needs them), the
   * transitions taken into the shared `taken` array; returns the next context, or null when no thread
   * has an enabled transition for the event.
   */
  const stepInto = (leaves: ArrayLike<number>, ctx: Context, e: number, out: Int32Array): Context | null => {
    const ev = eventObjects[e];
    const ts = eventThreads[e];
    let count = 0;
    for (let k = 0; k < ts.length; k++) {
      const t = threads[ts[k]];
      const cands = t.candidates[leaves[t.index]][e];
      if (cands === undefined) continue;
      for (let c = 0; c < cands.length; c++) {
        const tr = cands[c];
        if (tr.guard === null || tr.guard(ctx, ev)) {
          taken[count++] = tr;
          break;
        }
      }
    }
    if (count === 0) return null;
    // (Setting an array's length is a runtime call: only when the count changes, which is rare.)
    if (taken.length !== count) taken.length = count;
    const T = threads.length;
    for (let i = 0; i < T; i++) out[i] = leaves[i];
    let next = ctx;
    if (taken.length === 1) {
      const first = taken[0];
      const seq = first.sequence;
      for (let i = 0; i < seq.length; i++) next = seq[i](next, ev);
      if (first.target >= 0) out[first.thread] = first.target;
      // The machine is done only if this thread just reached a final state and all others are final.
      if (first.target >= 0 && threads[first.thread].isFinal[first.target] && allFinal(out)) next = doneExit(out, next, ev);
      return next;
    }
    const exits = taken.flatMap((t) => t.exits).sort((a, b) => b.order - a.order);
    const entries = taken.flatMap((t) => t.entries).sort((a, b) => a.order - b.order);
    for (const n of exits) next = runAll(exitOf(n), next, ev);
    for (const t of taken) next = runAll(t.actions, next, ev);
    for (const n of entries) next = runAll(taken.some((t) => t.defaultEntries.has(n)) ? defaultEntryOf(n) : entryOf(n), next, ev);
    for (const t of taken) if (t.target >= 0) out[t.thread] = t.target;
    if (allFinal(out)) next = doneExit(out, next, ev);
    return next;
  };

  const step = (leaves: Int32Array, ctx: Context, e: number): StepResult | null => {
    const out = new Int32Array(threads.length);
    const next = stepInto(leaves, ctx, e, out);
    if (next === null) return null;
    return { leaves: out, context: next, taken: taken.slice() };
  };

  const eventMark = new Uint8Array(events.length);
  const eventList: number[] = [];
  const candidateEvents = (leaves: ArrayLike<number>) => {
    // The list is overwritten in place and its length set only when the count changes (setting an
    // array's length is a runtime call, once per expanded state otherwise).
    let n = 0;
    for (let k = 0; k < threads.length; k++) {
      const evs = threads[k].leafEvents[leaves[k]];
      for (let i = 0; i < evs.length; i++) {
        const e = evs[i];
        if (eventMark[e] === 0) {
          eventMark[e] = 1;
          if (n < eventList.length) eventList[n] = e;
          else eventList.push(e);
          n++;
        }
      }
    }
    if (eventList.length !== n) eventList.length = n;
    // Insertion sort: the list is short and nearly sorted (threads' events are numbered in order).
    for (let i = 1; i < eventList.length; i++) {
      const e = eventList[i];
      let j = i - 1;
      while (j >= 0 && eventList[j] > e) {
        eventList[j + 1] = eventList[j];
        j--;
      }
      eventList[j + 1] = e;
    }
    for (let i = 0; i < eventList.length; i++) eventMark[eventList[i]] = 0;
    return eventList;
  };

  return {
    machine,
    threads,
    events,
    eventThreads,
    candidateEvents,
    initialLeaves,
    initialContext,
    initialEntry,
    doneExit,
    step,
    stepInto,
    taken,
    locations(leaves) {
      const out: ThreadLocations = {};
      for (const t of threads) out[t.name] = t.leafPaths[leaves[t.index]];
      return out;
    },
    allFinal,
    allEnded,
  };
}
