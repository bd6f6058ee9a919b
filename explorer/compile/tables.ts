// The candidate tables: for each thread, its leaves (with their meta: valid ends, assertions, progress)
// and, per leaf and event, the transitions to try in order, each with its exit and entry sets computed
// as XState's microstep does (getTransitionDomain, computeExitSet, computeEntrySet); then which threads
// declare each event.
import { ModelError, thrownMessage } from '../errors.ts';
import type { ActionFn, CompiledThread, CompiledTransition, GuardRef, StateNode, Where } from './types.ts';
import type { createGuardCompiler } from './guards.ts';
import { loweringOf, type createActionCompiler, type StateActions } from './actions.ts';
import type { AssignPlan, Lowered } from './lower/plans.ts';
import { isDescendant, nodePath, properAncestors } from './nodes.ts';
import { checkNodeFeatures } from './features.ts';
import { checkEventOwnership } from '../ownership.ts';

export interface TableInput {
  root: StateNode;
  guards: ReturnType<typeof createGuardCompiler>;
  actions: ReturnType<typeof createActionCompiler>;
  stateActions: StateActions;
}

/** The threads' candidate tables and the alphabet (events numbered in document order of first appearance). */
export function buildTables({ root, guards, actions, stateActions }: TableInput): { threads: CompiledThread[]; events: string[]; eventThreads: number[][] } {
  const { entryOf, defaultEntryOf, exitOf } = stateActions;
  const events: string[] = [];
  const eventIndex = new Map<string, number>();
  const eventId = (type: string) => {
    let i = eventIndex.get(type);
    if (i === undefined) {
      i = events.length;
      events.push(type);
      eventIndex.set(type, i);
    }
    return i;
  };

  const regions: StateNode[] = Object.values(root.states);
  if (regions.length === 0) throw new ModelError('the machine has no threads (top-level regions)', { state: '(root)' });
  const threads: CompiledThread[] = [];

  regions.forEach((region, ti) => {
    const name = region.key as string;
    if (region.type === 'atomic' || region.type === 'final') {
      throw new ModelError(
        `thread ${name} has no states; give it an initial state and at least one state (a thread is a compound region)`,
        { state: nodePath(region), feature: 'atomic thread' },
      );
    }
    const leaves: StateNode[] = [];
    const visit = (n: StateNode) => {
      checkNodeFeatures(n, false);
      if (n.type === 'final' && n.parent !== region) {
        throw new ModelError(
          `state ${nodePath(n)} is a final state nested inside ${nodePath(n.parent)}; a thread's valid end must be a ` +
            `final state directly under the thread (XState finishes a region only there): move it up to ${nodePath(region)}, ` +
            `or make it an ordinary state`,
          { state: nodePath(n), feature: 'nested final state' },
        );
      }
      if (n.type === 'atomic' || n.type === 'final') leaves.push(n);
      else for (const c of Object.values(n.states)) visit(c);
    };
    visit(region);
    leaves.sort((a, b) => a.order - b.order);
    const leafIndex = new Map<StateNode, number>(leaves.map((l, i) => [l, i]));
    const rel = (n: StateNode) => n.path.slice(1).join('.');
    const chainOf = (leaf: StateNode) => {
      const chain: StateNode[] = [];
      for (let m = leaf; m && m !== root; m = m.parent) chain.push(m);
      return chain; // leaf .. region
    };

    const thread: CompiledThread = {
      name,
      index: ti,
      node: region,
      leaves,
      leafPaths: leaves.map(rel),
      isFinal: leaves.map((l) => l.type === 'final'),
      isEnd: [],
      asserts: [],
      progressLeaf: [],
      leafMeta: [],
      candidates: [],
      leafEvents: [],
    };

    /** The leaf reached by entering `target` (descending through initial states). */
    const settle = (target: StateNode, where: Where): StateNode => {
      let n = target;
      while (n.type === 'compound') {
        let init: StateNode | undefined;
        try {
          init = n.initial?.target?.[0];
        } catch (e) {
          // XState resolves `initial` only when the state is first entered, and throws on one it cannot find.
          const initial = typeof n.config.initial === 'string' ? n.config.initial : JSON.stringify(n.config.initial);
          throw new ModelError(`state ${nodePath(n)} has initial ${initial}, which XState cannot resolve: ${thrownMessage(e)}; name a child of ${nodePath(n)}`, {
            ...where,
            state: nodePath(n),
            feature: 'initial',
          });
        }
        if (!init) throw new ModelError(`state ${nodePath(n)} has no initial state; add initial: '<child>'`, { ...where, feature: 'initial' });
        n = init;
      }
      return n;
    };

    for (const leaf of leaves) {
      const chain = chainOf(leaf);
      const asserts: string[] = [];
      let progress = false;
      const meta: Record<string, unknown> = {};
      for (let i = chain.length - 1; i >= 0; i--) {
        const m = chain[i].meta;
        if (m && typeof m === 'object') {
          Object.assign(meta, m);
          if (m.assert !== undefined) {
            for (const a of Array.isArray(m.assert) ? m.assert : [m.assert]) {
              if (typeof a !== 'string') {
                throw new ModelError(`state ${nodePath(chain[i])} has meta.assert that is not a name: use a string naming a predicate in the model's assertions`, {
                  state: nodePath(chain[i]),
                  feature: 'meta.assert',
                });
              }
              asserts.push(a);
            }
          }
          // The nearest explicit mark wins (the loop runs from the thread's region down to the leaf).
          if (m.progress !== undefined) progress = progressMark(m.progress, `state ${nodePath(chain[i])}`, { state: nodePath(chain[i]) });
        }
      }
      thread.asserts.push(asserts);
      thread.progressLeaf.push(progress);
      thread.leafMeta.push(meta);
      if (meta.end !== undefined && typeof meta.end !== 'boolean') {
        throw new ModelError(`state ${nodePath(leaf)} has meta.end that is not a boolean: write meta: { end: true } to mark a valid end state`, {
          state: nodePath(leaf),
          feature: 'meta.end',
        });
      }
      thread.isEnd.push(leaf.type === 'final' || meta.end === true);

      const byEvent: Array<CompiledTransition[] | undefined> = [];
      for (const node of chain) {
        for (const [type, defs] of node.transitions as Map<string, any[]>) {
          if (type.startsWith('xstate.')) {
            throw new ModelError(
              `state ${nodePath(node)} handles the XState internal event '${type}', which interleave does not support: ` +
                `give the step its own thread-qualified event`,
              { state: nodePath(node), event: type, feature: 'internal event' },
            );
          }
          const ev = eventId(type);
          const list = (byEvent[ev] ??= []);
          for (const t of defs) {
            const where: Where = { state: nodePath(node), event: type };
            const targets: StateNode[] = t.target ?? [];
            let targetLeaf = -1;
            let exits: StateNode[] = [];
            let entries: StateNode[] = [];
            let defaultEntries = new Set<StateNode>();
            if (targets.length > 1) {
              throw new ModelError(`transition from ${where.state} on ${type} has several targets; a thread has one active state`, {
                ...where,
                feature: 'multiple targets',
              });
            }
            if (targets.length === 1) {
              const target = targets[0];
              if (target.type === 'history') {
                throw new ModelError(`transition from ${where.state} on ${type} targets a history state`, { ...where, feature: 'history' });
              }
              if (target !== region && !isDescendant(target, region)) {
                throw new ModelError(
                  `transition from ${where.state} on ${type} targets ${nodePath(target)}, outside thread ${name}; ` +
                    `threads interact only through the shared context`,
                  { ...where, feature: 'cross-thread target' },
                );
              }
              // Transition domain, as XState's getTransitionDomain.
              let domain: StateNode;
              if (!t.reenter && (target === node || isDescendant(target, node))) domain = node;
              else {
                const lca = properAncestors(node, undefined).find((a: StateNode) => isDescendant(target, a));
                domain = lca;
              }
              if (domain === root || domain === undefined) {
                // The thread's own state exited and entered again (its region targeted from inside, or with reenter: true):
                // XState's domain is then the machine's root, and it exits every other thread's states too.
                throw new ModelError(
                  `transition from ${where.state} on ${type} to ${nodePath(target)}${t.reenter ? ' with reenter: true' : ''} exits and ` +
                    `re-enters thread ${name} itself, which XState does by exiting every thread (its domain is the machine's root): ` +
                    `target a state inside ${name}${t.reenter ? ' without reenter' : ''}`,
                  { ...where, feature: 'thread re-entry' },
                );
              }
              // Exit set: active nodes (the leaf's chain) that are descendants of the domain, plus the domain on reenter.
              const exitSet = chain.filter((n) => isDescendant(n, domain));
              if (t.reenter && node === domain) exitSet.push(domain);
              exits = exitSet.sort((a, b) => b.order - a.order);
              // Entry set: as computeEntrySet with addDescendantStatesToEnter/addAncestorStatesToEnter.
              const enter = new Set<StateNode>();
              // States entered by default run their `initial` actions after their entry actions.
              const byDefault = new Set<StateNode>();
              if (target !== node || node !== domain || t.reenter) {
                enter.add(target);
                byDefault.add(target);
              }
              const finalLeaf = settle(target, where);
              for (let m = finalLeaf; m !== target; m = m.parent) {
                enter.add(m);
                byDefault.add(m);
              }
              for (const a of properAncestors(target, domain)) enter.add(a);
              entries = [...enter].sort((a, b) => a.order - b.order);
              defaultEntries = byDefault;
              targetLeaf = leafIndex.get(finalLeaf)!;
            }
            const g = t.guard === undefined ? null : guards.compile(t.guard, where);
            const own = actions.compileList(t.actions, where);
            const sequence = [...exits.flatMap(exitOf), ...own, ...entries.flatMap((n) => (defaultEntries.has(n) ? defaultEntryOf(n) : entryOf(n)))];
            list.push({
              thread: ti,
              event: ev,
              source: nodePath(node),
              guard: g ? g.fn : null,
              guardRefs: g
                ? (ctx, e) => {
                    const out: GuardRef[] = [];
                    g.refs(ctx, e, false, out);
                    return out;
                  }
                : () => [],
              guardLabel: t.guard === undefined ? '' : guards.label(t.guard),
              target: targetLeaf,
              exits,
              entries,
              actions: own,
              sequence,
              guardLowered: g ? g.lowered : null,
              sequenceLowered: lowerSequence(sequence),
              defaultEntries,
              progress: t.meta?.progress === undefined ? false : progressMark(t.meta.progress, `transition ${type} of state ${nodePath(node)}`, where),
              meta: t.meta,
            });
          }
        }
      }
      thread.candidates.push(byEvent);
      thread.leafEvents.push(byEvent.map((l, i) => (l && l.length ? i : -1)).filter((i) => i >= 0));
    }
    threads.push(thread);
  });
  // Dense candidate tables: byEvent was filled at scattered event indices, which leaves V8 a holey (or
  // dictionary-mode) array; the step looks them up for every event of every expanded state.
  for (const t of threads) {
    t.candidates = t.candidates.map((byEvent) => Array.from({ length: events.length }, (_, e) => byEvent[e]));
  }
  // Entry/exit actions compile eagerly so unsupported ones are rejected up front.
  for (const t of threads) for (const leaf of t.leaves) for (let m = leaf; m; m = m.parent) (entryOf(m), exitOf(m));

  const eventThreads: number[][] = events.map(() => []);
  for (const t of threads) {
    const seen = new Set<number>();
    for (const evs of t.leafEvents) for (const e of evs) seen.add(e);
    for (const e of [...seen].sort((a, b) => a - b)) eventThreads[e].push(t.index);
  }
  for (const list of eventThreads) list.sort((a, b) => a - b);
  checkEventOwnership({ threads, events, eventThreads, joint: root.meta?.joint });
  return { threads, events, eventThreads };
}

/** A transition's action sequence lowered: every action's plan, or the first reason one is not. */
function lowerSequence(sequence: ActionFn[]): Lowered<AssignPlan[]> {
  const plans: AssignPlan[] = [];
  for (const fn of sequence) {
    const l = loweringOf(fn);
    if (l.plan === null) return l;
    plans.push(l.plan);
  }
  return { plan: plans };
}

/** A `meta.progress` mark: a boolean, or a model error naming where it is (a string or a number is not taken for its truth). */
function progressMark(mark: unknown, what: string, where: Where): boolean {
  if (typeof mark === 'boolean') return mark;
  throw new ModelError(
    `${what} has meta.progress that is not a boolean (${typeof mark === 'string' ? JSON.stringify(mark) : String(mark)}): write meta: { progress: true } to mark progress, or false to unmark a state inside a marked one`,
    { ...where, feature: 'meta.progress' },
  );
}
