// The kernel primitives' declared lowerings against their functions, on random contexts: every declared guard
// gives the function's truth (or BAILs), every declared action the words of the function's result (or BAILs, or
// declines its params: the function runs), also a few actions in a row on one state, on one primitive or two
// (places found by one action used by the next), each row run twice (the second successor takes the places the
// first found). The slices come in the shapes the primitives make and in odd ones a user's model may reach:
// empty and full lists, duplicates, a holder that is not the caller, extra fields, the slice at the top, inside
// a record keyed by thread or inside an array, thread names that sort before or after the others or are array
// indexes; and now and then a field of another kind, or missing.
import { describe, expect, it } from 'vitest';
import { ContextCodec, WordBuffer } from '../../../../explorer/codec.ts';
import * as L from '../../../../explorer/compile/lower/declared.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import { lowerAssign, lowerGuardFn } from '../../../../explorer/compile/lower/plans.ts';
import { BAIL } from '../../../../explorer/compile/lower/words.ts';
import { btrfsTransActions, btrfsTransGuards, folioActions, folioGuards, lockActions, lockGuards, pipeActions, pipeGuards, workqueueActions, workqueueGuards, workqueueWith } from '../../../../machines/kernel/index.ts';
import { localActions as sixActions, localGuards as sixGuards } from '../../../../machines/bcachefs-fiemap/locks.ts';
import { expectWritesLogged, runDeclaredAction, runOnCopy } from '../../../helpers/declared-action.ts';
import { rng } from '../../../helpers/rng.ts';

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const THREADS = ['a', 'b', 'T', 'zz', '0', '10', 'w1'];
const list = <T>(r: R, n: number, f: () => T): T[] => Array.from({ length: Math.floor(r() * (n + 1)) }, f);
const sorted = <T>(xs: T[]) => xs.slice().sort();
const maybe = (r: R, p: number) => r() < p;
/** Sometimes a field too many (keys sorting first, last, and an array index). */
const extra = (r: R, o: Record<string, unknown>) => (maybe(r, 0.15) ? { ...o, [pick(r, ['A', 'zzz', '0'])]: pick(r, [1, 'x', null, ['a']]) } : o);
/** Values of every kind, for a field of a slice no primitive would make. */
const ODD = [null, 0, 1, 2.5, -1, true, false, '', 'a', 'r:a', 'h:a', [], [1], [1, 'a'], ['a', null], [['a']], {}, { a: 1 }, { '0': 'a' }];
/** The slice with one field set to a value of another kind, or removed. */
function garble(r: R, slice: unknown): unknown {
  const s = { ...(slice as Record<string, unknown>) };
  const k = pick(r, Object.keys(s));
  if (maybe(r, 0.2)) delete s[k];
  else s[k] = pick(r, ODD);
  return s;
}

/** A primitive: its registries, a random slice, random params for a slice at `path`. */
interface Prim {
  name: string;
  guards: Record<string, unknown>;
  actions: Record<string, unknown>;
  /** The names of the registries that are this primitive's. */
  names: RegExp;
  slice: (r: R) => unknown;
  params: (r: R, path: string, name: string, threads: string[]) => Record<string, unknown>;
}

const thread = (r: R) => pick(r, THREADS);
/** A thread named in the slice (a holder, a waiter), or any. */
const threadIn = (r: R, threads: string[]) => (threads.length > 0 && maybe(r, 0.7) ? pick(r, threads) : thread(r));
/** The thread names a slice holds (as values, in "tag:thread" entries, as record keys). */
function threadsOf(v: unknown, into: string[] = []): string[] {
  if (typeof v === 'string') {
    const t = v.slice(v.indexOf(':') + 1);
    if (THREADS.includes(t)) into.push(t);
  } else if (Array.isArray(v)) for (const x of v) threadsOf(x, into);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (THREADS.includes(k)) into.push(k);
      threadsOf(x, into);
    }
  }
  return into;
}
const holder = (r: R) => (maybe(r, 0.4) ? null : thread(r));
const lockP = (r: R, lock: string, _name: string, threads: string[]) => ({ lock, thread: threadIn(r, threads) });

