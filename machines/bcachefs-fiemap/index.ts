// bcachefs fiemap versus the write path (seed 003, KERNEL.md section 3): folio locks against extents-btree node locks.
//
// Threads (top-level regions):
//   fiemap    bch2_fiemap: walks positions 0..folios-1; at each one lockrestart_do(bch2_next_fiemap_extent)
//             peeks the extents leaf under a six read lock; over a hole it scans the folio of that position
//             for dirty data (bch2_next_fiemap_pagecache_extent -> bch2_fiemap_hole_pagecache ->
//             bch2_seek_pagecache_data); then bch2_trans_unlock + bch2_fill_extent (copy_to_user).
//   writer    buffered write path: folio_lock, then a btree operation on the leaf under the folio lock
//             (folio -> extent btree order, seed 003 cover letter), then the folio is dirty and unlocked.
//   writeback bch2_writepages: folio_lock, folio_clear_dirty_for_io + start writeback, folio_unlock, then
//             the index update inserts the extent (intent + write lock on the leaf). Optional (param).
//   updater   an unrelated btree transaction updating a key in the same leaf (intent then write lock):
//             its write lock bumps the node seq, so a later bch2_trans_relock of fiemap's path fails.
//
// The file has `folios` folio-sized positions; position p is folio p and lives in leaf
// floor(p * leaves / folios). The kernel scans a whole hole range folio by folio with the same
// locking per folio; the model scans the one folio of the position (one folio per fiemap step).
//
// Variants (the hole scan in bch2_next_fiemap_pagecache_extent):
//   v2            blocking folio_lock while holding the leaf read lock (seed 003, v2 of the series)
//   v3            folio_trylock; failure returns -EAGAIN, mapped to a transaction restart (seed 003, v3)
//   unconditional drop_locks_do(trans, blocking scan) on every hole, no nonblocking attempt first
//                 (Brian's first proposal in the thread; Kent: "drop_lock_do() has to be a slowpath thing")
//   final         nonblocking scan first, drop_locks_do(blocking scan) only on -EAGAIN (merged code)
//
// Environment bounds (FM-P4): `writes` and `updates` count the writer's folio-lock-and-btree operations
// and the updater's leaf updates; -1 makes that thread loop for as long as fiemap runs (an unbounded
// environment: it stops only once fiemap has returned, so the environment looping on its own after
// fiemap is done is not mistaken for a fiemap livelock). Writeback runs once per dirty folio and stops
// when the writer is done and nothing is dirty.
//
// Folio locks are machines/kernel/folio.ts (v6.6: bounded stealing from a woken waiter, then handoff); six
// locks are the local ./locks.ts, which hands locks over to queued waiters like six_lock_wakeup (written before
// machines/kernel/btree.ts had its queueing btree_node_lock; switching over is left to do).
import { and as xand, assign, not as xnot, setup } from 'xstate';
import { defineModel, type Context, type ThreadLocations } from '../../explorer/model.ts';
import { folio, folioActions, folioGuards, folioOwner, folioWaiters, folioWaits, folio_lock_fast, folio_lock_wait_state, folio_trylock, type FolioState } from '../kernel/index.ts';
import { localActions, localGuards, localWaits, lp, sixHeldBy, sixLock, type SixState } from './locks.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareAssertions, declareInvariants, declareLowerings } from '../../explorer/compile/lower/declared.ts';

export const VARIANTS = ['v2', 'v3', 'unconditional', 'final'] as const;
export type Variant = (typeof VARIANTS)[number];

interface Ctx {
  leaves: SixState[];
  folios: FolioState[];
  /** folio has SECTOR_dirty sectors (folio_data_offset() finds data in it) */
  dirty: boolean[];
  /** the extents btree has an extent at this position */
  extent: boolean[];
  /** what fiemap decided for each position: '' (not yet), 'extent', 'delalloc', 'hole' */
  reported: string[];
  writerDone: boolean;
  /** fiemap returned: an unbounded environment (writes/updates = -1) stops looping then */
  fiemapDone: boolean;
}

const leafOf = (pos: number, folios: number, leaves: number) => Math.floor((pos * leaves) / folios);
const leafPath = (l: number) => `leaves.${l}`;
const leafName = (l: number) => `extents leaf ${l}`;
const folioPath = (f: number) => `folios.${f}`;
const folioName = (f: number) => `folio ${f}`;

