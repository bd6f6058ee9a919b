// Symmetry of identical threads: maps a state (leaf per thread, context) to a representative of its orbit under
// permutations of the threads within each declared group, as Murphi's scalarsets and Stateright's
// representative() do. The representative is fingerprinted and stored in place of the state; the search keeps
// expanding the concrete state it met first, so every stored path is a real path of the unreduced model.
//
// A permutation moves the threads' leaves and renames every reference to a thread in the context: a string
// equal to a thread's name (owners, holders, waiter lists) or naming it as a whole word inside (an rwsem's
// "r:writer0" waiter, "writer0.lock": the occurrences the group check renames in the threads' code), a record key
// that does either (the record's keys are sorted again, as the codec keeps them),
// and the elements of arrays the model declares as indexed by the thread's position in its group. Lists declared
// as sorted thread sets (FootprintDecl.sets, e.g. an rwsem's readers) are re-sorted after renaming, as
// insertSorted keeps them. The representative sorts each group by (leaf, where the thread occurs in the
// context): not canonical in every case, but always in the orbit, which is all soundness needs. It works on the
// packed words (one walker, two modes: see "The representative, over packed words" below).
//
// Groups are checked against the compiled threads: two threads are interchangeable only when one's XState
// config, with the two names swapped, is the other's (same states, events, guards, actions and params).
import { TAGS, valueEnd, WordBuffer } from '../codec.ts';
import type { CompiledSystem } from '../compile/index.ts';
import { ModelError } from '../errors.ts';
import type { PackedSystem } from '../packed.ts';
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

/** Whole-word occurrences of the names (a name not glued to letters, digits or '_'), longest first, read literally. */
export function namesPattern(names: readonly string[]): RegExp {
  return new RegExp(`(?<![A-Za-z0-9_])(${[...names].sort((a, b) => b.length - a.length).map(ident).join('|')})(?![A-Za-z0-9_])`, 'g');
}

/** Replaces whole-word occurrences of thread names (a name not glued to letters, digits or '_'). */
function renamer(map: Map<string, string>): (s: string) => string {
  if (map.size === 0) return (s) => s;
  const re = namesPattern([...map.keys()]);
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
  const texts: string[] = [];
  const textOf = (i: number) => (texts[i] ??= configText(system.threads[i].node));
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
    const firstText = textOf(members[0]);
    for (const m of members.slice(1)) {
      const t = system.threads[m];
      const swap = renamer(new Map([[first.name, t.name], [t.name, first.name]]));
      const swapped = swap(firstText);
      const other = textOf(m);
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
      // Every other thread, in the group or not, must not tell the two apart: the representative renames the
      // context and moves the group's leaves, never another thread's code, params or leaves.
      const names = namesPattern([first.name, t.name]);
      for (let k = 0; k < system.threads.length; k++) {
        if (k === members[0] || k === m) continue;
        const text = textOf(k);
        names.lastIndex = 0;
        if (!names.test(text) || swap(text) === text) continue;
        names.lastIndex = 0;
        const named = [...new Set([...text.matchAll(names)].map((x) => x[0]))].join(' and ');
        throw new ModelError(
          `${where}: threads ${first.name} and ${t.name} are not interchangeable: thread ${system.threads[k].name}'s code names ${named} ` +
            `(in its params, state or event names), so swapping ${first.name} and ${t.name} changes what it does. ` +
            `Leave ${first.name} and ${t.name} out of the group, or make ${system.threads[k].name} treat them alike.`,
          { feature: 'symmetry', state: system.threads[k].name },
        );
      }
    }
    out.push({ members, names: members.map((m) => system.threads[m].name), indexed: (g.indexed ?? []).map((p) => p.split('.')) });
  });
  return { groups: out, groupOf, sets: new Set(sets) };
}