const PRIMS: Prim[] = [
  {
    name: 'mutex',
    names: /^(mutex|spin)_/,
    guards: lockGuards,
    actions: lockActions,
    slice: (r) => extra(r, { owner: holder(r) }),
    params: lockP,
  },
  {
    name: 'rwsem',
    names: /^rwsem_/,
    guards: lockGuards,
    actions: lockActions,
    slice: (r) => {
      const s: Record<string, unknown> = {
        owner: holder(r),
        readers: sorted(list(r, 3, () => thread(r))),
        waiters: list(r, 4, () => `${pick(r, ['r', 'w'])}:${thread(r)}`),
        handoff: maybe(r, 0.3),
        granted: sorted(list(r, 2, () => thread(r))),
      };
      if (maybe(r, 0.3)) s.readerSteal = maybe(r, 0.5);
      return extra(r, s);
    },
    params: lockP,
  },
  {
    name: 'percpu rwsem',
    names: /^percpu_/,
    guards: lockGuards,
    actions: lockActions,
    slice: (r) => extra(r, { writer: holder(r), block: maybe(r, 0.5), readers: sorted(list(r, 3, () => thread(r))) }),
    params: lockP,
  },
  {
    name: 'sb_writers',
    names: /^(sb|percpu)_/,
    guards: lockGuards,
    actions: lockActions,
    slice: (r) => extra(r, { frozen: Math.floor(r() * 5), rw_sem: [0, 1, 2].map(() => ({ writer: holder(r), block: maybe(r, 0.5), readers: sorted(list(r, 2, () => thread(r))) })) }),
    params: (r, sb, name, threads) => (name.startsWith('sb_') ? { sb, level: Math.floor(r() * 5) } : { lock: `${sb}.rw_sem.${Math.floor(r() * 3)}`, thread: threadIn(r, threads) }),
  },
  {
    name: 'folio',
    names: /^folio_/,
    guards: folioGuards,
    actions: folioActions,
    slice: (r) => {
      const entry = (tags: string[]) => `${pick(r, tags)}:${thread(r)}`;
      const s: Record<string, unknown> = { owner: holder(r), waiters: list(r, 3, () => entry(['0', '1', '4', '5', '6'])), woken: sorted(list(r, 2, () => entry(['0', '3', 'h']))) };
      if (maybe(r, 0.3)) s.unfairness = pick(r, [0, 1, 5, null]);
      return extra(r, s);
    },
    params: lockP,
  },
  {
    name: 'six lock',
    names: /^six_/,
    guards: sixGuards,
    actions: sixActions,
    slice: (r) =>
      extra(r, {
        readers: sorted(list(r, 3, () => thread(r))),
        intent: holder(r),
        intentWaiters: list(r, 2, () => thread(r)),
        write: maybe(r, 0.3),
        writePending: maybe(r, 0.3),
        readWaiters: sorted(list(r, 2, () => thread(r))),
        paths: sorted(list(r, 2, () => thread(r))),
      }),
    params: lockP,
  },
  {
    name: 'pipe',
    names: /^pipe_/,
    guards: pipeGuards,
    actions: pipeActions,
    slice: (r) => {
      const capacity = 1 + Math.floor(r() * 3);
      return extra(r, { count: Math.floor(r() * (capacity + 1)), capacity, closed: maybe(r, 0.3) });
    },
    params: (r, pipe, _name, threads) => ({ pipe, thread: threadIn(r, threads) }),
  },
  {
    name: 'workqueue',
    names: /^wq_/,
    guards: workqueueGuards,
    actions: workqueueActions,
    slice: (r) => {
      const items = pick(r, [['g0', 'g1'], ['x'], ['b', 'a', 'c']]);
      const running: Record<string, unknown> = {};
      for (const i of items) running[i] = maybe(r, 0.6) ? null : thread(r);
      const flushers: Record<string, unknown> = {};
      for (const t of list(r, 2, () => thread(r))) flushers[t] = list(r, 3, () => pick(r, items) + (maybe(r, 0.3) ? '#queued' : ''));
      return extra(r, {
        pending: list(r, 3, () => pick(r, items)),
        running,
        canceling: list(r, 1, () => pick(r, items)),
        flushers,
        draining: maybe(r, 0.3),
        droppedWhileDraining: maybe(r, 0.2),
      });
    },
    params: (r, wq, _name, threads) => {
      const p: Record<string, unknown> = { wq, thread: threadIn(r, threads) };
      if (maybe(r, 0.9)) p.item = pick(r, ['g0', 'g1', 'x', 'a', 'b', 'c', 'zz']);
      if (maybe(r, 0.5)) p.items = pick(r, [['g0', 'g1'], ['g1', 'g0'], ['x'], ['a', 'b', 'c'], ['c', 'a', 'b'], ['g0', 'g0'], ['a', 'a', 'b']]);
      return p;
    },
  },
  {
    name: 'btrfs transaction',
    names: /^btrfs_/,
    guards: btrfsTransGuards,
    actions: btrfsTransActions,
    slice: (r) => {
      const generation = Math.floor(r() * 4);
      const rec = (ts: string[]) => Object.fromEntries(ts.map((t) => [t, Math.floor(r() * (generation + 2))]));
      return extra(r, {
        running: maybe(r, 0.3)
          ? null
          : { transid: generation, state: Math.floor(r() * 4), writers: sorted(list(r, 3, () => thread(r))), extwriters: sorted(list(r, 2, () => thread(r))), committer: holder(r) },
        committing: maybe(r, 0.6) ? null : { transid: Math.max(0, generation - 1), state: pick(r, [4, 5]), committer: thread(r) },
        generation,
        committed: Math.max(0, generation - 1 - Math.floor(r() * 2)),
        handles: rec(list(r, 3, () => thread(r))),
        commitWaits: rec(list(r, 2, () => thread(r))),
      });
    },
    params: (r, fs, _name, threads) => {
      const p: Record<string, unknown> = { fs, thread: threadIn(r, threads) };
      if (maybe(r, 0.9)) p.type = pick(r, ['TRANS_START', 'TRANS_JOIN', 'TRANS_JOIN_NOLOCK', 'TRANS_ATTACH', 'TRANS_JOIN_NOSTART']);
      return p;
    },
  },
];

