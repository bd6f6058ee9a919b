// Symmetry of identical threads: maps a state (leaf per thread, context) to a representative of its orbit under
// permutations of the threads within each declared group, as Murphi's scalarsets and Stateright's
// representative() do. The representative is fingerprinted and stored in place of the state; the search keeps
// expanding the concrete state it met first, so every stored path is a real path of the unreduced model.
//
// A permutation moves the threads' leaves and renames every reference to a thread in the context: a string
// equal to a thread's name (owners, holders, waiter lists) or ending in ':' and the name (an rwsem's "r:writer0"
// waiter), a record key equal to a thread's name, and the
// elements of arrays the model declares as indexed by the thread's position in its group. Lists declared as
// sorted thread sets (FootprintDecl.sets, e.g. an rwsem's readers) are re-sorted after renaming, as
// insertSorted keeps them. The representative sorts each group by (leaf, where the thread occurs in the
// context): not canonical in every case, but always in the orbit, which is all soundness needs.
//
// Groups are checked against the compiled threads: two threads are interchangeable only when one's XState
// config, with the two names swapped, is the other's (same states, events, guards, actions and params).
import type { CompiledSystem } from '../compile/index.ts';
import { ModelError } from '../errors.ts';
import type { Context } from '../model.ts';
import type { SymmetryGroup } from './declare.ts';

export type { SymmetryGroup } from './declare.ts';

export interface Representative {
  leaves: Int32Array;
  context: Context;
  /** perm[i] = the thread index that thread i's state moved to (identity when nothing moved). */
  perm: Int32Array;
  /** True when the representative is the state itself. */
  identity: boolean;
}

// ----------------------------------------------------------------------------------------------
// Validation: the declaration against the compiled threads.

const ident = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces whole-word occurrences of thread names (a name not glued to letters, digits or '_'). */
function renamer(map: Map<string, string>): (s: string) => string {
  if (map.size === 0) return (s) => s;
  const re = new RegExp(`(?<![A-Za-z0-9_])(${[...map.keys()].sort((a, b) => b.length - a.length).map(ident).join('|')})(?![A-Za-z0-9_])`, 'g');
  return (s) => s.replace(re, (m) => map.get(m) ?? m);
}

