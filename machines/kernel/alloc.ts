// Memory allocation as lockdep sees it (include/linux/sched/mm.h, mm/page_alloc.c, mm/vmscan.c, include/linux/gfp_types.h,
// v6.6): kmalloc(gfp) with GFP_KERNEL / GFP_NOFS / GFP_NOIO / GFP_ATOMIC / GFP_NOWAIT, the fs_reclaim lockdep map held by
// a thread in reclaim (fs_reclaim_acquire/fs_reclaim_release), and the memalloc_nofs_save/restore and
// memalloc_noio_save/restore scopes.
//
// State at a context path (e.g. "mm"), built by memalloc() (or memallocWith() for an initial state):
//   { reclaim: string[]                threads in reclaim, holding the fs_reclaim map (sorted): a direct reclaimer
//                                      between fs_reclaim_acquire and fs_reclaim_release, or kswapd in balance_pgdat
//     nofs: { [thread]: depth }        threads inside memalloc_nofs_save() and how many saves are open (PF_MEMALLOC_NOFS)
//     noio: { [thread]: depth } }      the same for memalloc_noio_save() (PF_MEMALLOC_NOIO)
// Semantics (each call is one action of a step; nothing here blocks or fails):
// - kmalloc(mm, thread, gfp): the allocation always succeeds and changes no state; what it does is what the kernel's
//   might_alloc() (sched/mm.h: fs_reclaim_acquire(gfp); fs_reclaim_release(gfp); might_sleep_if(
//   gfpflags_allow_blocking(gfp))) tells lockdep, the slab and page allocators' pre-alloc hook. In order:
//   1. the fs_reclaim map: page_alloc.c's fs_reclaim_acquire(gfp) first applies current_gfp_context() (sched/mm.h:
//      PF_MEMALLOC_NOIO clears __GFP_IO|__GFP_FS, PF_MEMALLOC_NOFS clears __GFP_FS), then, if __need_reclaim(gfp)
//      (__GFP_DIRECT_RECLAIM set, the task not PF_MEMALLOC) and __GFP_FS is still set, __fs_reclaim_acquire():
//      lock_acquire_exclusive(&__fs_reclaim_map, ...) and at once __fs_reclaim_release. So only GFP_KERNEL (__GFP_FS |
//      __GFP_IO | __GFP_DIRECT_RECLAIM), outside both scopes and outside reclaim, acquires and releases `fs_reclaim`
//      (LockAcquisition.released, like flush_work's map): every lock the thread holds gets an edge into it.
//      GFP_NOFS (no __GFP_FS), GFP_NOIO (no __GFP_IO nor __GFP_FS), GFP_ATOMIC and GFP_NOWAIT (no
//      __GFP_DIRECT_RECLAIM) acquire nothing. A thread in reclaim (below) is PF_MEMALLOC: its allocations never
//      recurse into reclaim and acquire nothing either.
//   2. might_sleep_if(gfpflags_allow_blocking(gfp)): a might_sleep() point (LockAcquisition.sleepOnly) for every gfp
//      with __GFP_DIRECT_RECLAIM (GFP_KERNEL, GFP_NOFS, GFP_NOIO, whatever the scope: a scope removes __GFP_FS or
//      __GFP_IO, not the right to sleep), none for GFP_ATOMIC or GFP_NOWAIT. Under a spinlock or inside
//      rcu_read_lock() it is "BUG: sleeping function called from invalid context".
// - fs_reclaim_acquire(mm, thread) / fs_reclaim_release(mm, thread): the thread is in reclaim and HOLDS the fs_reclaim
//   map in between: direct reclaim (vmscan.c __perform_reclaim: fs_reclaim_acquire(gfp_mask) then
//   memalloc_noreclaim_save(), PF_MEMALLOC) or kswapd (balance_pgdat: __fs_reclaim_acquire() in a PF_MEMALLOC task),
//   while it runs shrinkers and writeback. Every lock it takes there gets an edge fs_reclaim -> L, so a thread that
//   holds L and calls kmalloc(GFP_KERNEL) (L -> fs_reclaim) closes "possible circular locking dependency" L ->
//   fs_reclaim -> L, even when no interleaving deadlocks; with GFP_NOFS, or inside memalloc_nofs_save(), there is no
//   such edge. A second fs_reclaim_acquire by a thread already in reclaim is a misuse (the kernel's PF_MEMALLOC task
//   would not acquire it; __fs_reclaim_acquire twice is lockdep's recursive locking).
// - memalloc_nofs_save(mm, thread) / memalloc_nofs_restore(mm, thread) (sched/mm.h): set PF_MEMALLOC_NOFS and restore
//   the saved bit; properly nested saves and restores are a depth count. memalloc_noio_save/restore likewise for
//   PF_MEMALLOC_NOIO. A restore without a save is a misuse.
// Lock order: the map is one class, `fs_reclaim` (STATIC_LOCKDEP_MAP_INIT("fs_reclaim", &__fs_reclaim_map)), at
// `${mm}.reclaim`; it has no lockdep wait type (LD_WAIT_INV), so only the might_sleep() point is wait-checked. Not
// modelled: allocation failure (-ENOMEM paths), __GFP_NOFAIL, __GFP_NOLOCKDEP, the MMU notifier map that
// fs_reclaim_acquire also takes (CONFIG_MMU_NOTIFIER), memalloc_noreclaim_save as a call of its own (fs_reclaim_acquire
// implies it), PF_MEMALLOC_PIN.
// Params: { mm: path, thread, gfp?, name? } (name = the allocation's name in reports, default `kmalloc(GFP_...)`).
import type { Context, LockAcquisition, LockEffect } from '../../explorer/model.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import type { Step } from './locks.ts';
import { getIn, insertSorted, ownValue, removeOne, updateIn, withoutKey } from './path.ts';
import { kAssign } from './types.ts';

