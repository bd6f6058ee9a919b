// The liveness properties: livelock (a fair cycle without progress) and starvation (a fair cycle along
// which a thread never reaches its goal). Goals resolved against the model, progress states, the
// description of a lasso's loop, and the check of a saved lasso's loop (replay). The exploration and
// the cycle search are the liveness strategy's (explorer/strategies/liveness.ts, ../scc.ts).
import type { CompiledSystem } from '../compile/index.ts';
import { InputError } from '../errors.ts';
import type { Fairness } from '../scc.ts';
import type { StateSpace } from '../space/index.ts';
import { PathWalker } from '../space/walk.ts';
import type { Trace } from '../trace.ts';

export type { Fairness } from '../scc.ts';
export const FAIRNESS: Fairness[] = ['none', 'weak', 'strong'];

export interface StarvationGoal {
  thread: string;
  /** Dotted state path(s) of the thread, relative to the thread's region; a path covers its descendants. */
  goal: string | string[];
}

/** Leaf sets of a starvation goal, validated against the thread's states. */
export interface ResolvedGoal {
  thread: number;
  threadName: string;
  goals: string[];
  /** atGoalOrFinal[leaf]: the thread is at the goal, or has finished. */
  excluded: Uint8Array;
}

/** `where`: the goal's JSON path in the spec, for errors (`$.check.starvation[1]`). */
export function resolveGoal(system: CompiledSystem, s: StarvationGoal, where = '$.check.starvation'): ResolvedGoal {
  const t = system.threads.find((x) => x.name === s.thread);
  if (!t) {
    throw new InputError(`${where}.thread: the model has no thread '${s.thread}' (its threads: ${system.threads.map((x) => x.name).join(', ')})`);
  }
  const goals = Array.isArray(s.goal) ? s.goal : [s.goal];
  if (goals.length === 0) throw new InputError(`${where}.goal: give at least one state path of thread ${t.name}`);
  const excluded = new Uint8Array(t.leaves.length);
  for (const [k, goal] of goals.entries()) {
    let hit = false;
    t.leafPaths.forEach((p, leaf) => {
      if (p === goal || p.startsWith(goal + '.')) {
        excluded[leaf] = 1;
        hit = true;
      }
    });
    if (!hit) {
      throw new InputError(
        `${where}.goal${Array.isArray(s.goal) ? `[${k}]` : ''}: thread ${t.name} has no state '${goal}' (its leaf states: ${t.leafPaths.join(', ')}); ` +
          `give a dotted path relative to the thread, e.g. '${t.leafPaths[0]}'`,
      );
    }
  }
  t.isFinal.forEach((f, leaf) => {
    if (f) excluded[leaf] = 1;
  });
  return { thread: t.index, threadName: t.name, goals, excluded };
}

/** True when some thread's leaf is a progress state. */
export function isProgressState(system: CompiledSystem, leaves: ArrayLike<number>): boolean {
  for (const t of system.threads) if (t.progressLeaf[leaves[t.index]]) return true;
  return false;
}

/** What each thread does in the loop of a lasso path: moves, has finished, is blocked in some loop state, or idles (enabled throughout, never moving). */
export function loopRoles(space: StateSpace, path: number[], loopStart: number): string {
  const system = space.system;
  const walker = new PathWalker(space);
  const moved = new Set<number>();
  const blocked = new Set<number>();
  const enabledSome = new Set<number>();
  const finished = new Set<number>(system.threads.map((t) => t.index));
  path.forEach((e, i) => {
    if (i + 1 >= loopStart) {
      const enabled = walker.enabledThreads();
      for (const t of system.threads) {
        if (!enabled.has(t.index)) blocked.add(t.index);
        else enabledSome.add(t.index);
        if (!t.isFinal[walker.leaves[t.index]]) finished.delete(t.index);
      }
    }
    const taken = walker.advance(e);
    if (!taken) throw new Error(`internal: lasso event ${system.events[e]} is not enabled at step ${i + 1}`);
    if (i + 1 >= loopStart) for (const tr of taken) moved.add(tr.thread);
  });
  const names = (f: (i: number) => boolean) => system.threads.filter((t) => f(t.index)).map((t) => t.name);
  const parts = [`moving in the loop: ${names((i) => moved.has(i)).join(', ') || 'none'}`];
  const done = names((i) => !moved.has(i) && finished.has(i));
  const waiting = names((i) => !moved.has(i) && !finished.has(i) && blocked.has(i));
  const idle = names((i) => !moved.has(i) && !blocked.has(i));
  if (done.length) parts.push(`finished: ${done.join(', ')}`);
  // a thread blocked in some of the loop's states but able to run in others: weak fairness allows the loop, a
  // strongly fair scheduler (which runs a thread enabled infinitely often) does not; saying so tells a scheduling
  // artefact from a loop no scheduler avoids
  const sometimes = names((i) => !moved.has(i) && !finished.has(i) && blocked.has(i) && enabledSome.has(i));
  const notStrong = sometimes.length ? ` (${sometimes.join(', ')} runnable in other states of it: not strongly fair, --fairness strong excludes this loop)` : '';
  if (waiting.length) parts.push(`blocked in the loop: ${waiting.join(', ')}${notStrong}`);
  if (idle.length) parts.push(`able to run but never scheduled (an unfair loop): ${idle.join(', ')}`);
  return parts.join('; ');
}