/** A canonical text of a thread's XState config (functions by their source, and/or/not by their parts). */
function configText(node: any): string {
  const seen = new Set<unknown>();
  const ser = (v: any): string => {
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'function') {
      if (Array.isArray(v.guards)) return `guard(${String(v.name)})[${v.guards.map(ser).join(',')}]`;
      if (v.type === 'xstate.assign') return `assign(${ser(v.assignment)})`;
      return `fn(${v.toString()})`;
    }
    if (typeof v === 'object') {
      if (seen.has(v)) return '<cycle>';
      seen.add(v);
      const out = Array.isArray(v) ? `[${v.map(ser).join(',')}]` : `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${ser(v[k])}`).join(',')}}`;
      seen.delete(v);
      return out;
    }
    return String(v);
  };
  return ser(node.config);
}

export interface CompiledSymmetry {
  groups: Array<{ members: number[]; names: string[]; indexed: string[][] }>;
  /** Thread index -> group index, or -1. */
  groupOf: Int32Array;
  sets: Set<string>;
}

/**
 * Checks the groups against the compiled system and returns their thread indices. Throws a ModelError naming
 * the group and the first difference when two threads are not interchangeable.
 */
export function compileSymmetry(system: CompiledSystem, groups: SymmetryGroup[], sets: readonly string[] = []): CompiledSymmetry {
  const byName = new Map(system.threads.map((t) => [t.name, t]));
  const groupOf = new Int32Array(system.threads.length).fill(-1);
  const out: CompiledSymmetry['groups'] = [];
  groups.forEach((g, gi) => {
    const where = `symmetry group ${gi} (${g.threads.join(', ')})`;
    if (!Array.isArray(g.threads) || g.threads.length === 0) throw new ModelError(`${where}: list the threads of the group`, { feature: 'symmetry' });
    const members: number[] = [];
    for (const name of g.threads) {
      const t = byName.get(name);
      if (!t) {
        throw new ModelError(`${where}: there is no thread '${name}' (threads: ${system.threads.map((x) => x.name).join(', ')})`, { feature: 'symmetry' });
      }
      if (groupOf[t.index] >= 0) throw new ModelError(`${where}: thread '${name}' is in two groups (or twice in one)`, { feature: 'symmetry' });
      groupOf[t.index] = out.length;
      members.push(t.index);
    }
    const first = system.threads[members[0]];
    const firstText = configText(first.node);
    for (const m of members.slice(1)) {
      const t = system.threads[m];
      const swapped = renamer(new Map([[first.name, t.name], [t.name, first.name]]))(firstText);
      const other = configText(t.node);
      if (swapped !== other) {
        let i = 0;
        while (i < swapped.length && swapped[i] === other[i]) i++;
        const clip = (s: string) => s.slice(Math.max(0, i - 60), i + 60);
        throw new ModelError(
          `${where}: threads ${first.name} and ${t.name} are not interchangeable: with their names swapped their state ` +
            `machines differ (different code or params), near\n  ${first.name}: …${clip(swapped)}…\n  ${t.name}: …${clip(other)}…\n` +
            `Put only threads built by the same code with the same params in one group.`,
          { feature: 'symmetry', state: t.name },
        );
      }
    }
    out.push({ members, names: members.map((m) => system.threads[m].name), indexed: (g.indexed ?? []).map((p) => p.split('.')) });
  });
  return { groups: out, groupOf, sets: new Set(sets) };
}

// ----------------------------------------------------------------------------------------------
// The representative.

function matchesPattern(path: readonly (string | number)[], pattern: readonly string[]): boolean {
  if (path.length !== pattern.length) return false;
  for (let i = 0; i < path.length; i++) if (pattern[i] !== '*' && pattern[i] !== String(path[i])) return false;
  return true;
}

/** 32-bit mixing of a path hash with a segment hash (murmur3's finaliser over the pair). */
function mix(h: number, x: number): number {
  let k = Math.imul(h ^ x, 0x85ebca6b) + 0x9e3779b9;
  k ^= k >>> 13;
  k = Math.imul(k, 0xc2b2ae35);
  return (k ^ (k >>> 16)) | 0;
}

const segCache = new Map<string, number>();
function segHash(seg: string): number {
  let h = segCache.get(seg);
  if (h === undefined) {
    h = 0x811c9dc5;
    for (let i = 0; i < seg.length; i++) h = Math.imul(h ^ seg.charCodeAt(i), 0x01000193);
    segCache.set(seg, (h |= 0));
  }
  return h;
}
const indexHashes: number[] = [];
const indexHash = (i: number) => indexHashes[i] ?? (indexHashes[i] = segHash(String(i)));
const pathHash = (path: string) => path.split('.').reduce((h, seg) => mix(h, segHash(seg)), 0);
/** Segment hash standing for "a key named after a thread" and "some position of a sorted set". */
const byString = (a: any, b: any) => (a < b ? -1 : a > b ? 1 : 0);
const THREAD_KEY = segHash('\u0000thread');
const SET_POSITION = segHash('\u0000set');

/** Builds the representative function of a compiled symmetry. */
export function createRepresentative(system: CompiledSystem, sym: CompiledSymmetry) {
  const T = system.threads.length;
  const nameToThread = new Map<string, number>();
  for (const g of sym.groups) for (const m of g.members) nameToThread.set(system.threads[m].name, m);
  const setHashes = new Set([...sym.sets].map(pathHash));
  const indexedPatterns = sym.groups.flatMap((g, gi) => g.indexed.map((p) => ({ gi, p })));
  const hasIndexed = indexedPatterns.length > 0;
  /** Per-thread signature: a sum of hashes of the paths where the thread occurs (name-independent). */
  const sig = new Int32Array(T);
  const path: (string | number)[] = [];

  /** Adds the hashes of the paths below `v` (path hash `h`) where grouped threads occur to `sig`. */
  function walkOccurrences(v: any, h: number): void {
    if (typeof v === 'string') {
      let t = nameToThread.get(v);
      let tag = 0x51ed270b;
      // "tag:thread" (e.g. an rwsem's "r:writer0" waiter) names the thread too
      const colon = t === undefined ? v.indexOf(':') : -1;
      if (colon >= 0) {
        t = nameToThread.get(v.slice(colon + 1));
        tag = segHash(v.slice(0, colon));
      }
      if (t !== undefined) sig[t] = (sig[t] + mix(h, tag)) | 0;
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      const isSet = setHashes.has(h);
      if (hasIndexed) {
        for (const ip of indexedPatterns) {
          if (!matchesPattern(path, ip.p)) continue;
          const g = sym.groups[ip.gi];
          for (let i = 0; i < v.length && i < g.members.length; i++) {
            const m = g.members[i];
            sig[m] = (sig[m] + mix(h, segHash(JSON.stringify(v[i])))) | 0;
          }
        }
      }
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'number' || typeof x === 'boolean') continue;
        if (hasIndexed) path.push(i);
        walkOccurrences(x, mix(h, isSet ? SET_POSITION : indexHash(i)));
        if (hasIndexed) path.pop();
      }
      return;
    }
    for (const k in v) {
      const x = v[k];
      const t = nameToThread.get(k);
      if (t !== undefined) sig[t] = (sig[t] + mix(h, THREAD_KEY)) | 0;
      else if (typeof x === 'number' || typeof x === 'boolean' || x === null) continue;
      if (hasIndexed) path.push(k);
      walkOccurrences(x, mix(h, t !== undefined ? THREAD_KEY : segHash(k)));
      if (hasIndexed) path.pop();
    }
  }

  /** Fills `sig` for the grouped threads: where each occurs in the context. */
  function occurrences(ctx: Context): void {
    sig.fill(0);
    walkOccurrences(ctx, 0);
  }

  // The renaming being applied (set by rename()).
  let renames: Map<string, string> = new Map();
  let renameOrders: Int32Array[] = [];
  /** The declared set paths as a trie over path segments: a walk off the trie has no set below it. */
  interface Trie {
    set: boolean;
    next: Map<string, Trie>;
  }
  const trie: Trie = { set: false, next: new Map() };
  for (const p of sym.sets) {
    let n = trie;
    for (const seg of p.split('.')) {
      let m = n.next.get(seg);
      if (!m) n.next.set(seg, (m = { set: false, next: new Map() }));
      n = m;
    }
    n.set = true;
  }
  const below = (n: Trie | undefined, seg: string | number) => (n === undefined || n.next.size === 0 ? undefined : n.next.get(String(seg)));

  function renameWalk(v: any, at: Trie | undefined): any {
    if (typeof v === 'string') {
      const r = renames.get(v);
      if (r !== undefined) return r;
      // "tag:thread" (an rwsem's "r:writer0" waiter) is renamed after the colon
      const colon = v.indexOf(':');
      if (colon < 0) return v;
      const t = renames.get(v.slice(colon + 1));
      return t === undefined ? v : v.slice(0, colon + 1) + t;
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let out: any[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const y = v[i];
        let x = y;
        if (typeof y === 'string' || (y !== null && typeof y === 'object')) {
          if (hasIndexed) path.push(i);
          x = renameWalk(y, below(at, i));
          if (hasIndexed) path.pop();
        }
        if (x !== y && out === null) out = v.slice(0, i);
        if (out !== null) out.push(x);
      }
      if (hasIndexed) {
        for (const ip of indexedPatterns) {
          if (!matchesPattern(path, ip.p)) continue;
          const order = renameOrders[ip.gi];
          const src = out ?? v;
          const permuted = src.slice();
          for (let j = 0; j < order.length && j < src.length; j++) permuted[j] = src[order[j]];
          out = permuted;
        }
      }
      if (out !== null && at !== undefined && at.set) out.sort(byString);
      return out ?? v;
    }
    // A record: values renamed, keys named after threads renamed in place (the key order is kept).
    let out: Record<string, any> | null = null;
    for (const k in v) {
      const y = v[k];
      let x = y;
      if (typeof y === 'string' || (y !== null && typeof y === 'object')) {
        if (hasIndexed) path.push(k);
        x = renameWalk(y, below(at, k));
        if (hasIndexed) path.pop();
      }
      const nk = renames.get(k);
      if (out === null && (x !== y || nk !== undefined)) {
        out = {};
        for (const k2 in v) {
          if (k2 === k) break;
          out[k2] = v[k2];
        }
      }
      if (out !== null) out[nk ?? k] = x;
    }
    return out ?? v;
  }

  /**
   * Applies a renaming of thread names (and each group's index permutation) to the context. Subtrees with
   * nothing to rename are returned as they are (so the codec reuses their words).
   */
  function rename(ctx: Context, names: Map<string, string>, groupOrder: Int32Array[]): Context {
    renames = names;
    renameOrders = groupOrder;
    return renameWalk(ctx, trie);
  }

  const perm = new Int32Array(T);
  const leavesOut = new Int32Array(T);
  const groupOrders = sym.groups.map((g) => new Int32Array(g.members.length));
  const repNames = new Map<string, string>();

  /**
   * The representative of (leaves, ctx). The returned arrays are reused by the next call unless `copy`;
   * when nothing moves, `identity` is true and the context is `ctx` itself.
   */
  function representative(leaves: ArrayLike<number>, ctx: Context, copy = false): Representative {
    let walked = false;
    const orders = groupOrders;
    let moved = false;
    for (let gi = 0; gi < sym.groups.length; gi++) {
      const members = sym.groups[gi].members;
      const k = members.length;
      // The leaves decide; where two are equal the occurrences in the context break the tie.
      if (!walked) {
        let tie = false;
        for (let j = 1; j < k && !tie; j++) for (let i = 0; i < j; i++) if (leaves[members[i]] === leaves[members[j]]) tie = true;
        if (tie) {
          occurrences(ctx);
          walked = true;
        }
      }
      // Insertion sort of the k members by (leaf, signature, index): k is small.
      const order = orders[gi];
      for (let j = 0; j < k; j++) {
        let i = j - 1;
        const mj = members[j];
        while (i >= 0) {
          const mi = members[order[i]];
          const d = leaves[mi] - leaves[mj] || (walked ? sig[mi] - sig[mj] : 0);
          if (d <= 0) break;
          order[i + 1] = order[i];
          i--;
        }
        order[i + 1] = j;
      }
      for (let j = 0; j < k; j++) if (order[j] !== j) moved = true;
    }
    for (let i = 0; i < T; i++) perm[i] = i;
    for (let i = 0; i < T; i++) leavesOut[i] = leaves[i];
    if (!moved) return { leaves: copy ? leavesOut.slice() : leavesOut, context: ctx, perm: copy ? perm.slice() : perm, identity: true };
    const names = repNames;
    names.clear();
    sym.groups.forEach((g, gi) => {
      const order = orders[gi];
      for (let j = 0; j < order.length; j++) {
        const from = g.members[order[j]];
        const to = g.members[j];
        perm[from] = to;
        leavesOut[to] = leaves[from];
        if (from !== to) names.set(system.threads[from].name, system.threads[to].name);
      }
    });
    const context = rename(ctx, names, orders);
    return { leaves: copy ? leavesOut.slice() : leavesOut, context, perm: copy ? perm.slice() : perm, identity: false };
  }

  /** Applies the thread permutation `p` (thread i -> p[i], within groups) to a state: for tests and checks. */
  function applyPermutation(leaves: ArrayLike<number>, ctx: Context, p: ArrayLike<number>): { leaves: Int32Array; context: Context } {
    const names = new Map<string, string>();
    const out = new Int32Array(T);
    for (let i = 0; i < T; i++) {
      out[p[i]] = leaves[i];
      if (p[i] !== i) names.set(system.threads[i].name, system.threads[p[i]].name);
    }
    // order[j] = the position whose element moves to position j
    const orders = sym.groups.map((g) => {
      const order = new Int32Array(g.members.length);
      g.members.forEach((m, i) => (order[g.members.indexOf(p[m])] = i));
      return order;
    });
    return { leaves: out, context: names.size ? rename(ctx, names, orders) : ctx };
  }

  return { representative, applyPermutation };
}