/** The gfp masks kmalloc() takes (include/linux/gfp_types.h). */
export type Gfp = 'GFP_KERNEL' | 'GFP_NOFS' | 'GFP_NOIO' | 'GFP_ATOMIC' | 'GFP_NOWAIT';
const GFPS: readonly Gfp[] = ['GFP_KERNEL', 'GFP_NOFS', 'GFP_NOIO', 'GFP_ATOMIC', 'GFP_NOWAIT'];

/** The allocation context (see the header). */
export interface MemallocState {
  reclaim: string[];
  nofs: Record<string, number>;
  noio: Record<string, number>;
}
/** Params of the allocation actions. */
export interface AllocParams {
  /** Context path of the memalloc() slice. */
  mm: string;
  thread: string;
  /** kmalloc only. */
  gfp?: Gfp;
  /** kmalloc only: the allocation's name in reports (default `kmalloc(GFP_...)`). */
  name?: string;
}

/** Nobody in reclaim, no memalloc_nofs/noio scope open. */
export const memalloc = (): MemallocState => ({ reclaim: [], nofs: {}, noio: {} });
/**
 * Initial state: `reclaim` threads already in reclaim (holding fs_reclaim, after fs_reclaim_acquire), `nofs` / `noio`
 * threads inside that many memalloc_nofs_save() / memalloc_noio_save() calls.
 */
export function memallocWith(o: { reclaim?: string[]; nofs?: Record<string, number>; noio?: Record<string, number> }): MemallocState {
  const depths = (what: string, r: Record<string, number> = {}) => {
    for (const [t, n] of Object.entries(r)) if (!(Number.isInteger(n) && n >= 1)) throw new Error(`memallocWith: the ${what} depth of ${t} must be an integer >= 1, got ${n}`);
    return Object.fromEntries(Object.keys(r).sort().map((t) => [t, r[t]!]));
  };
  const reclaim = [...new Set(o.reclaim ?? [])].sort();
  return { reclaim, nofs: depths('nofs', o.nofs), noio: depths('noio', o.noio) };
}