/** Where a slice goes: the top, nested records, a record keyed by thread (with an array index key), an array. */
const PLACES: Array<{ path: string; wrap: (slice: unknown, other: () => unknown) => Record<string, unknown> }> = [
  { path: 'lk', wrap: (s) => ({ lk: s }) },
  { path: 'sb.inner', wrap: (s, o) => ({ sb: { A: 1, inner: s, zz: o() } }) },
  { path: 'per.b', wrap: (s, o) => ({ per: { '0': o(), a: o(), b: s, zz: o() } }) },
  { path: 'arr.1', wrap: (s, o) => ({ arr: [o(), s, 3] }) },
];

interface Placed {
  prim: Prim;
  path: string;
}

/**
 * A context with one or two primitives' slices at random places, and fields around them that sort before and
 * after; `odd`: a slice has a field no primitive would put there (of another kind, or missing).
 */
function contextFor(r: R, first: Prim): { ctx: Record<string, unknown>; placed: Placed[]; odd: boolean } {
  const places = PLACES.slice();
  const placed: Placed[] = [];
  let ctx: Record<string, unknown> = { A: pick(r, [1, 'x']), n: 2, zz: list(r, 2, () => thread(r)) };
  const odd = maybe(r, 0.15);
  for (const prim of maybe(r, 0.3) ? [first, pick(r, PRIMS)] : [first]) {
    const place = places.splice(Math.floor(r() * places.length), 1)[0];
    const slice = odd && placed.length === 0 ? garble(r, prim.slice(r)) : prim.slice(r);
    ctx = { ...ctx, ...place.wrap(slice, () => prim.slice(r)) };
    placed.push({ prim, path: place.path });
  }
  return { ctx, placed, odd };
}

const declaredNames = (prim: Prim, kind: 'guard' | 'action') => {
  const reg = kind === 'guard' ? prim.guards : prim.actions;
  return Object.keys(reg).filter((k) => prim.names.test(k) && L.declaredLowering(kind === 'guard' ? reg[k] : (reg[k] as any)?.assignment) !== undefined);
};