/**
 * Checks the loop of a replayable lasso trace against its property: for a livelock no progress step and
 * no progress state in the loop; for starvation the thread never at its goal (nor finished) in the loop;
 * under weak fairness (the trace's options.fairness, default weak) every thread moves in the loop or is
 * disabled in one of its states; under strong fairness also every (thread, event) pair enabled in one of its
 * states is taken in it. Returns why the loop does not show the property, or null.
 */
export function lassoProblem(space: StateSpace, trace: Trace): string | null {
  const system = space.system;
  const loopStart = trace.loopStart;
  if (loopStart === undefined) return 'the trace has no loop (loopStart)';
  const opts = trace.options ?? {};
  const fairness = (opts.fairness ?? 'weak') as Fairness;
  if (!FAIRNESS.includes(fairness)) {
    const shown = typeof fairness === 'string' ? `'${fairness}'` : JSON.stringify(fairness);
    throw new InputError(`$.options.fairness: ${shown} is not one of ${FAIRNESS.join(', ')}; the trace was edited: write one of them, or re-run check to make a fresh trace`);
  }
  const kind = trace.violation.kind;
  if (kind !== 'starvation') return loopProblem(space, trace, loopStart, fairness, null);
  // A thread may have several goals (several properties, each its own entry): the loop shows starvation when it
  // shows it for one of them.
  const listed = Array.isArray(opts.starvation);
  const list = (listed ? opts.starvation : opts.starvation ? [opts.starvation] : []) as StarvationGoal[];
  const thread = trace.violation.thread ?? trace.violation.name;
  const goals = list.map((s, i) => ({ s, where: listed ? `$.options.starvation[${i}]` : '$.options.starvation' })).filter((x) => x.s.thread === thread);
  if (goals.length === 0) return `the trace does not record the goal of thread ${thread} (options.starvation)`;
  let first: string | null = null;
  for (const { s, where } of goals) {
    const p = loopProblem(space, trace, loopStart, fairness, resolveGoal(system, s, where));
    if (p === null) return null;
    first ??= p;
  }
  return first;
}

/** lassoProblem for one property: livelock (goal null) or the starvation of goal's thread. */
function loopProblem(space: StateSpace, trace: Trace, loopStart: number, fairness: Fairness, goal: ResolvedGoal | null): string | null {
  const system = space.system;
  const eventIndex = new Map(system.events.map((e, i) => [e, i]));
  const kind = trace.violation.kind;
  const walker = new PathWalker(space);
  const moved = new Set<number>();
  const disabledSomewhere = new Set<number>();
  // strong fairness: the (thread, event) pairs enabled in a loop state, and those the loop takes ("t e")
  const pairsEnabled = new Set<string>();
  const pairsTaken = new Set<string>();
  const inLoopState = (at: string) => {
    const leaves = walker.leaves;
    if (kind === 'livelock' && isProgressState(system, leaves)) return `the loop passes a progress state ${at}`;
    if (goal && goal.excluded[leaves[goal.thread]]) {
      const where = system.threads[goal.thread].leafPaths[leaves[goal.thread]];
      return `${goal.threadName} is at ${where} ${at}, which is its goal or a final state`;
    }
    if (fairness !== 'none') {
      const enabled = walker.enabledThreads();
      for (const t of system.threads) if (!enabled.has(t.index)) disabledSomewhere.add(t.index);
    }
    if (fairness === 'strong') {
      for (let e = 0; e < system.events.length; e++) space.step(walker, e)?.taken.forEach((tr) => pairsEnabled.add(`${tr.thread} ${e}`));
    }
    return null;
  };
  for (const s of trace.steps) {
    const e = eventIndex.get(s.event);
    const taken = e === undefined ? null : walker.advance(e);
    if (!taken) return `step ${s.step} (${s.event}) cannot be replayed`;
    if (s.step >= loopStart) {
      if (s.step === loopStart) {
        const p = inLoopState(`before step ${s.step}`);
        if (p) return p;
      }
      if (kind === 'livelock' && taken.some((tr) => tr.progress)) return `step ${s.step} (${s.event}) is a progress transition`;
      for (const tr of taken) {
        moved.add(tr.thread);
        pairsTaken.add(`${tr.thread} ${e}`);
      }
    }
    if (s.step >= loopStart) {
      const p = inLoopState(`after step ${s.step}`);
      if (p) return p;
    }
  }
  if (fairness !== 'none') {
    const unfair = system.threads.filter((t) => !moved.has(t.index) && !disabledSomewhere.has(t.index)).map((t) => t.name);
    if (unfair.length) return `the loop is not weakly fair: ${unfair.join(', ')} ${unfair.length === 1 ? 'stays' : 'stay'} enabled in every state of the loop but never ${unfair.length === 1 ? 'moves' : 'move'}`;
  }
  if (fairness === 'strong') {
    const untaken = [...pairsEnabled].filter((p) => !pairsTaken.has(p)).map((p) => {
      const [t, e] = p.split(' ').map(Number);
      return `${system.events[e]} of ${system.threads[t].name}`;
    });
    if (untaken.length) return `the loop is not strongly fair: ${untaken.join(', ')} ${untaken.length === 1 ? 'is' : 'are'} enabled in a state of the loop but never taken in it`;
  }
  return null;
}