const g = (type: string, params: unknown) => ({ type, params });
const a = (type: string, params: unknown) => ({ type, params });
const and = (...guards: any[]) => xand(guards);

const six = (l: number, t: string) => lp(leafPath(l), t, leafName(l));
const fol = (f: number, t: string) => lp(folioPath(f), t, folioName(f));

/**
 * folio_lock() as two states: `folio_lock` (the call: fast path, or queue as an exclusive waiter) and
 * `folio_lock_wait` (asleep until folio_unlock hands the lock over). FM-P1 looks at states named folio_lock*.
 */
function folioLockStates(t: string, f: number, next: string) {
  return {
    folio_lock: { on: { [`${t}.folio_lock`]: folio_lock_fast(folioPath(f), t, { next, wait: 'folio_lock_wait' }, folioName(f)) } },
    folio_lock_wait: folio_lock_wait_state(`${t}.folio_lock_wake`, folioPath(f), t, next, folioName(f)),
  };
}

/** Does `thread` hold any btree node lock? */
function holdsBtreeLock(ctx: Context, thread: string): boolean {
  // a loop (this runs on every state the search checks): no closure made per call
  const leaves = ctx.leaves as SixState[];
  for (let i = 0; i < leaves.length; i++) if (sixHeldBy(leaves[i], thread)) return true;
  return false;
}

/**
 * The states of one btree update on leaf `l` by `t`: traverse takes intent (btree_node_lock, intent),
 * bch2_trans_commit takes the write lock (bch2_btree_node_lock_write -> six_lock_write, which sets
 * HELD_write and sleeps until readers drain), then unlocks. `commitActions` run with the write lock held.
 */
function btreeUpdate(t: string, l: number, commitActions: unknown[], next: string, commitEvent = `${t}.commit`) {
  const L = six(l, t);
  return {
    // bch2_btree_path_traverse -> btree_node_lock(SIX_LOCK_intent)
    intent_lock: {
      on: {
        [`${t}.intent_lock`]: [
          { guard: g('six_can_intent', L), actions: [a('six_intent_acquire', L)], target: 'write_lock' },
          { actions: [a('six_intent_queue', L)], target: 'intent_wait' },
        ],
      },
    },
    // six_lock_slowpath(intent): sleeping until six_unlock_intent hands it over
    intent_wait: { on: { [`${t}.intent_wake`]: { guard: g('six_intent_granted', L), target: 'write_lock' } } },
    // bch2_trans_commit -> bch2_trans_lock_write -> bch2_btree_node_lock_write
    write_lock: {
      on: {
        [`${t}.write_lock`]: [
          { guard: g('six_write_ready', L), actions: [a('six_write_request', L), a('six_write_acquire', L)], target: 'commit' },
          { actions: [a('six_write_request', L)], target: 'write_wait' },
        ],
      },
    },
    // six_lock_slowpath(write): HELD_write set, waiting for the readers to drain
    write_wait: { on: { [`${t}.write_wake`]: { guard: g('six_write_ready', L), actions: [a('six_write_acquire', L)], target: 'commit' } } },
    // btree_insert_key_leaf, then bch2_btree_node_unlock_write + unlock of the path (bch2_trans_put)
    commit: {
      on: {
        [commitEvent]: {
          actions: [...commitActions, a('six_write_unlock', L), a('six_intent_unlock', L)],
          target: next,
        },
      },
    },
  };
}

