// Footprints of compiled transitions: which context paths each step may read and write, resolved from the
// declarations on the guards and actions (./declare.ts) with their params, for the partial-order reduction.
//
// A transition's footprint covers its guard, its exit/own/entry actions (and the `initial` actions of states it
// enters by default), and, when it reaches a final state, the exit actions XState runs when the machine is done.
// A step on event e of thread p takes the first candidate whose guard holds, so the footprint of "thread p at
// leaf l on event e" is the union over all its candidates (the guards of the earlier ones are read too).
// Anything without a declaration touches everything ('*').
import type { AnyStateMachine } from 'xstate';
import type { CompiledSystem, CompiledThread } from '../compile/index.ts';
import { ModelError } from '../errors.ts';
import { footprintOf, type FootprintDecl } from './declare.ts';

/** A resolved footprint: concrete dotted paths ('*' = the whole context). */
export interface Footprint {
  reads: string[];
  writes: string[];
  /** Concrete paths of sorted thread-name lists (see FootprintDecl.sets). */
  sets: string[];
  /** Names of the guards/actions that had no declaration (they made the footprint '*'). */
  undeclared: string[];
}

export const EVERYTHING = '*';

export function emptyFootprint(): Footprint {
  return { reads: [], writes: [], sets: [], undeclared: [] };
}

function addAll(into: string[], from: readonly string[]) {
  for (const p of from) if (!into.includes(p)) into.push(p);
}

export function mergeInto(into: Footprint, from: Footprint): Footprint {
  addAll(into.reads, from.reads);
  addAll(into.writes, from.writes);
  addAll(into.sets, from.sets);
  addAll(into.undeclared, from.undeclared);
  return into;
}

/** True when one path is a prefix of the other (segment-wise), or either is the whole context. */
export function pathsOverlap(a: string, b: string): boolean {
  if (a === EVERYTHING || b === EVERYTHING || a === b) return true;
  return a.length < b.length ? b.startsWith(a) && b[a.length] === '.' : a.startsWith(b) && a[b.length] === '.';
}

function anyOverlap(xs: readonly string[], ys: readonly string[]): boolean {
  for (const x of xs) for (const y of ys) if (pathsOverlap(x, y)) return true;
  return false;
}

/** Two footprints conflict when one writes what the other reads or writes. */
export function conflicts(a: Footprint, b: Footprint): boolean {
  return anyOverlap(a.writes, b.writes) || anyOverlap(a.writes, b.reads) || anyOverlap(b.writes, a.reads);
}

/** True when a path of `paths` is covered by (lies at or below) one of `decl`. */
export function covered(path: string, decl: readonly string[]): boolean {
  for (const d of decl) {
    if (d === EVERYTHING || d === path) return true;
    if (path.length > d.length && path.startsWith(d) && path[d.length] === '.') return true;
  }
  return false;
}

/** Substitutes `{param}` in a template with the params' values. */
export function instantiatePath(template: string, params: unknown, who: string): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params && typeof params === 'object' ? (params as any)[name] : undefined;
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new ModelError(
        `the footprint of ${who} names param '${name}', but its params ${JSON.stringify(params)} have no string or number '${name}': ` +
          `fix the declaration or pass the param`,
        { feature: 'footprint' },
      );
    }
    return String(v);
  });
}

export function resolveDecl(decl: FootprintDecl, params: unknown, who: string): Footprint {
  const inst = (xs: readonly string[] | undefined) => (xs ?? []).map((t) => instantiatePath(t, params, who));
  return { reads: inst(decl.reads), writes: inst(decl.writes), sets: inst(decl.sets), undeclared: [] };
}

/** A named guard/action reference: 'name' or { type, params }. */
function namedRef(x: unknown): { type: string; params: unknown; hasParams: boolean } | null {
  if (typeof x === 'string') return { type: x, params: undefined, hasParams: false };
  if (x && typeof x === 'object' && typeof (x as any).type === 'string') return { type: (x as any).type, params: (x as any).params, hasParams: 'params' in (x as any) };
  return null;
}

const UNIVERSAL = (who: string): Footprint => ({ reads: [EVERYTHING], writes: [EVERYTHING], sets: [], undeclared: [who] });