/** The words of fn's result, or 'throws' when it throws or the result does not encode (a ModelError of the search). */
function wordsOf(codec: ContextCodec, fn: () => unknown): number[] | 'throws' {
  const out = new WordBuffer(64);
  try {
    codec.encode(fn(), out);
  } catch {
    return 'throws';
  }
  return Array.from(out.view());
}

/** A seeded run: its generator, and a codec and linker of its own (one string table). */
function run(seed: number): { r: R; codec: ContextCodec; linker: Linker } {
  const codec = new ContextCodec(true);
  return { r: rng(seed), codec, linker: new Linker(codec, 0) };
}

function encoded(codec: ContextCodec, ctx: unknown): { words: Int32Array; decoded: unknown } {
  const buf = new WordBuffer(64);
  codec.encode(ctx, buf);
  const words = buf.view().slice();
  return { words, decoded: codec.decode(words, 0)[0] };
}

/** What XState's assign does with the function's patch. */
const runJs = (action: any, ctx: unknown, p: unknown): unknown => ({ ...(ctx as object), ...action.assignment({ context: ctx, event: { type: 'e' } }, p) });

/**
 * A primitive's action on `ctx`, on the words against the function: 'declined' (no declaration for these params:
 * the function runs), 'misuse' (BAIL where the function throws), 'bailed', or 'agreed' (anything else fails).
 */
function outcome(action: any, p: unknown, ctx: unknown): 'declined' | 'misuse' | 'bailed' | 'agreed' {
  if (lowerAssign(action.assignment, p).plan === null) return 'declined';
  const codec = new ContextCodec(true);
  const op = { name: 'action', decl: L.declaredLowering(action.assignment) as L.ActionDecl, js: (c: unknown, q: unknown) => runJs(action, c, q) };
  return runDeclaredAction(codec, new Linker(codec, 0), op, p, ctx);
}

describe('kernel primitives: declared lowerings against their functions, on random contexts', () => {
  it('guards give the function truth, or BAIL', () => {
    const { r, codec, linker } = run(71);
    const tally = { agreed: 0, bailed: 0 };
    for (const prim of PRIMS) {
      const names = declaredNames(prim, 'guard');
      for (let i = 0; i < 100; i++) {
        const { ctx, placed } = contextFor(r, prim);
        const { words, decoded } = encoded(codec, ctx);
        const threads = threadsOf(decoded);
        linker.newState();
        for (const name of names) {
          const p = prim.params(r, placed[0].path, name, threads);
          const fn = prim.guards[name] as (a: unknown, p: unknown) => unknown;
          const plan = lowerGuardFn(fn, p).plan;
          if (plan === null) continue;
          let want: boolean | 'throws';
          try {
            want = !!fn({ context: decoded }, p);
          } catch {
            want = 'throws';
          }
          let got: boolean | 'throws';
          try {
            got = linker.guard(plan)(words);
          } catch (e) {
            if (e !== BAIL) throw e;
            tally.bailed++;
            continue;
          }
          expect({ prim: prim.name, name, ctx: decoded, p, got }).toEqual({ prim: prim.name, name, ctx: decoded, p, got: want });
          tally.agreed++;
        }
      }
    }
    // Not vacuous: thousands of guards computed on the words, few BAILs (a list holding a list, an odd field).
    expect(tally.agreed).toBeGreaterThan(4000);
    expect(tally.bailed).toBeLessThan(tally.agreed / 10);
  });

  it('actions, alone and a few in a row, give the words of the function result, or BAIL', () => {
    const { r, codec, linker } = run(72);
    const tally = { agreed: 0, bailed: 0, misuses: 0, odd: 0 };
    for (const prim of PRIMS) {
      for (let i = 0; i < 300; i++) {
        const { ctx, placed, odd } = contextFor(r, prim);
        const { words: before, decoded } = encoded(codec, ctx);
        // One to three actions in a row (on either primitive), each mostly one the function takes from where the
        // one before left the context (a few tries), else one it reports as a misuse (the row ends there).
        const seq: Array<{ name: string; action: any; p: unknown }> = [];
        let cur: unknown = decoded;
        for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
          let step: (typeof seq)[number] | undefined;
          let ok = false;
          for (let t = 0; t < 6 && !ok; t++) {
            const at = pick(r, placed);
            const name = pick(r, declaredNames(at.prim, 'action'));
            step = { name, action: at.prim.actions[name], p: at.prim.params(r, at.path, name, threadsOf(cur)) };
            try {
              cur = runJs(step.action, cur, step.p);
              ok = true;
            } catch {
              // a misuse: try another
            }
          }
          seq.push(step!);
          if (!ok) break;
        }
        const plans = seq.map((s) => lowerAssign(s.action.assignment, s.p).plan);
        if (plans.some((pl) => pl === null)) continue;
        const linked = plans.map((pl) => linker.action(pl!));
        const want = wordsOf(codec, () => seq.reduce((c, s) => runJs(s.action, c, s.p), decoded));
        const show = (w: number[] | 'throws') => (w === 'throws' ? w : codec.decode(Int32Array.from(w), 0)[0]);
        linker.newState();
        // twice: the second run takes the places the first found (as a state's second successor does)
        for (let twice = 0; twice < 2; twice++) {
          const out = runOnCopy(linked, before);
          if (out === null) {
            if (want === 'throws') tally.misuses++;
            else tally.bailed++;
            continue;
          }
          const got = Array.from(out.view());
          // A slice no primitive makes (a list of numbers for waiters, a missing field the function copies as
          // undefined) may make the function throw where the words compute a state; values must still agree.
          if (odd && want === 'throws') {
            tally.odd++;
            continue;
          }
          const seqShown = seq.map((s) => [s.name, s.p]);
          expect({ seq: seqShown, ctx: decoded, twice, got: show(got) }).toEqual({ seq: seqShown, ctx: decoded, twice, got: show(want) });
          expect(got).toEqual(want);
          expectWritesLogged(seq.map((s) => s.name).join(', '), before, out);
          tally.agreed++;
        }
      }
    }
    // Not vacuous: most rows computed on the words, misuses met (each BAILs), few other BAILs.
    expect(tally.agreed).toBeGreaterThan(3000);
    expect(tally.misuses).toBeGreaterThan(100);
    expect(tally.bailed).toBeLessThan(tally.agreed / 10);
  });
});