function fiemapThread(variant: Variant, folios: number, leaves: number) {
  const t = 'fiemap';
  const states: Record<string, any> = {};
  for (let p = 0; p < folios; p++) {
    const l = leafOf(p, folios, leaves);
    const L = six(l, t);
    const P = fol(p, t);
    const next = p + 1 < folios ? `#fiemap_pos${p + 1}` : '#fiemap_done';
    const holeEntry = variant === 'v2' ? 'folio_lock' : variant === 'unconditional' ? 'drop_locks' : 'folio_trylock';
    const report = (what: 'extent' | 'scan') => a('report', { pos: p, what });
    const s: Record<string, any> = {
      // lockrestart_do -> bch2_trans_begin; bch2_next_fiemap_extent -> bch2_btree_iter_peek_max:
      // traverse takes the leaf read lock; the key (or the hole up to the next key) is read under it.
      traverse: {
        on: {
          'fiemap.peek': [
            { guard: and(g('six_can_read', L), g('extent_at', { pos: p })), actions: [a('six_read_acquire', L), a('six_path_save', L), report('extent')], target: 'cur' },
            { guard: g('six_can_read', L), actions: [a('six_read_acquire', L), a('six_path_save', L)], target: holeEntry },
            { actions: [a('six_read_queue', L)], target: 'peek_wait' },
          ],
        },
      },
      // btree_node_lock slow path: sleeping on the leaf behind a writer (HELD_write), woken by six_unlock_write
      peek_wait: {
        on: {
          'fiemap.peek_wake': [
            { guard: and(g('six_read_granted', L), g('extent_at', { pos: p })), actions: [a('six_path_save', L), report('extent')], target: 'cur' },
            { guard: g('six_read_granted', L), actions: [a('six_path_save', L)], target: holeEntry },
          ],
        },
      },
      // bch2_next_fiemap_extent returned cur (btree key or delalloc extent) with the trans locked;
      // bch2_fiemap then calls bch2_trans_unlock() before bch2_fill_extent().
      cur: {
        meta: { assert: 'curUnderLeafLock' },
        on: { 'fiemap.trans_unlock': { actions: [a('six_read_unlock', L), a('six_path_drop', L)], target: 'fill' } },
      },
      // bch2_fill_extent -> fiemap_fill_next_extent (copy_to_user: may fault, so no btree locks: FM-P3)
      fill: {
        meta: { assert: 'fillWithoutBtreeLocks' },
        on: {
          'fiemap.fill_extent': {
            meta: { progress: true },
            actions: p + 1 < folios ? [] : [a('fiemap_done', {})],
            target: next,
          },
        },
      },
      // folio_data_offset() under the folio lock, then folio_unlock (bch2_seek_pagecache_data)
      scan: { on: { 'fiemap.folio_unlock': { actions: [report('scan'), a('folio_unlock', P)], target: 'cur' } } },
    };
    if (variant === 'v2') {
      // v2 series: bch2_seek_pagecache_data(..., nonblock = false) with the btree locks still held
      Object.assign(s, folioLockStates(t, p, 'scan'));
    } else {
      if (variant === 'v3' || variant === 'final') {
        // bch2_seek_pagecache_data(..., nonblock = true): folio_trylock, -EAGAIN on failure
        s.folio_trylock = {
          on: { 'fiemap.folio_trylock': folio_trylock(folioPath(p), t, { ok: 'scan', fail: variant === 'v3' ? 'restart' : 'drop_locks' }, folioName(p)) },
        };
      }
      if (variant === 'v3') {
        // v3 series: -EAGAIN -> "goto retry" -> bch2_trans_begin(): the leaf lock is dropped and retaken
        s.restart = {
          on: { 'fiemap.trans_begin': { actions: [a('six_read_unlock', L), a('six_path_drop', L)], target: 'traverse' } },
        };
      } else {
        // drop_locks_do(trans, bch2_fiemap_hole_pagecache(..., false)):
        //   bch2_trans_unlock(trans); (_do) ?: bch2_trans_relock(trans)
        s.drop_locks = { on: { 'fiemap.trans_unlock': { actions: [a('six_read_unlock', L)], target: 'folio_lock' } } };
        // blocking folio_lock with no btree locks held
        Object.assign(s, folioLockStates(t, p, 'scan_blocking'));
        // bch2_seek_pagecache_data(..., nonblock = false): folio_data_offset, folio_unlock; then drop_locks_do relocks
        s.scan_blocking = { on: { 'fiemap.folio_unlock': { actions: [report('scan'), a('folio_unlock', P)], target: 'relock' } } };
        // bch2_trans_relock: every should_be_locked path relocks iff its node seq is unchanged,
        // else btree_trans_restart(trans, BCH_ERR_transaction_restart_relock)
        s.relock = {
          on: {
            'fiemap.trans_relock': [
              { guard: g('six_relock_ok', L), actions: [a('six_read_acquire', L)], target: 'cur' },
              { target: 'restart_relock' },
            ],
          },
        };
        // lockrestart_do sees transaction_restart_relock -> bch2_trans_begin(): the path is dropped
        s.restart_relock = { on: { 'fiemap.trans_begin': { actions: [a('six_path_drop', L)], target: 'traverse' } } };
      }
    }
    states[`pos${p}`] = { id: `fiemap_pos${p}`, initial: 'traverse', states: s };
  }
  states.done = { id: 'fiemap_done', type: 'final', meta: { progress: true } };
  return { initial: 'pos0', states };
}