// ----------------------------------------------------------------------------------------------
// The representative, over packed words.
//
// One walker reads a state's context words in the codec's tagged encoding (explorer/codec.ts: a tag word, then
// its payload) without decoding it, in one of two modes: `signature` adds, for each grouped thread, a hash of
// every path where the thread occurs (the tie-breaker of the sort); `rename` writes the words of the permuted
// state (thread names and "tag:thread" strings renamed, records with renamed keys re-sorted, declared sets
// re-sorted, indexed arrays permuted). Nothing is decoded or re-encoded; test/explorer/reduce/symmetry.test.ts
// pins the walker against the codec and against a plain renaming of the decoded context.

const { T_INT, T_STR, T_ARR, T_OBJ, T_F64, T_IARR } = TAGS;

/** 32-bit mixing of a path hash with a segment hash (murmur3's finaliser over the pair). */
function mix(h: number, x: number): number {
  let k = Math.imul(h ^ x, 0x85ebca6b) + 0x9e3779b9;
  k ^= k >>> 13;
  k = Math.imul(k, 0xc2b2ae35);
  return (k ^ (k >>> 16)) | 0;
}

function segHash(seg: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seg.length; i++) h = Math.imul(h ^ seg.charCodeAt(i), 0x01000193);
  return h | 0;
}
const indexHashes: number[] = [];
const indexHash = (i: number) => indexHashes[i] ?? (indexHashes[i] = segHash(String(i)));
/** Segment hashes standing for "a key named after a thread", "some position of a sorted set", "a thread's name". */
const THREAD_KEY = segHash('\u0000thread');
const SET_POSITION = segHash('\u0000set');
const THREAD_NAME = 0x51ed270b;

/** A node of the declared paths (sets, indexed arrays) as a trie over path segments ('*' matches one). */
interface PathNode {
  set: boolean;
  /** Groups whose threads index the array here. */
  indexed: number[];
  next: Map<string, PathNode>;
  star: PathNode | null;
}
const newNode = (): PathNode => ({ set: false, indexed: [], next: new Map(), star: null });

/**
 * Where a subtree sits among the declared paths: the trie nodes its path matches, as one state of the
 * trie's subset automaton, with its moves by record key id and by array index cached. null: no declared path
 * lies below (the common case once off the few declared paths).
 */
interface Where {
  nodes: PathNode[];
  set: boolean;
  indexed: number[];
  byKey: Map<number, Where | null>;
  byIndex: Array<Where | null | undefined>;
}
function where(nodes: PathNode[]): Where | null {
  if (nodes.length === 0) return null;
  return { nodes, set: nodes.some((n) => n.set), indexed: nodes.flatMap((n) => n.indexed), byKey: new Map(), byIndex: [] };
}
function move(at: Where, seg: string): Where | null {
  const out: PathNode[] = [];
  for (const n of at.nodes) {
    const a = n.next.get(seg);
    if (a !== undefined) out.push(a);
    if (n.star !== null) out.push(n.star);
  }
  return where(out);
}