export interface FootprintTables {
  /** Model-level declarations by guard/action name (take precedence over the ones on the implementations). */
  byName?: Record<string, FootprintDecl>;
}

/** Resolves guard expressions and action lists of an XState machine to footprints. */
export function createFootprintResolver(machine: AnyStateMachine, tables: FootprintTables = {}) {
  const guardImpls: Record<string, unknown> = (machine.implementations as any).guards ?? {};
  const actionImpls: Record<string, unknown> = (machine.implementations as any).actions ?? {};
  const byName = tables.byName ?? {};

  function named(kind: 'guard' | 'action', type: string, impl: unknown, params: unknown, hasParams: boolean): Footprint {
    const who = `${kind} ${type}`;
    const decl = byName[type] ?? footprintOf(impl);
    if (decl === undefined) return UNIVERSAL(who);
    if (hasParams && typeof params === 'function') return UNIVERSAL(`${who} (params computed from the context)`);
    return resolveDecl(decl, params, who);
  }

  function guard(g: unknown, depth = 0): Footprint {
    if (g === undefined || g === null) return emptyFootprint();
    if (depth > 64) return UNIVERSAL('guard cycle');
    if (typeof g === 'function') {
      const f = g as any;
      if (f.check && Array.isArray(f.guards)) {
        const out = emptyFootprint();
        for (const p of f.guards) mergeInto(out, guard(p, depth + 1));
        return out;
      }
      const decl = footprintOf(f);
      return decl ? resolveDecl(decl, undefined, `inline guard ${f.name || ''}`) : UNIVERSAL(`inline guard ${f.name || '(anonymous)'}`);
    }
    const ref = namedRef(g);
    if (!ref) return UNIVERSAL('guard');
    const { type, params, hasParams } = ref;
    const impl = guardImpls[type];
    if (typeof impl !== 'function') return impl === undefined ? UNIVERSAL(`guard ${type}`) : guard(impl, depth + 1);
    if ((impl as any).check && Array.isArray((impl as any).guards)) return guard(impl, depth + 1);
    return named('guard', type, impl, params, hasParams);
  }

  function action(a: unknown, depth = 0): Footprint {
    if (depth > 64) return UNIVERSAL('action cycle');
    if (typeof a === 'function') {
      const f = a as any;
      if (f.type === 'xstate.log') return emptyFootprint();
      const decl = footprintOf(f);
      if (decl) return resolveDecl(decl, undefined, `inline action`);
      // assign({ key: constant, ... }): writes exactly those keys, reads nothing.
      if (f.type === 'xstate.assign' && f.assignment && typeof f.assignment === 'object') {
        const keys = Object.keys(f.assignment);
        if (keys.every((k) => typeof f.assignment[k] !== 'function')) return { reads: [], writes: keys, sets: [], undeclared: [] };
      }
      return UNIVERSAL(`inline action ${f.name || f.type || ''}`.trim());
    }
    const ref = namedRef(a);
    if (!ref) return UNIVERSAL('action');
    const { type, params, hasParams } = ref;
    const impl = actionImpls[type] as any;
    if (impl === undefined) return UNIVERSAL(`action ${type}`);
    if (typeof impl === 'function' && impl.type === 'xstate.log') return emptyFootprint();
    if (typeof impl === 'function' && impl.type === 'xstate.assign') {
      const decl = byName[type] ?? footprintOf(impl);
      if (decl === undefined && impl.assignment && typeof impl.assignment === 'object') {
        const keys = Object.keys(impl.assignment);
        if (keys.every((k) => typeof impl.assignment[k] !== 'function')) return { reads: [], writes: keys, sets: [], undeclared: [] };
      }
      return named('action', type, impl, params, hasParams);
    }
    return action(impl, depth + 1);
  }

  function actions(list: unknown): Footprint {
    const arr = list === undefined ? [] : Array.isArray(list) ? list : [list];
    const out = emptyFootprint();
    for (const a of arr) mergeInto(out, action(a));
    return out;
  }

  return { guard, action, actions };
}