function writerThread(writes: number, folios: number, leaves: number, mode: string) {
  const t = 'writer';
  const states: Record<string, any> = {};
  const n = writes < 0 ? folios : writes;
  for (let i = 0; i < n; i++) {
    const f = i % folios;
    const l = leafOf(f, folios, leaves);
    const P = fol(f, t);
    const L = six(l, t);
    const last = i === n - 1;
    const next = last ? '#writer_done' : `#writer_w${i + 1}`;
    const btreeEntry = mode === 'update' ? 'intent_lock' : 'read_lock';
    const s: Record<string, any> = {
      // bch2_write_begin / __bch2_buffered_write: __filemap_get_folio(FGP_LOCK)
      ...folioLockStates(t, f, btreeEntry),
      // copy into the folio, bch2_set_folio_dirty, folio_unlock (bch2_write_end)
      copy: {
        on: {
          'writer.folio_unlock':
            last && writes < 0
              ? [
                  // unbounded writer: another round while fiemap runs, then stop
                  {
                    guard: xnot(g('fiemap_is_done', {})),
                    actions: [a('set_dirty', { folio: f }), a('folio_unlock', P)],
                    target: '#writer_w0',
                  },
                  { actions: [a('set_dirty', { folio: f }), a('folio_unlock', P), a('writer_done', {})], target: '#writer_done' },
                ]
              : {
                  actions: [a('set_dirty', { folio: f }), a('folio_unlock', P), ...(last ? [a('writer_done', {})] : [])],
                  target: next,
                },
        },
      },
    };
    if (mode === 'update') {
      // [INF] KERNEL.md FM-V2: a btree update of the leaf under the folio lock (intent, then write at commit)
      Object.assign(s, btreeUpdate(t, l, [], 'copy'));
    } else {
      // bch2_folio_set(): extents lookup under the folio lock (six read lock on the leaf)
      s.read_lock = {
        on: {
          'writer.read_lock': [
            { guard: g('six_can_read', L), actions: [a('six_read_acquire', L)], target: 'lookup' },
            { actions: [a('six_read_queue', L)], target: 'read_wait' },
          ],
        },
      };
      // six_lock_slowpath(read): queued behind a pending/held write lock until six_unlock_write hands it over
      s.read_wait = { on: { 'writer.read_wake': { guard: g('six_read_granted', L), target: 'lookup' } } };
      s.lookup = { on: { 'writer.read_unlock': { actions: [a('six_read_unlock', L)], target: 'copy' } } };
    }
    states[`w${i}`] = { id: `writer_w${i}`, initial: 'folio_lock', states: s };
  }
  states.done = { id: 'writer_done', type: 'final' };
  return { initial: n === 0 ? 'done' : 'w0', states };
}

function writebackThread(folios: number, leaves: number) {
  const t = 'writeback';
  const idleOn: Record<string, any> = {};
  const states: Record<string, any> = {};
  for (let f = 0; f < folios; f++) {
    const P = fol(f, t);
    const l = leafOf(f, folios, leaves);
    // write_cache_pages: a PAGECACHE_TAG_DIRTY folio, folio_lock
    // (folio_lock_fast's two transitions, each also guarded by the dirty tag)
    idleOn[`writeback.folio_lock_${f}`] = folio_lock_fast(P.lock, t, { next: `#writeback_f${f}_locked`, wait: `#writeback_f${f}_wait` }, P.name).map(
      (tr: any) => ({ ...tr, guard: and(g('dirty_at', { folio: f }), tr.guard) }),
    );
    states[`f${f}`] = {
      initial: 'folio_lock_wait',
      states: {
        folio_lock_wait: { id: `writeback_f${f}_wait`, ...folio_lock_wait_state('writeback.folio_lock_wake', P.lock, t, 'locked', P.name) },
        // __bch2_writepage: folio_clear_dirty_for_io, folio_start_writeback, folio_unlock
        locked: {
          id: `writeback_f${f}_locked`,
          on: { 'writeback.folio_unlock': { actions: [a('clean', { folio: f }), a('folio_unlock', P)], target: 'intent_lock' } },
        },
        // bch2_write_index_default -> bch2_extent_update: insert the extent into the leaf
        ...btreeUpdate(t, l, [a('insert_extent', { folio: f })], '#writeback_idle', 'writeback.insert_extent'),
      },
    };
  }
  idleOn['writeback.exit'] = { guard: g('writeback_can_exit', {}), target: 'done' };
  return {
    initial: 'idle',
    states: { idle: { id: 'writeback_idle', on: idleOn }, ...states, done: { type: 'final' } },
  };
}