const FS_RECLAIM = 'fs_reclaim';
const mapPath = (mm: string) => `${mm}.reclaim`;
const inReclaim = (s: MemallocState, t: string) => s.reclaim.includes(t);
const inScope = (s: MemallocState, t: string) => (ownValue(s.nofs, t) ?? 0) > 0 || (ownValue(s.noio, t) ?? 0) > 0;
function misuse(p: AllocParams, what: string): never {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} (memalloc context at "${p.mm}")`);
}
const gfpOf = (p: AllocParams): Gfp => {
  if (p.gfp === undefined || !GFPS.includes(p.gfp)) misuse(p, `called kmalloc with gfp ${JSON.stringify(p.gfp)}: use one of ${GFPS.join(', ')}`);
  return p.gfp;
};
/** gfpflags_allow_blocking(): __GFP_DIRECT_RECLAIM is set. */
const mayBlock = (gfp: Gfp) => gfp === 'GFP_KERNEL' || gfp === 'GFP_NOFS' || gfp === 'GFP_NOIO';
const fsReclaimMap = (p: AllocParams, o: { released: boolean }): LockAcquisition => ({
  path: mapPath(p.mm), name: FS_RECLAIM, mode: 'write', thread: p.thread, try: false, ...(o.released ? { released: true } : {}),
});
const holdsMap = (context: Context, path: string, thread: string) => {
  const v = getIn(context, path);
  return Array.isArray(v) && v.includes(thread) ? 'write' as const : null;
};

/** kmalloc's declaration: the fs_reclaim map acquired and released, then the might_sleep() point (see the header). */
const kmallocEffect: LockEffect = {
  kind: 'alloc',
  acquires: (p: AllocParams, context: Context) => {
    const gfp = gfpOf(p);
    const s: MemallocState = getIn(context, p.mm);
    const out: LockAcquisition[] = [];
    if (gfp === 'GFP_KERNEL' && !inReclaim(s, p.thread) && !inScope(s, p.thread)) out.push(fsReclaimMap(p, { released: true }));
    if (mayBlock(gfp)) out.push({ path: p.mm, name: p.name ?? `kmalloc(${gfp})`, mode: 'write', thread: p.thread, try: false, sleepOnly: true });
    return out.length ? out : null;
  },
  holds: holdsMap,
};
/** fs_reclaim_acquire / fs_reclaim_release's declarations: the map held in between. */
const reclaimEffect = (o: { acquire: boolean }): LockEffect => ({
  kind: 'alloc',
  acquires: (p: AllocParams) => (o.acquire ? fsReclaimMap(p, { released: false }) : null),
  lockOf: (p: AllocParams) => ({ path: mapPath(p.mm), name: FS_RECLAIM }),
  ...(o.acquire ? {} : { releases: (p: AllocParams) => ({ path: mapPath(p.mm), thread: p.thread }) }),
  holds: holdsMap,
});

const update = (fn: (s: MemallocState, p: AllocParams) => MemallocState) =>
  kAssign(({ context }, p: AllocParams) => updateIn(context, p.mm, (s: MemallocState) => fn(s, p)));
const save = (scope: 'nofs' | 'noio') => update((s, p) => ({ ...s, [scope]: { ...s[scope], [p.thread]: (ownValue(s[scope], p.thread) ?? 0) + 1 } }));
const restore = (scope: 'nofs' | 'noio') =>
  update((s, p) => {
    const n = ownValue(s[scope], p.thread);
    if (n === undefined) misuse(p, `called memalloc_${scope}_restore without memalloc_${scope}_save`);
    return { ...s, [scope]: n > 1 ? { ...s[scope], [p.thread]: n - 1 } : withoutKey(s[scope], p.thread) };
  });

/** Assign actions of the allocation primitives (in kernelActions). */
export const allocActions = {
  // kmalloc(size, gfp): might_alloc(gfp); the allocation itself changes no modelled state
  kmalloc: Object.assign(
    kAssign(({ context }, p: AllocParams) => {
      gfpOf(p);
      getIn(context, p.mm);
      return context;
    }),
    { lockEffect: kmallocEffect },
  ),
  fs_reclaim_acquire: Object.assign(
    update((s, p) => {
      if (inReclaim(s, p.thread)) misuse(p, 'called fs_reclaim_acquire while already in reclaim');
      return { ...s, reclaim: insertSorted(s.reclaim, p.thread) };
    }),
    { lockEffect: reclaimEffect({ acquire: true }) },
  ),
  fs_reclaim_release: Object.assign(
    update((s, p) => {
      const rest = removeOne(s.reclaim, p.thread);
      if (rest === null) misuse(p, 'called fs_reclaim_release outside reclaim');
      return { ...s, reclaim: rest };
    }),
    { lockEffect: reclaimEffect({ acquire: false }) },
  ),
  memalloc_nofs_save: save('nofs'),
  memalloc_nofs_restore: restore('nofs'),
  memalloc_noio_save: save('noio'),
  memalloc_noio_restore: restore('noio'),
};

// ---------------------------------------------------------------------------------------------
// Call helpers (each a step fragment: spread it into a transition, or concatenate its actions).

const P = (mm: string, thread: string): AllocParams => ({ mm, thread });
const act = (type: string, params: AllocParams) => ({ type, params });

/**
 * kmalloc(size, gfp) by `thread` with the memalloc context at `mm`: always succeeds; GFP_KERNEL outside a
 * memalloc_nofs/noio scope and outside reclaim acquires and releases fs_reclaim, GFP_KERNEL/NOFS/NOIO may sleep.
 *   alloc: oneEvent('writer', 'kmalloc', { ...kmalloc('mm', 'writer', 'GFP_KERNEL'), target: 'unlock' })
 */
export const kmalloc = (mm: string, thread: string, gfp: Gfp, name?: string): Step => {
  if (!GFPS.includes(gfp)) throw new Error(`kmalloc(mm, thread, gfp, name?): gfp must be one of ${GFPS.join(', ')}, got ${JSON.stringify(gfp)}`);
  return { actions: [act('kmalloc', name === undefined ? { mm, thread, gfp } : { mm, thread, gfp, name })] };
};
/** fs_reclaim_acquire(): `thread` enters reclaim (direct reclaim or kswapd) and holds the fs_reclaim map. */
export const fs_reclaim_acquire = (mm: string, thread: string): Step => ({ actions: [act('fs_reclaim_acquire', P(mm, thread))] });
/** fs_reclaim_release(): `thread` leaves reclaim. */
export const fs_reclaim_release = (mm: string, thread: string): Step => ({ actions: [act('fs_reclaim_release', P(mm, thread))] });
/** memalloc_nofs_save(): until the matching restore, GFP_KERNEL allocations of `thread` are GFP_NOFS. */
export const memalloc_nofs_save = (mm: string, thread: string): Step => ({ actions: [act('memalloc_nofs_save', P(mm, thread))] });
/** memalloc_nofs_restore(flags). */
export const memalloc_nofs_restore = (mm: string, thread: string): Step => ({ actions: [act('memalloc_nofs_restore', P(mm, thread))] });
/** memalloc_noio_save(): until the matching restore, allocations of `thread` are GFP_NOIO (so no __GFP_FS either). */
export const memalloc_noio_save = (mm: string, thread: string): Step => ({ actions: [act('memalloc_noio_save', P(mm, thread))] });
/** memalloc_noio_restore(flags). */
export const memalloc_noio_restore = (mm: string, thread: string): Step => ({ actions: [act('memalloc_noio_restore', P(mm, thread))] });

// ---------------------------------------------------------------------------------------------
// Views.

/** The threads in reclaim, holding fs_reclaim (sorted). */
export const fsReclaimers = (context: Context, mm: string): string[] => (getIn(context, mm) as MemallocState).reclaim;
/** Whether `thread`'s GFP_KERNEL allocations lose __GFP_FS (current_gfp_context: inside memalloc_nofs_save or memalloc_noio_save). */
export const memallocNofs = (context: Context, mm: string, thread: string): boolean => inScope(getIn(context, mm), thread);

// ---------------------------------------------------------------------------------------------
// Footprints (explorer/reduce/declare.ts): every action writes only the slice (kmalloc nothing of it); `reclaim` is a
// sorted set of thread names, which symmetry re-sorts.
declareFootprints(allocActions, Object.fromEntries(Object.keys(allocActions).map((n) => [n, n === 'kmalloc' ? { reads: ['{mm}'] } : { writes: ['{mm}'], sets: ['{mm}.reclaim'] }])));

// ---------------------------------------------------------------------------------------------
// Declared lowerings (explorer/compile/lower/declared.ts): the scopes are records keyed by thread (as rcu.ts's
// readers), `reclaim` a sorted list. A thread name the record operations cannot treat as the functions do declines
// (the function runs); a misuse BAILs and the function reports it.
const byThread = <T>(fn: (p: AllocParams) => T) => L.byPlainThread<AllocParams, T>(fn);
const depthOf = (p: AllocParams, scope: 'nofs' | 'noio') => L.readOpt(p.mm, scope, p.thread);
const lowerSave = (scope: 'nofs' | 'noio') => byThread((p) => [L.recPut(L.path(p.mm, scope), p.thread, L.plus(L.coalesce(depthOf(p, scope), 0), 1))]);
const lowerRestore = (scope: 'nofs' | 'noio') =>
  byThread((p) => [
    L.check(L.ne(depthOf(p, scope), L.lit(undefined))),
    L.recWhen(L.lt(L.lit(1), depthOf(p, scope)), [L.recPut(L.path(p.mm, scope), p.thread, L.minus(depthOf(p, scope), 1))], [L.recDelete(L.path(p.mm, scope), p.thread)]),
  ]);
L.declareLowerings(allocActions, {
  kmalloc: () => [],
  fs_reclaim_acquire: (p: AllocParams) => [L.check(L.not(L.includes(L.path(p.mm, 'reclaim'), p.thread))), L.insertSorted(L.path(p.mm, 'reclaim'), p.thread)],
  fs_reclaim_release: (p: AllocParams) => [L.removeOne(L.path(p.mm, 'reclaim'), p.thread)],
  memalloc_nofs_save: lowerSave('nofs'),
  memalloc_nofs_restore: lowerRestore('nofs'),
  memalloc_noio_save: lowerSave('noio'),
  memalloc_noio_restore: lowerRestore('noio'),
});