/** Per thread, per leaf, per event: the footprint of the step; plus per leaf the union over its events. */
export interface SystemFootprints {
  /** step[thread][leaf][event] (undefined when the thread has no candidate there). */
  step: Array<Array<Array<Footprint | undefined>>>;
  /** leaf[thread][leaf]: union over every event of the leaf. */
  leaf: Footprint[][];
  /** future[thread][leaf]: union over every leaf reachable from it within the thread (itself included). */
  future: Footprint[][];
  /** Concrete paths of sorted thread lists found in any declaration. */
  sets: string[];
  /** Distinct undeclared guards/actions met. */
  undeclared: string[];
}

/**
 * The XState transition definitions behind a candidate list, in the compiler's order: for each node of the
 * leaf's chain (leaf up to the thread), its definitions for the event, in order.
 */
function definitionsOf(thread: CompiledThread, leaf: number, eventName: string): any[] {
  const out: any[] = [];
  for (let n = thread.leaves[leaf]; n && n !== thread.node.parent; n = n.parent) {
    const defs = (n.transitions as Map<string, any[]>).get(eventName);
    if (defs) out.push(...defs);
  }
  return out;
}

export function systemFootprints(system: CompiledSystem, tables: FootprintTables = {}): SystemFootprints {
  const resolver = createFootprintResolver(system.machine, tables);
  const sets: string[] = [];
  const undeclared: string[] = [];
  const nodeActions = new Map<any, Partial<Record<'entry' | 'exit' | 'initial', Footprint>>>();
  const ofNode = (n: any, kind: 'entry' | 'exit' | 'initial'): Footprint => {
    let m = nodeActions.get(n);
    if (!m) nodeActions.set(n, (m = {}));
    return (m[kind] ??= resolver.actions(kind === 'initial' ? (n.type === 'compound' ? n.initial?.actions : undefined) : n.config?.[kind]));
  };
  // Exit actions of every node: run when the machine is done (all threads final).
  const doneExit = emptyFootprint();
  const visitAll = (n: any) => {
    mergeInto(doneExit, ofNode(n, 'exit'));
    for (const c of Object.values(n.states ?? {})) visitAll(c);
  };
  visitAll(system.machine.root);

  const step = system.threads.map((t) =>
    t.leaves.map((_, leaf) =>
      t.candidates[leaf].map((cands, e) => {
        if (!cands || cands.length === 0) return undefined;
        const defs = definitionsOf(t, leaf, system.events[e]);
        if (defs.length !== cands.length) {
          throw new Error(`internal: ${t.name} leaf ${t.leafPaths[leaf]} event ${system.events[e]}: ${defs.length} definitions for ${cands.length} candidates`);
        }
        const fp = emptyFootprint();
        cands.forEach((tr, i) => {
          mergeInto(fp, resolver.guard(defs[i].guard));
          mergeInto(fp, resolver.actions(defs[i].actions));
          for (const n of tr.exits) mergeInto(fp, ofNode(n, 'exit'));
          for (const n of tr.entries) {
            mergeInto(fp, ofNode(n, 'entry'));
            if (tr.defaultEntries.has(n)) mergeInto(fp, ofNode(n, 'initial'));
          }
          if (tr.target >= 0 && t.isFinal[tr.target]) mergeInto(fp, doneExit);
        });
        addAll(sets, fp.sets);
        addAll(undeclared, fp.undeclared);
        return fp;
      }),
    ),
  );
  const leafFp = step.map((byLeaf) =>
    byLeaf.map((byEvent) => {
      const fp = emptyFootprint();
      for (const f of byEvent) if (f) mergeInto(fp, f);
      return fp;
    }),
  );
  const future = system.threads.map((t, ti) => {
    // successors of each leaf inside the thread
    const succ = t.leaves.map((_, leaf) => {
      const out = new Set<number>();
      for (const cands of t.candidates[leaf]) for (const tr of cands ?? []) if (tr.target >= 0) out.add(tr.target);
      return out;
    });
    return t.leaves.map((_, leaf) => {
      const seen = new Set<number>([leaf]);
      const stack = [leaf];
      const fp = emptyFootprint();
      while (stack.length) {
        const l = stack.pop()!;
        mergeInto(fp, leafFp[ti][l]);
        for (const n of succ[l]) if (!seen.has(n)) (seen.add(n), stack.push(n));
      }
      return fp;
    });
  });
  return { step, leaf: leafFp, future, sets, undeclared };
}