function updaterThread(updates: number, leaves: number) {
  const t = 'updater';
  const states: Record<string, any> = {};
  const n = updates < 0 ? leaves : updates;
  for (let j = 0; j < n; j++) {
    const l = j % leaves;
    const next = j + 1 < n ? `#updater_u${j + 1}` : '#updater_done';
    // bch2_trans_update + bch2_trans_commit of some key in leaf l
    const upd: Record<string, any> = btreeUpdate(t, l, [], next);
    if (updates < 0 && j === n - 1) {
      // unbounded updater: another round while fiemap runs, then stop
      const commit = upd.commit.on['updater.commit'];
      upd.commit.on['updater.commit'] = [{ ...commit, guard: xnot(g('fiemap_is_done', {})), target: '#updater_u0' }, commit];
    }
    states[`u${j}`] = { id: `updater_u${j}`, initial: 'intent_lock', states: upd };
  }
  states.done = { id: 'updater_done', type: 'final' };
  return { initial: n === 0 ? 'done' : 'u0', states };
}

const setAt = <T>(arr: readonly T[], i: number, v: T): T[] => arr.map((x, k) => (k === i ? v : x));

// The model's own guards and actions (the primitives' are folio.ts's and ./locks.ts's).
const modelGuards = {
  extent_at: ({ context }: { context: Ctx }, p: { pos: number }) => context.extent[p.pos],
  dirty_at: ({ context }: { context: Ctx }, p: { folio: number }) => context.dirty[p.folio],
  // writeback has nothing left to do: the writer finished and no folio is dirty
  writeback_can_exit: ({ context }: { context: Ctx }) => context.writerDone && !context.dirty.some((d) => d),
  fiemap_is_done: ({ context }: { context: Ctx }) => context.fiemapDone,
};
const modelActions = {
  set_dirty: assign(({ context }: { context: Ctx }, p: { folio: number }) => ({ dirty: setAt(context.dirty, p.folio, true) })),
  clean: assign(({ context }: { context: Ctx }, p: { folio: number }) => ({ dirty: setAt(context.dirty, p.folio, false) })),
  insert_extent: assign(({ context }: { context: Ctx }, p: { folio: number }) => ({ extent: setAt(context.extent, p.folio, true) })),
  writer_done: assign({ writerDone: true }),
  fiemap_done: assign({ fiemapDone: true }),
  // what bch2_next_fiemap_extent produced for this position: the btree key, or the pagecache scan result
  report: assign(({ context }: { context: Ctx }, p: { pos: number; what: 'extent' | 'scan' }) => ({
    reported: setAt(context.reported, p.pos, p.what === 'extent' ? 'extent' : context.dirty[p.pos] ? 'delalloc' : 'hole'),
  })),
};
// Declared lowerings (explorer/compile/lower/declared.ts): the same reads and writes on the packed words
// (setAt's map over an index past the end keeps the array: the word op BAILs there and the function runs).
declareLowerings(modelGuards, {
  extent_at: (p: { pos: number }) => L.read('extent', p.pos),
  dirty_at: (p: { folio: number }) => L.read('dirty', p.folio),
  writeback_can_exit: () => L.and(L.read('writerDone'), L.noneTruthy(L.path('dirty'))),
  fiemap_is_done: () => L.read('fiemapDone'),
});
declareLowerings(modelActions, {
  set_dirty: (p: { folio: number }) => [L.setAt(L.path('dirty'), p.folio, true)],
  clean: (p: { folio: number }) => [L.setAt(L.path('dirty'), p.folio, false)],
  insert_extent: (p: { folio: number }) => [L.setAt(L.path('extent'), p.folio, true)],
  report: (p: { pos: number; what: 'extent' | 'scan' }) => [
    L.setAt(L.path('reported'), p.pos, p.what === 'extent' ? 'extent' : L.cond(L.read('dirty', p.pos), 'delalloc', 'hole')),
  ],
});