// Discrepancies the random contexts above found, each on its own.
describe('kernel primitives: declarations that did not compute what their functions compute', () => {
  it('flush_workqueue naming an item twice declines (the size check passed with a key of running left out)', () => {
    const ctx = { wq: workqueueWith(['g0', 'g1'], { pending: ['g1'], running: { g0: 'k0', g1: 'k1' } }) };
    // the function waits for g0's run and g1's run and pending instance: ['g0', 'g1', 'g1']
    expect(['declined', 'bailed']).toContain(outcome(workqueueActions.wq_flush_workqueue_begin, { wq: 'wq', thread: 'f', items: ['g0', 'g0'] }, ctx));
    expect(outcome(workqueueActions.wq_flush_workqueue_begin, { wq: 'wq', thread: 'f', items: ['g1', 'g0'] }, ctx)).toBe('agreed');
  });

  it('pipe_read computes count - 1 (count + -1 concatenated a count that is a string)', () => {
    expect(outcome(pipeActions.pipe_read, { pipe: 'p', thread: 'r' }, { p: { count: '2', capacity: 3, closed: false } })).toBe('agreed');
    expect(outcome(pipeActions.pipe_read, { pipe: 'p', thread: 'r' }, { p: { count: 2, capacity: 3, closed: false } })).toBe('agreed');
  });

  it('a queue_work dropped while draining leaves a truthy droppedWhileDraining as it is (it was set to true)', () => {
    const wq = (dropped: unknown) => ({ wq: { ...workqueueWith(['g0'], {}), draining: true, droppedWhileDraining: dropped } });
    for (const dropped of [1, 'yes', false, true]) {
      expect(outcome(workqueueActions.wq_queue_work, { wq: 'wq', thread: 'q', item: 'g0' }, wq(dropped))).toBe('agreed');
      expect(outcome(workqueueActions.wq_mod_delayed_work, { wq: 'wq', thread: 'q', item: 'g0' }, wq(dropped))).toBe('agreed');
    }
  });
});