/** Builds the representative of a compiled symmetry over a packed system's words. */
export function createRepresentative(packed: PackedSystem, sym: CompiledSymmetry) {
  const system = packed.system;
  const codec = packed.codec;
  const T = system.threads.length;
  const groups = sym.groups;
  const nameToThread = new Map<string, number>();
  for (const g of groups) for (const m of g.members) nameToThread.set(system.threads[m].name, m);
  // Thread names' string ids, interned when first needed (as a re-encode would): nothing is interned before the
  // search starts, so ids follow the exploration order as without symmetry (a checkpoint's string list stays valid).
  const nameIds = new Int32Array(T);
  const nameKnown = new Uint8Array(T);
  const nameId = (t: number): number => {
    if (nameKnown[t] === 0) ((nameIds[t] = codec.intern(system.threads[t].name)), (nameKnown[t] = 1));
    return nameIds[t];
  };

  const root = newNode();
  const insert = (segs: string[], at: (n: PathNode) => void) => {
    let n = root;
    for (const seg of segs) {
      if (seg === '*') n = n.star ??= newNode();
      else {
        let m = n.next.get(seg);
        if (!m) n.next.set(seg, (m = newNode()));
        n = m;
      }
    }
    at(n);
  };
  for (const p of sym.sets) insert(p.split('.'), (n) => (n.set = true));
  groups.forEach((g, gi) => g.indexed.forEach((p) => insert(p, (n) => n.indexed.push(gi))));
  const rootWhere = root.next.size > 0 || root.star !== null ? where([root]) : null;
  const byKey = (at: Where | null, id: number): Where | null => {
    if (at === null) return null;
    let m = at.byKey.get(id);
    if (m === undefined) at.byKey.set(id, (m = move(at, codec.stringOf(id))));
    return m;
  };
  const byIndex = (at: Where | null, i: number): Where | null => {
    if (at === null) return null;
    let m = at.byIndex[i];
    if (m === undefined) at.byIndex[i] = m = move(at, String(i));
    return m;
  };

  // Per interned string, in a direct-mapped cache by id (ids are dense from 0 in one thread, 32-bit hashes of the
  // string in the parallel search's shared table): the grouped thread it names (-1: none), the one grouped thread
  // named inside it as a whole word ("r:writer0", "writer0.lock"; -1: none, MANY: several, listed in slotMany), and
  // hashes of the string and of the string without the name ("r:writer0" hashes as its tag "r", as it always
  // has). The group check (compileSymmetry) renames every whole-word occurrence of a name in the config, so the
  // state must rename the same ones. A collision only costs a look-up again.
  const SLOTS = 1 << 12;
  const MANY = -2;
  const occurs = nameToThread.size > 0 ? namesPattern([...nameToThread.keys()]) : null;
  const slotMany: Array<number[] | undefined> = [];
  const slotId = new Int32Array(SLOTS);
  const slotUsed = new Uint8Array(SLOTS);
  const threadOf = new Int32Array(SLOTS);
  const colonThread = new Int32Array(SLOTS);
  const strHash = new Int32Array(SLOTS);
  const tagHash = new Int32Array(SLOTS);
  const slot = (id: number): number => {
    const k = id & (SLOTS - 1);
    if (slotUsed[k] === 1 && slotId[k] === id) return k;
    const s = codec.stringOf(id);
    threadOf[k] = nameToThread.get(s) ?? -1;
    colonThread[k] = -1;
    tagHash[k] = 0;
    slotMany[k] = undefined;
    if (threadOf[k] < 0 && occurs !== null) {
      occurs.lastIndex = 0;
      const found = [...s.matchAll(occurs)];
      if (found.length === 1) {
        const at = found[0].index!;
        const prefix = s.slice(0, at);
        const suffix = s.slice(at + found[0][0].length);
        colonThread[k] = nameToThread.get(found[0][0])!;
        tagHash[k] = suffix === '' && prefix.indexOf(':') === prefix.length - 1 ? segHash(prefix.slice(0, -1)) : segHash(`${prefix}\u0000${suffix}`);
      } else if (found.length > 1) {
        colonThread[k] = MANY;
        slotMany[k] = found.map((m) => nameToThread.get(m[0])!);
        tagHash[k] = segHash(s.replace(occurs, '\u0000'));
      }
    }
    strHash[k] = segHash(s);
    slotId[k] = id;
    slotUsed[k] = 1;
    return k;
  };
  /** Strings naming one grouped thread inside ("tag:thread") renamed, by id * T + new thread. */
  const colonRenames = new Map<number, number>();
  /** Strings naming several grouped threads inside renamed, by id and the new threads. */
  const manyRenames = new Map<string, number>();
  /** The string with every whole-word grouped name renamed by perm. */
  const renamedString = (id: number): number =>
    codec.intern(codec.stringOf(id).replace(occurs!, (m) => system.threads[perm[nameToThread.get(m)!]].name));

  // The walk's state: the input words, the signature, the permutation being applied and the output.
  let w: Int32Array = new Int32Array(0);
  const sig = new Int32Array(T);
  const perm = new Int32Array(T);
  /** orders[g][j] = the position in group g whose thread moves to position j. */
  const orders = groups.map((g) => new Int32Array(g.members.length));
  const out = new WordBuffer(256);
  let scratch = new Int32Array(64);

  const renameId = (id: number): number => {
    const k = slot(id);
    const t = threadOf[k];
    if (t >= 0) return perm[t] === t ? id : nameId(perm[t]);
    const c = colonThread[k];
    if (c === MANY) {
      const many = slotMany[k]!;
      if (many.every((x) => perm[x] === x)) return id;
      const key = `${id}:${many.map((x) => perm[x]).join(',')}`;
      let r = manyRenames.get(key);
      if (r === undefined) manyRenames.set(key, (r = renamedString(id)));
      return r;
    }
    if (c < 0 || perm[c] === c) return id;
    const key = id * T + perm[c];
    let r = colonRenames.get(key);
    if (r === undefined) colonRenames.set(key, (r = renamedString(id)));
    return r;
  };

  /** A hash of the value at p that does not depend on thread names or on string ids (for indexed elements). */
  const valueHash = (p: number, end: number): number => {
    let h = 0;
    while (p < end) {
      const x = w[p];
      if (x === T_STR) {
        const id = w[p + 1];
        const k = slot(id);
        h = mix(h, threadOf[k] >= 0 ? THREAD_NAME : colonThread[k] !== -1 ? tagHash[k] : strHash[k]);
        p += 2;
      } else if (x === T_OBJ) {
        // keys: the next words alternate key id, value; a key is hashed as its string
        h = mix(h, x);
        h = mix(h, w[p + 1]);
        const n = w[p + 1];
        p += 2;
        for (let i = 0; i < n; i++) {
          const id = w[p];
          const k = slot(id);
          h = mix(h, threadOf[k] >= 0 ? THREAD_KEY : colonThread[k] !== -1 ? mix(THREAD_KEY, tagHash[k]) : strHash[k]);
          const q = valueEnd(w, p + 1);
          h = mix(h, valueHash(p + 1, q));
          p = q;
        }
      } else {
        h = mix(h, x);
        p++;
      }
    }
    return h;
  };

  /** Signature of a string naming several grouped threads: each by where it occurs in the string. */
  const named = (many: number[], h: number, template: number) => {
    for (let i = 0; i < many.length; i++) sig[many[i]] = (sig[many[i]] + mix(h, mix(template, indexHash(i)))) | 0;
  };

  /** Signature mode: adds to sig the hash of every path below p (path hash h) where a grouped thread occurs. */
  function signature(p: number, at: Where | null, h: number): number {
    switch (w[p]) {
      case T_STR: {
        const id = w[p + 1];
        const k = slot(id);
        const t = threadOf[k];
        if (t >= 0) sig[t] = (sig[t] + mix(h, THREAD_NAME)) | 0;
        else if (colonThread[k] >= 0) sig[colonThread[k]] = (sig[colonThread[k]] + mix(h, tagHash[k])) | 0;
        else if (colonThread[k] === MANY) named(slotMany[k]!, h, tagHash[k]);
        return p + 2;
      }
      case T_INT:
        return p + 2;
      case T_F64:
        return p + 3;
      case T_IARR:
      case T_ARR: {
        const n = w[p + 1];
        const compact = w[p] === T_IARR;
        if (at !== null) {
          for (const gi of at.indexed) {
            const members = groups[gi].members;
            let q = p + 2;
            for (let i = 0; i < n && i < members.length; i++) {
              const e = compact ? q + 1 : valueEnd(w, q);
              const vh = compact ? w[q] : valueHash(q, e);
              sig[members[i]] = (sig[members[i]] + mix(h, mix(indexHash(i), vh))) | 0;
              q = e;
            }
          }
        }
        if (compact) return p + 2 + n;
        const isSet = at !== null && at.set;
        p += 2;
        for (let i = 0; i < n; i++) {
          const x = w[p];
          if (x === T_INT) p += 2;
          else if (x < T_INT) p++;
          else p = signature(p, byIndex(at, i), mix(h, isSet ? SET_POSITION : indexHash(i)));
        }
        return p;
      }
      case T_OBJ: {
        const n = w[p + 1];
        p += 2;
        for (let i = 0; i < n; i++) {
          const id = w[p];
          const k = slot(id);
          const t = threadOf[k];
          let hk: number;
          if (t >= 0) {
            sig[t] = (sig[t] + mix(h, THREAD_KEY)) | 0;
            hk = THREAD_KEY;
          } else if (colonThread[k] !== -1) {
            // a key naming a thread inside ("r:writer0"): the path below it does not depend on the name
            hk = mix(THREAD_KEY, tagHash[k]);
            if (colonThread[k] >= 0) sig[colonThread[k]] = (sig[colonThread[k]] + mix(h, hk)) | 0;
            else named(slotMany[k]!, h, hk);
          } else hk = strHash[k];
          const x = w[p + 1];
          if (x === T_INT) p += 3;
          else if (x < T_INT) p += 2;
          else p = signature(p + 1, byKey(at, id), mix(h, hk));
        }
        return p;
      }
      default:
        return p + 1;
    }
  }

  /** Ensures scratch holds n words. */
  const scratchOf = (n: number) => (scratch.length >= n ? scratch : (scratch = new Int32Array(Math.max(n, scratch.length * 2))));

  // Spans of the elements of the array or record being reordered (offsets into o), and the order to write them in.
  let spans = new Int32Array(64);
  let spanTop = 0;
  let spanOrder = new Int32Array(16);
  const spanKeys: string[] = [];
  /** Makes room for n elements in spanOrder and spanKeys (their lengths never shrink: no reallocation per call). */
  const room = (n: number) => {
    if (spanOrder.length < n) spanOrder = new Int32Array(Math.max(n, spanOrder.length * 2));
    while (spanKeys.length < n) spanKeys.push('');
  };
  /** Sorts spanOrder[0 .. n) by spanKeys, stably (insertion sort: sets and records are small). */
  const sortSpans = (n: number) => {
    for (let j = 1; j < n; j++) {
      const k = spanOrder[j];
      const key = spanKeys[k];
      let i = j - 1;
      while (i >= 0 && spanKeys[spanOrder[i]] > key) {
        spanOrder[i + 1] = spanOrder[i];
        i--;
      }
      spanOrder[i + 1] = k;
    }
  };

  /**
   * Rewrites o[start .. end) from the n element spans at spans[base .. base + n] (each an offset, the next one
   * its end; spans[base + n] = end) in spanOrder (spanOrder[j] = the span that goes j-th).
   */
  function reorder(start: number, end: number, base: number, n: number): void {
    const s = scratchOf(end - start);
    for (let i = start; i < end; i++) s[i - start] = o[i];
    let q = start;
    for (let j = 0; j < n; j++) {
      const k = spanOrder[j];
      for (let i = spans[base + k]; i < spans[base + k + 1]; i++) o[q++] = s[i - start];
    }
    // the spans as they now lie, for a later reorder of the same elements (lengths first, in s)
    for (let j = 0; j < n; j++) s[j] = spans[base + spanOrder[j] + 1] - spans[base + spanOrder[j]];
    for (let j = 0, x = start; j < n; j++) ((spans[base + j] = x), (x += s[j]));
  }

  const pushSpan = (x: number) => {
    if (spanTop === spans.length) {
      const b = new Int32Array(spans.length * 2);
      b.set(spans);
      spans = b;
    }
    spans[spanTop++] = x;
  };

  /** The output (a permuted state is exactly as long as the state: ids change, spans move). */
  let o: Int32Array = out.words;

  /** Rename mode: writes the permuted value at w[p] to o[r]; returns the end of the value in w (also in o). */
  function rename(p: number, at: Where | null): number {
    const x = w[p];
    switch (x) {
      case T_STR:
        o[p] = T_STR;
        o[p + 1] = renameId(w[p + 1]);
        return p + 2;
      case T_INT:
        o[p] = x;
        o[p + 1] = w[p + 1];
        return p + 2;
      case T_F64:
        o[p] = x;
        o[p + 1] = w[p + 1];
        o[p + 2] = w[p + 2];
        return p + 3;
      case T_IARR: {
        const n = w[p + 1];
        for (let i = 0; i < n + 2; i++) o[p + i] = w[p + i];
        if (at !== null) {
          for (const gi of at.indexed) {
            const order = orders[gi];
            const s = scratchOf(n);
            for (let i = 0; i < n; i++) s[i] = o[p + 2 + i];
            for (let j = 0; j < order.length && j < n; j++) o[p + 2 + j] = s[order[j]];
          }
        }
        return p + 2 + n;
      }
      case T_ARR: {
        const n = w[p + 1];
        o[p] = x;
        o[p + 1] = n;
        const start = p + 2;
        if (at === null) {
          p = start;
          for (let i = 0; i < n; i++) p = rename(p, null);
          return p;
        }
        const base = spanTop;
        p = start;
        for (let i = 0; i < n; i++) {
          pushSpan(p);
          p = rename(p, byIndex(at, i));
        }
        pushSpan(p);
        for (const gi of at.indexed) {
          const order = orders[gi];
          room(n);
          for (let j = 0; j < n; j++) spanOrder[j] = j < order.length ? order[j] : j;
          reorder(start, p, base, n);
        }
        if (at.set && n > 1) {
          // a sorted set of thread names: sorted again after the renaming (elements that are not strings sort as '')
          room(n);
          for (let j = 0; j < n; j++) {
            spanOrder[j] = j;
            const q = spans[base + j];
            spanKeys[j] = o[q] === T_STR ? codec.stringOf(o[q + 1]) : '';
          }
          let moved = false;
          for (let j = 1; j < n; j++) if (spanKeys[j - 1] > spanKeys[j]) moved = true;
          if (moved) {
            sortSpans(n);
            reorder(start, p, base, n);
          }
        }
        spanTop = base;
        return p;
      }
      case T_OBJ: {
        const n = w[p + 1];
        o[p] = x;
        o[p + 1] = n;
        const start = p + 2;
        const base = spanTop;
        let renamedKey = false;
        p = start;
        for (let i = 0; i < n; i++) {
          const id = w[p];
          // a key named after a thread, or naming one inside ("r:writer0"), is renamed as a string is
          const key = renameId(id);
          if (key !== id) renamedKey = true;
          pushSpan(p);
          o[p] = key;
          p = rename(p + 1, byKey(at, id));
        }
        pushSpan(p);
        if (renamedKey) {
          // a key named after a thread was renamed: the record's keys are sorted again, as the codec writes them
          room(n);
          for (let j = 0; j < n; j++) ((spanOrder[j] = j), (spanKeys[j] = codec.stringOf(o[spans[base + j]])));
          sortSpans(n);
          reorder(start, p, base, n);
        }
        spanTop = base;
        return p;
      }
      default:
        o[p] = x;
        return p + 1;
    }
  }

  /** Writes the state `words` with perm applied (thread i's state moves to perm[i]) to out; returns its words. */
  function permuteWords(words: Int32Array, length: number): Int32Array {
    w = words;
    out.reset();
    out.ensure(length);
    o = out.words;
    for (let i = 0; i < T; i++) o[perm[i]] = words[i];
    out.length = length;
    spanTop = 0;
    const end = rename(T, rootWhere);
    if (end !== length) throw new Error(`internal: symmetry walked ${end} of ${length} words`);
    return o;
  }

  /** Fills perm and orders from the sorted orders; true when some thread moves. */
  function permFromOrders(): boolean {
    let moved = false;
    for (let i = 0; i < T; i++) perm[i] = i;
    for (let gi = 0; gi < groups.length; gi++) {
      const members = groups[gi].members;
      const order = orders[gi];
      for (let j = 0; j < order.length; j++) {
        if (order[j] !== j) moved = true;
        perm[members[order[j]]] = members[j];
      }
    }
    return moved;
  }

  /**
   * The representative of the state `words[0 .. length)`: each group sorted by (leaf, signature, index), the
   * signature (where the thread occurs in the context) computed only when two threads of a group share a leaf.
   * Returns `words` itself when nothing moves, else a reused buffer (valid until the next call) whose first
   * `length` words are the representative's.
   * Afterwards `lastPerm` holds the permutation applied (thread i -> perm[i]).
   */
  function representativeWords(words: Int32Array, length: number): Int32Array {
    let walked = false;
    let sorted = true;
    for (let gi = 0; gi < groups.length; gi++) {
      const members = groups[gi].members;
      const k = members.length;
      for (let j = 1; j < k; j++) {
        const a = words[members[j - 1]];
        const b = words[members[j]];
        if (a >= b) sorted = false;
        if (a === b && !walked) {
          // a tie: the occurrences in the context break it (one walk for every group)
          w = words;
          sig.fill(0);
          signature(T, rootWhere, 0);
          walked = true;
        }
      }
    }
    if (sorted) {
      for (let i = 0; i < T; i++) perm[i] = i;
      return words;
    }
    for (let gi = 0; gi < groups.length; gi++) {
      const members = groups[gi].members;
      const order = orders[gi];
      // Insertion sort of the k members by (leaf, signature, index): k is small.
      for (let j = 0; j < members.length; j++) {
        let i = j - 1;
        const mj = members[j];
        while (i >= 0) {
          const mi = members[order[i]];
          const d = words[mi] - words[mj] || (walked ? sig[mi] - sig[mj] : 0);
          if (d <= 0) break;
          order[i + 1] = order[i];
          i--;
        }
        order[i + 1] = j;
      }
    }
    if (!permFromOrders()) return words;
    return permuteWords(words, length);
  }

  /**
   * The representative of (leaves, ctx), decoded (for tests and checks; the search uses representativeWords).
   * `identity` is true when nothing moves (then the context is `ctx` itself).
   */
  function representative(leaves: ArrayLike<number>, ctx: Context): Representative {
    const words = packed.encode(leaves, ctx);
    const r = representativeWords(words, words.length);
    if (r.buffer === words.buffer) {
      return { leaves: Int32Array.from(leaves), context: ctx, perm: perm.slice(), identity: true };
    }
    const d = packed.decode(r.slice(0, words.length));
    return { leaves: d.leaves.slice(), context: d.context, perm: perm.slice(), identity: false };
  }

  /** Applies the thread permutation `p` (thread i -> p[i], within groups) to a state's words: a reused buffer (its first `length` words). */
  function permute(words: Int32Array, length: number, p: ArrayLike<number>): Int32Array {
    for (let i = 0; i < T; i++) perm[i] = p[i];
    // orders[g][j] = the position whose thread moves to position j
    groups.forEach((g, gi) => g.members.forEach((m, i) => (orders[gi][g.members.indexOf(p[m])] = i)));
    return permuteWords(words, length);
  }

  /** Applies the thread permutation `p` to a decoded state: for tests and checks. */
  function applyPermutation(leaves: ArrayLike<number>, ctx: Context, p: ArrayLike<number>): { leaves: Int32Array; context: Context } {
    const words = packed.encode(leaves, ctx);
    const d = packed.decode(permute(words, words.length, p).slice(0, words.length));
    return { leaves: d.leaves.slice(), context: d.context };
  }

  return { representative, representativeWords, permute, applyPermutation, lastPerm: perm };
}