/** A six lock as a short string for trace columns: "R:fiemap I:writer W?" (W? = write pending, q = queued). */
function sixString(s: SixState): string {
  const out: string[] = [];
  if (s.readers.length) out.push(`R:${s.readers.join(',')}`);
  if (s.intent !== null) out.push(`I:${s.intent}`);
  if (s.write) out.push('W');
  else if (s.writePending) out.push('W?');
  if (s.readWaiters.length) out.push(`qR:${s.readWaiters.join(',')}`);
  if (s.intentWaiters.length) out.push(`qI:${s.intentWaiters.join(',')}`);
  return out.length ? out.join(' ') : '-';
}
const folioString = (ctx: Context, path: string) => {
  const owner = folioOwner(ctx, path);
  const waiters = folioWaiters(ctx, path);
  return owner === null ? '-' : owner + (waiters.length ? ` q:${waiters.join(',')}` : '');
};

/** Which position fiemap is at, from its location "pos1.cur". */
const fiemapPos = (loc: string | undefined) => (loc?.startsWith('pos') ? Number(loc.slice(3, loc.indexOf('.'))) : -1);

const model = defineModel({
  name: 'bcachefs-fiemap',
  description: 'bcachefs fiemap delalloc scan vs the write path: folio locks vs extents-btree six locks, restarts and relocks',
  source: 'seed 003 (bcachefs: fiemap delalloc support, Brian Foster / Kent Overstreet, April 2024); KERNEL.md section 3',
  params: {
    folios: { default: 1, description: 'folio-sized file positions fiemap walks (one folio each)', min: 1, max: 3 },
    leaves: { default: 1, description: 'extents btree leaves the positions are spread over (<= folios)', min: 1, max: 3 },
    writes: { default: 1, description: 'buffered writes by the writer (folio i mod folios); -1 = forever', min: -1, max: 4 },
    updates: { default: 1, description: 'leaf updates by the unrelated updater (leaf j mod leaves); -1 = forever', min: -1, max: 4 },
    writeback: { default: true, description: 'run a writeback thread that turns dirty folios into extents' },
    writerLock: {
      default: 'update',
      description: "the writer's btree access under the folio lock: 'update' (intent + write, KERNEL.md FM-V2) or 'read' (bch2_folio_set lookup)",
      choices: ['update', 'read'],
    },
  },
  variants: {
    v2: { description: 'blocking folio_lock in the pagecache scan while holding the leaf read lock (ABBA deadlock)' },
    v3: { description: 'folio_trylock; -EAGAIN restarts the transaction (spins while the folio stays locked)' },
    unconditional: { description: 'always drop_locks_do(blocking scan) over a hole, no nonblocking attempt (relock fails on any leaf update)' },
    final: { description: 'merged: nonblocking scan first, drop_locks_do(blocking scan) only on -EAGAIN' },
  },
  defaultVariant: 'final',
  create({ params, variant }) {
    const folios = Number(params.folios);
    const leaves = Number(params.leaves);
    const writes = Number(params.writes);
    const updates = Number(params.updates);
    if (leaves > folios) throw new Error(`leaves (${leaves}) must not exceed folios (${folios}): every leaf holds at least one position`);
    if (!(VARIANTS as readonly string[]).includes(variant)) throw new Error(`unknown variant ${variant}`);
    const threads: Record<string, any> = {
      fiemap: fiemapThread(variant as Variant, folios, leaves),
      writer: writerThread(writes, folios, leaves, String(params.writerLock)),
    };
    if (params.writeback) threads.writeback = writebackThread(folios, leaves);
    threads.updater = updaterThread(updates, leaves);
    return setup({
      types: {} as { context: Ctx },
      guards: { ...folioGuards, ...localGuards, ...modelGuards } as any,
      actions: { ...folioActions, ...localActions, ...modelActions } as any,
    }).createMachine({
      id: 'bcachefs-fiemap',
      type: 'parallel',
      context: {
        leaves: Array.from({ length: leaves }, sixLock),
        folios: Array.from({ length: folios }, folio),
        dirty: Array.from({ length: folios }, () => false),
        extent: Array.from({ length: folios }, () => false),
        reported: Array.from({ length: folios }, () => ''),
        writerDone: writes === 0,
        fiemapDone: false,
      },
      states: threads,
    });
  },
  invariants: {
    // FM-P1: no btree transaction calls (or sleeps in) a blocking folio_lock while holding a btree node lock.
    // States named folio_lock* are the blocking folio_lock call and its sleep.
    // (Every thread's leaf state name is tested where it starts, after the last '.': no entries, no slices.)
    noFolioLockUnderBtreeLocks: (ctx: Context, threads: ThreadLocations) => {
      for (const t in threads) {
        const loc = threads[t];
        if (loc.startsWith('folio_lock', loc.lastIndexOf('.') + 1) && holdsBtreeLock(ctx, t)) return false;
      }
      return true;
    },
  },
  assertions: {
    // FM-P3: bch2_fill_extent (copy_to_user) runs after bch2_trans_unlock
    fillWithoutBtreeLocks: (ctx: Context) => !holdsBtreeLock(ctx, 'fiemap'),
    // FM-P2: cur was produced under the leaf lock (directly, or after a successful bch2_trans_relock)
    curUnderLeafLock: (ctx: Context, threads: ThreadLocations) => {
      const p = fiemapPos(threads.fiemap);
      const l = leafOf(p, ctx.folios.length, ctx.leaves.length);
      return p >= 0 && (ctx.leaves[l] as SixState).readers.includes('fiemap');
    },
  },
  // who holds and who queues for each lock, on every row of a rendered trace
  watch: {
    leaves: (ctx: Context) => (ctx.leaves as SixState[]).map(sixString).join(' | '),
    folios: (ctx: Context) => (ctx.folios as unknown[]).map((_, i) => folioString(ctx, `folios.${i}`)).join(' | '),
  },
  waits: {
    ...folioWaits,
    ...localWaits,
    // idle writeback is not blocked on a lock: it waits for dirty folios or for the writer to finish
    writeback_can_exit: (ctx: Context) =>
      ctx.writerDone && !ctx.dirty.some((d: boolean) => d) ? null : { resource: 'dirty folios / end of writes', kind: 'work', mode: 'idle', holders: ['writer'] },
  },
});

// FM-P1 on the packed words (explorer/properties/words.ts): a thread in a folio_lock* state holds no leaf's read
// or intent lock (sixHeldBy), over the leaves the context has; more leaves than WORD_LEAVES count as held, so
// such a state is decoded and checked by the function.
const WORD_LEAVES = 3;
const dHoldsBtreeLock = (t: string) =>
  L.or(
    L.lt(L.lit(WORD_LEAVES), L.len(L.path('leaves'))),
    ...Array.from({ length: WORD_LEAVES }, (_, l) =>
      L.and(L.lt(L.lit(l), L.len(L.path('leaves'))), L.or(L.includes(L.path('leaves', l, 'readers'), t), L.eq(L.read('leaves', l, 'intent'), L.lit(t)))),
    ),
  );
declareInvariants(model.invariants!, {
  noFolioLockUnderBtreeLocks: () => L.everyThread((t, loc) => (loc.startsWith('folio_lock', loc.lastIndexOf('.') + 1) ? L.not(dHoldsBtreeLock(t)) : true)),
});
// The state assertions on the words too, so fiemap's `cur` and `fill` states are not decoded to check them.
// FM-P2: fiemap at pos<p>.cur reads leafOf(p) of the context's folios and leaves (the params); its readers
// include fiemap. Tabulated for up to WORD_FOLIOS folios and WORD_LEAVES leaves; beyond, false (decoded).
const WORD_FOLIOS = 3;
const dCurUnderLeafLock = (p: number) =>
  L.or(
    L.lit(false),
    ...Array.from({ length: WORD_FOLIOS }, (_, f) => f + 1)
      .filter((folios) => p < folios)
      .flatMap((folios) =>
        Array.from({ length: WORD_LEAVES }, (_, l) => l + 1).map((leaves) =>
          L.and(L.eq(L.len(L.path('folios')), L.lit(folios)), L.eq(L.len(L.path('leaves')), L.lit(leaves)), L.includes(L.path('leaves', leafOf(p, folios, leaves), 'readers'), 'fiemap')),
        ),
      ),
  );
declareAssertions(model.assertions!, {
  fillWithoutBtreeLocks: () => L.not(dHoldsBtreeLock('fiemap')),
  curUnderLeafLock: () => L.someThread((t, loc) => (t === 'fiemap' && fiemapPos(loc) >= 0 ? dCurUnderLeafLock(fiemapPos(loc)) : false)),
});
export default model;
