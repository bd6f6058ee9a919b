// btrfs send versus block group relocation (seed 004, KERNEL.md section 4, commit d96b34248c2f).
//
// Threads (top-level regions, in diagram column order):
//   send       btrfs_ioctl_send -> send_subvol -> full_send_tree (mode "full") or btrfs_compare_trees
//              (mode "incremental"); changed_cb() emits commands with kernel_write() into the pipe.
//   receive    btrfs receive (userspace) on the SAME filesystem: the only reader of the pipe; the stream's first
//              command creates the target (create_snapshot / create_subvol: btrfs_start_transaction +
//              btrfs_commit_transaction) and, with writeCommits, a write's space reservation may commit too.
//   relocation btrfs_relocate_chunk: reloc_chunk_start() sets BTRFS_FS_RELOC_RUNNING, `rounds` passes of
//              relocate_block_group() (start a transaction, move the send tree's blocks, end it, join and commit),
//              reloc_chunk_end().
//   allocator  any later transaction that allocates a tree block: reuses an unpinned extent and writes
//              new content into it (btrfs_alloc_tree_block -> btrfs_init_new_buffer).
// Transactions are machines/kernel/btrfs-trans.ts (fs/btrfs/transaction.c, v6.6): there is no committer thread,
// receive and relocation run btrfs_commit_transaction() themselves; its switch_commit_roots() (down_write
// commit_root_sem, last_reloc_trans, commit_root = node) is the commit's hook between C5 and C6, and
// btrfs_finish_extent_commit() unpins in C8.
//
// Physical abstraction. The send root is read-only, so its logical content never changes; only its
// location does. Tree: a root node (level 2, always CLONED by send, so never modelled as an extent),
// one node I (level 1, block 0) and `leaves` leaves (level 0, blocks 1..leaves). A relocation
// transaction COWs every block of the tree into new extents (the whole subvolume tree sits in the block
// group being relocated; in the kernel the freed-and-reused extents are typically the COWed parents in
// writable block groups, which this abstraction folds in) and pins the old extents in that transaction.
// `verLoc[v][b]` is where block b of tree version v lives; `extTag[e]` is what extent e holds now
// ("v1b2" = version 1 of block 2, "other" = reused by the allocator, "" = never written). A reference
// send holds is { e, tag }: it is STALE when extTag[e] !== tag, i.e. the extent was freed and reused
// after send obtained it. The incremental compare walks one path; the parent (right) tree path behaves
// the same way and is folded into it.
//
// Variants (KERNEL.md 4(d)):
//   uncoordinated   before 5.3: no commit_root_sem in the walks, leaves are not cloned (BS-V0)
//   mutex           5.3 (9e967495e0e0) / 5.14 (1cea5cf0e664): send and relocation exclude each other
//                   with send_in_progress / RELOC_RUNNING under send_reloc_lock, -EAGAIN (BS-V1)
//   hold-sem        the d96b34248c2f shape but commit_root_sem stays held across changed_cb (BS-V2)
//   no-reloc-check  the d96b34248c2f shape without the last_reloc_trans comparisons (BS-V4)
//   merged          d96b34248c2f as merged
import { and, assign, not, setup } from 'xstate';
import { defineModel, type Context, type ThreadLocations, type WaitInfo } from '../../explorer/model.ts';
import * as D from '../../explorer/compile/lower/declared.ts';
import { declareAssertions, declareInvariants, declareLowerings, type PathOp } from '../../explorer/compile/lower/declared.ts';
import type { Expr } from '../../explorer/compile/lower/js.ts';
import {
  btrfsCommitTransactionStates,
  btrfsStartTransactionStates,
  btrfsTrans,
  btrfsTransIds,
  btrfsTransMapIds,
  btrfsHandleTransid,
  btrfs_end_transaction,
  down_read,
  down_write_acquire,
  down_write_queue,
  kernelActions,
  kernelGuards,
  kernelWaits,
  pipe,
  pipe_close,
  pipe_write,
  pipeFull,
  rwsem,
  rwsem_is_contended,
  up_read,
  up_write,
  rwsemReaders,
  type BtrfsTransState,
  type BtrfsTransType,
} from '../kernel/index.ts';

export const VARIANTS = ['uncoordinated', 'mutex', 'hold-sem', 'no-reloc-check', 'merged'] as const;
export type Variant = (typeof VARIANTS)[number];

const CRS = 'commit_root_sem';
const FS = 'trans';
const TRANS_NAME = 'transaction';
const CRS_NAME = 'fs_info->commit_root_sem';
const PIPE_NAME = 'pipe (send stream)';
// kernel_write() of one command into the pipe; the receive task is the only reader
const WRITE = pipe_write('pipe', 'send', ['receive'], PIPE_NAME);
const READ = { pipe: 'pipe', thread: 'receive', peers: ['send'], name: PIPE_NAME };

interface Ref {
  e: number;
  tag: string;
}

const tagOf = (ver: number, blk: number) => `v${ver}b${blk}`;

/** Send states (leaf paths of the `send` region) where changed_cb() runs. */
export const CHANGED_CB_STATES = ['changed_cb', 'kernel_write'];
/** Send states that write into the pipe (and so may sleep on it). */
export const PIPE_WRITE_STATES = ['send_header', 'kernel_write', 'send_end'];
/** The send task holds commit_root_sem for read. */
const sendHoldsRead = (ctx: Context) => rwsemReaders(ctx, CRS).includes('send');

/**
 * The transaction-id fields of the model's context with every id replaced by its rank among the ids present (0 kept
 * as the floor): the btrfs-trans slice, last_reloc_trans, sctx->last_reloc_trans and the pin marks of pinned extents
 * (a free or used extent's mark is dead and becomes 0). The model compares ids only with each other, and a new id is
 * generation + 1, so this order-preserving renaming keeps its behaviour (sendRepeat; see docs/models/btrfs-send.md).
 */
export function rankTransids(c: Context): Context {
  const s = c.trans as BtrfsTransState;
  const pinned = (e: number) => c.extState[e] === 'pinned';
  const ids = [0, ...btrfsTransIds(s), c.lastRelocTrans, c.sctxLast, ...c.extPin.filter((_: number, e: number) => pinned(e))];
  const ranks = [...new Set(ids)].sort((a, b) => a - b);
  const r = (t: number) => ranks.indexOf(t);
  return {
    trans: btrfsTransMapIds(s, r),
    lastRelocTrans: r(c.lastRelocTrans),
    sctxLast: r(c.sctxLast),
    extPin: c.extPin.map((t: number, e: number) => (pinned(e) ? r(t) : 0)),
  };
}

function variantFlags(variant: string) {
  if (!(VARIANTS as readonly string[]).includes(variant)) throw new Error(`unknown variant ${variant}`);
  const v = variant as Variant;
  return {
    /** the walks take commit_root_sem and send only reads path nodes under it (d96b34248c2f shape) */
    coordinated: v === 'merged' || v === 'hold-sem' || v === 'no-reloc-check',
    /** `if (fs_info->last_reloc_trans > sctx->last_reloc_trans)` restart checks exist */
    relocCheck: v === 'merged' || v === 'hold-sem',
    /** up_read() before changed_cb() and down_read() after it */
    dropAroundCb: v === 'merged' || v === 'no-reloc-check',
    /** send_reloc_lock / send_in_progress / -EAGAIN */
    mutex: v === 'mutex',
  };
}

/**
 * The model's own guards and actions declared as word operations (explorer/compile/lower/declared.ts), so the
 * explorer steps them on the packed state: each computes what its function above computes, with the sizes
 * of this instance (rounds, blocks, extents, leaves, pipe commands) as constants. renumber_transids runs its
 * own function on the few context keys it reads.
 */
function declareModelLowerings(
  impls: { guards: Record<string, unknown>; actions: Record<string, unknown> },
  n: { R: number; B: number; E: number; L: number; ITEMS: number; CS: boolean; REPEAT: boolean; mutex: boolean },
) {
  const r = (k: string) => D.read(k);
  const num = (k: string, by: number) => D.set(D.path(k), D.plus(r(k), by));
  const exts = Array.from({ length: n.E }, (_, e) => e);
  const st = (e: number) => D.at(D.path('extState'), e);
  const tag = (ver: Expr, blk: Expr | number) => D.add(D.add(D.add(D.lit('v'), ver), 'b'), blk);
  // the extent of block `blk` of tree version `ver`, with its tag: { e: verLoc[ver][blk], tag: tagOf(ver, blk) }
  const ref = (ver: Expr, blk: Expr | number) => ({ e: D.readAt(D.path('verLoc'), ver, blk), tag: tag(ver, blk) });
  const leafBlk = D.plus(r('leafIdx'), 1);
  const free = exts.map((e) => D.cond(D.eq(st(e), D.lit('free')), 1, 0)).reduce((a, b) => D.add(a, b));
  // btrfsHandleTransid(c, FS, thread): the thread's trans->transid, or null
  const transid = (thread: string) => (thread in Object.prototype ? null : D.coalesce(D.readOpt(FS, 'handles', thread), null));
  const own = (name: string) => (impls.actions[name] as { assignment: (args: { context: Context }, p: unknown) => Context }).assignment;
  const viaFunction = (name: string, reads: string[]) => (p: unknown) => [D.compute(reads, (context) => own(name)({ context }, p))];
  // relocate (relocate_tree_blocks): the first B free extents (by index) take the new version's blocks, the
  // current version's extents are pinned in relocation's transaction. Extent e is fresh[b] when it is free and
  // b extents before it are free; verLoc gains [fresh[0], ..., fresh[B-1]], spelled per length of verLoc (up to
  // the R versions a run reaches before its last relocation; longer, or fewer than B free extents: BAIL, and
  // the function runs).
  const isFree = (e: number) => D.eq(st(e), D.lit('free'));
  const freeBefore = (e: number): Expr => exts.slice(0, e).reduce<Expr>((a, x) => D.add(a, D.cond(isFree(x), 1, 0)), D.lit(0));
  const freshAt = (e: number, b: number) => D.and(isFree(e), D.eq(freeBefore(e), D.lit(b)));
  const blocks = Array.from({ length: n.B }, (_, b) => b);
  const relocate = (versions: number): PathOp[] => {
    if (versions > n.R) return [D.check(D.lit(false))];
    const inOld = (e: number) => D.or(...blocks.map((b) => D.eq(D.readAt(D.path('verLoc'), r('curVer'), b), D.lit(e))));
    const fresh = blocks.map((b) => exts.reduce<Expr>((a, e) => D.cond(freshAt(e, b), e, a), D.lit(-1)));
    const version = (v: number) => D.arr(...blocks.map((b) => D.readAt(D.path('verLoc'), v, b)));
    const tagged = (e: number) => blocks.reduce<Expr>((a, b) => D.cond(freshAt(e, b), tag(D.lit(versions), b), a), D.at(D.path('extTag'), e));
    const ops: PathOp[] = [
      D.check(D.ge(free, D.lit(n.B))),
      D.put(D.path('extState'), D.arr(...exts.map((e) => D.cond(D.and(isFree(e), D.lt(freeBefore(e), D.lit(n.B))), 'used', D.cond(inOld(e), 'pinned', st(e)))))),
      D.put(D.path('extPin'), D.arr(...exts.map((e) => D.cond(inOld(e), transid('relocation'), D.at(D.path('extPin'), e))))),
      D.put(D.path('extTag'), D.arr(...exts.map(tagged))),
      D.put(D.path('verLoc'), D.arr(...Array.from({ length: versions }, (_, v) => version(v)), D.arr(...fresh))),
      D.set(D.path('curVer'), versions),
      D.set(D.path('relocDuringSend'), D.or(r('relocDuringSend'), r('sendActive'))),
    ];
    return [D.choose(D.eq(D.len(D.path('verLoc')), D.lit(versions)), ops, relocate(versions + 1))];
  };
  declareLowerings(impls.guards, {
    reloc_running: () => r('relocRunning'),
    send_in_progress: () => D.lt(D.lit(0), r('sendInProgress')),
    reloc_committed_since_snapshot: () => D.lt(r('sctxLast'), r('lastRelocTrans')),
    phase_is: (p: { phase: string }) => D.eq(r('phase'), D.lit(p.phase)),
    more_leaves: () => D.lt(leafBlk, D.lit(n.L)),
    more_rounds: () => D.lt(D.plus(r('relocRound'), 1), D.lit(n.R)),
    next_cmd_is: (p: { cmd: string }) =>
      p.cmd === 'subvol' ? D.eq(D.plus(r('received'), 1), D.lit(1)) : p.cmd === 'end' ? D.eq(D.plus(r('received'), 1), D.lit(n.ITEMS)) : D.lit(false),
    enough_free_extents: () => D.ge(free, D.lit(n.B)),
    extent_reusable: (p: { e: number }) =>
      D.and(D.lt(D.lit(0), r('reusesLeft')), D.eq(st(p.e), D.lit('free')), D.ne(D.at(D.path('extTag'), p.e), D.lit(''))),
    last_reuse: () => D.eq(r('reusesLeft'), D.lit(1)),
    allocator_may_exit: () =>
      D.and(
        r('relocDone'),
        D.not(D.or(...exts.map((e) => D.or(D.eq(st(e), D.lit('pinned')), D.and(D.eq(st(e), D.lit('free')), D.ne(D.at(D.path('extTag'), e), D.lit(''))))))),
      ),
  });
  const finish = () => [D.set(D.path('sendActive'), false), ...(n.mutex ? [num('sendInProgress', -1)] : [])];
  declareLowerings(impls.actions, {
    send_begin: () => [
      D.set(D.path('sendActive'), true),
      ...(n.mutex ? [num('sendInProgress', 1)] : []),
      ...(n.REPEAT ? (['leafIdx', 'phase', 'node', 'leaf', 'leafVer', 'rootVer', 'sctxLast'] as const).map((k) => D.set(D.path(k), { leafIdx: 0, phase: 'node', node: null, leaf: null, leafVer: 0, rootVer: 0, sctxLast: 0 }[k])) : []),
    ],
    send_finish_again: finish,
    send_finish: finish,
    snapshot_last_reloc: () => [D.set(D.path('sctxLast'), r('lastRelocTrans'))],
    set_phase: (p: { phase: string }) => [D.set(D.path('phase'), p.phase)],
    clone_roots: () => [D.set(D.path('rootVer'), r('commitVer'))],
    obtain_node: () => [D.put(D.path('node'), D.obj({ ...ref(r('rootVer'), 0), ver: r('rootVer') }))],
    obtain_leaf: (p: { clone: boolean }) => [
      D.put(D.path('leaf'), p.clone ? null : D.obj(ref(r('commitVer'), leafBlk))),
      D.set(D.path('leafVer'), n.CS ? r('commitVer') : 0),
    ],
    obtain_leaf_from_node: (p: { clone: boolean }) => [
      D.check(D.not(D.isNull('node'))), // c.node!.ver throws on a null node
      D.put(D.path('leaf'), p.clone ? null : D.obj(ref(D.read('node', 'ver'), leafBlk))),
      D.set(D.path('leafVer'), n.CS ? D.read('node', 'ver') : 0),
    ],
    next_leaf: () => [num('leafIdx', 1)],
    restart_after_relocation: () => [
      D.set(D.path('rootVer'), r('commitVer')),
      D.put(D.path('node'), D.cond(D.eq(r('phase'), D.lit('node')), null, D.obj({ ...ref(r('commitVer'), 0), ver: r('commitVer') }))),
      D.set(D.path('leaf'), null),
      D.set(D.path('leafVer'), n.CS ? D.cond(D.ne(r('phase'), D.lit('node')), r('commitVer'), r('leafVer')) : r('leafVer')),
      D.set(D.path('sctxLast'), r('lastRelocTrans')),
    ],
    backref_walk: () => [D.set(D.path('walk'), D.cond(D.eq(r('leafVer'), r('commitVer')), 'fresh', 'stale'))],
    clone_decision: (p: { clone: boolean }) => [D.set(D.path('cloneCmd'), p.clone)],
    deref: (p: { what: 'leaf' | 'node' | 'root_child' }) => {
      if (p.what === 'root_child') return [D.put(D.path('derefs'), D.obj(ref(r('rootVer'), 0)))];
      // the leaf itself ({ e, tag }), or node I's { e, tag }; null stays null
      const at = p.what;
      return [D.put(D.path('derefs'), D.cond(D.isNull(at), null, D.obj({ e: D.read(at, 'e'), tag: D.read(at, 'tag') })))];
    },
    received: () => [num('received', 1)],
    switch_commit_roots: (p: { lastRelocTrans: boolean; thread: string }) => {
      const t = transid(p.thread);
      if (t === null) return null;
      return [D.set(D.path('commitVer'), r('curVer')), D.set(D.path('lastRelocTrans'), p.lastRelocTrans ? D.cond(r('relocRunning'), t, r('lastRelocTrans')) : r('lastRelocTrans'))];
    },
    unpin_extents: (p: { thread: string }) => {
      const t = transid(p.thread);
      if (t === null) return null;
      const unpinned = exts.map((e) => D.cond(D.and(D.eq(st(e), D.lit('pinned')), D.le(D.at(D.path('extPin'), e), t)), 'free', st(e)));
      return [D.put(D.path('extState'), D.arr(...unpinned))];
    },
    renumber_transids: viaFunction('renumber_transids', ['trans', 'lastRelocTrans', 'sctxLast', 'extState', 'extPin']),
    reloc_round_done: () => [num('relocRound', 1)],
    relocate: () => relocate(1),
    reuse_extent: (p: { e: number }) => [D.setAt(D.path('extState'), p.e, 'used'), D.setAt(D.path('extTag'), p.e, 'other'), num('reusesLeft', -1)],
  });
}

const model = defineModel({
  name: 'btrfs-send',
  description:
    'btrfs send versus block group relocation: stale extent buffers without coordination, the pipe/commit deadlock when commit_root_sem is held across changed_cb, and the merged d96b34248c2f protocol',
  source: 'seeds/004_3f40253288910bd0.txt; KERNEL.md section 4; fs/btrfs/send.c, transaction.c, relocation.c at d96b34248c2f',
  // One leaf and no reuse keep every variant's whole space under 13k states for the engine-vs-XState differential
  // test (with a reuse, merged and no-reloc-check pass 20k since the commits run on the btrfs-trans primitive).
  smallParams: { leaves: 1, reuses: 0 },
  params: {
    mode: { default: 'incremental', description: 'send kind: full (full_send_tree) or incremental (btrfs_compare_trees)', choices: ['full', 'incremental'] },
    leaves: { default: 2, description: 'leaves of the send tree under its level-1 node (one item each)', min: 1, max: 4 },
    pipeCapacity: { default: 1, description: 'pipe buffers before kernel_write() blocks', min: 1, max: 4 },
    rounds: { default: 1, description: 'relocation transactions the relocation runs', min: 0, max: 3 },
    reuses: { default: 1, description: 'freed extents the allocator may reuse', min: 0, max: 3 },
    writeCommits: { default: false, description: 'receive space reservations for writes may commit a transaction' },
    sendRepeat: {
      default: false,
      description: 'send runs again and again (periodic incremental backups) into the same receive; for starvation checks',
    },
    cloneSources: {
      default: false,
      description: 'each item is a file extent item: changed_cb looks for clone sources (find_extent_clone backref walk, BS-P5)',
    },
  },
  variants: {
    uncoordinated: { description: 'before 5.3: send reads commit-root extent buffers with no lock and no clones; relocation runs freely' },
    mutex: { description: '5.3/5.14: send and relocation exclude each other (send_in_progress, RELOC_RUNNING, -EAGAIN)' },
    'hold-sem': { description: 'd96b34248c2f shape, but commit_root_sem is held across changed_cb and its pipe write' },
    'no-reloc-check': { description: 'd96b34248c2f shape without the last_reloc_trans comparisons (no restart after relocation)' },
    merged: { description: 'd96b34248c2f: clone leaves, drop commit_root_sem around changed_cb, restart after a relocation commit' },
  },
  defaultVariant: 'merged',
  create({ params, variant }) {
    const f = variantFlags(variant);
    const full = params.mode === 'full';
    const L = Number(params.leaves);
    const R = Number(params.rounds);
    const B = 1 + L; // blocks: node I + leaves
    const E = 2 * B + Number(params.reuses); // extents: enough for every round plus the reuses
    const ITEMS = L + 2; // pipe commands: subvol, one per item, end
    const CS = Boolean(params.cloneSources); // track leaf versions only when clone sources are modelled
    const REPEAT = Boolean(params.sendRepeat);

    const rd = (target: string, thread = 'send') => down_read(CRS, thread, target, CRS_NAME);
    const ur = (thread = 'send') => up_read(CRS, thread, CRS_NAME).actions!;
    const act = (type: string, params?: any) => (params === undefined ? { type } : { type, params });
    const grd = (type: string, params?: any) => (params === undefined ? { type } : { type, params });

    // ------------------------------------------------------------------------------------------
    // send thread
    const send: Record<string, any> = {};

    // btrfs_ioctl_send(): [5.3/5.14: spin_lock(send_reloc_lock); RELOC_RUNNING ? -EAGAIN : send_in_progress++]
    send.ioctl = {
      on: {
        'send.btrfs_ioctl_send': f.mutex
          ? [
              REPEAT
                ? { guard: grd('reloc_running'), target: 'eagain' } // the backup job retries later
                : { guard: grd('reloc_running'), actions: pipe_close('pipe', 'send').actions!, target: 'eagain' },
              { actions: [act('send_begin')], target: 'send_header' },
            ]
          : { actions: [act('send_begin')], target: 'send_header' },
      },
    };
    // send_header() + send_subvol_begin(): the subvol command goes through write_buf() -> kernel_write()
    send.send_header = {
      on: { 'send.write_subvol_cmd': { ...WRITE, target: full ? (f.coordinated ? 'fst_down_read' : 'search') : 'cmp_down_read' } },
    };
    // changed_cb(): process_*() read the leaf's items (a deref of the leaf unless it is a clone).
    // The fixed code has lockdep_assert_not_held(commit_root_sem) and ASSERT(EXTENT_BUFFER_UNMAPPED) here.
    send.changed_cb = {
      entry: [act('deref', { what: 'leaf' })],
      exit: [act('deref_done')],
      meta: variant === 'merged' || variant === 'no-reloc-check' ? { assert: ['changed_cb_not_holding_commit_root_sem', 'changed_cb_leaf_is_clone'] } : undefined,
      on: { 'send.changed_cb': { target: params.cloneSources ? 'backref_walk' : 'kernel_write' } },
    };
    if (params.cloneSources) {
      // process_extent() -> find_extent_clone(): iterate_extent_inodes() walks the backrefs of the
      // disk_bytenr read from the (cloned) leaf, over the commit roots (atomic w.r.t. commits here)
      const issue = (clone: boolean) => act('clone_decision', { clone });
      send.backref_walk = {
        on: {
          'send.iterate_extent_inodes': {
            actions: [act('backref_walk'), ...(f.relocCheck ? [] : [issue(true)])],
            target: !f.relocCheck ? 'kernel_write' : f.dropAroundCb ? 'clone_check_down_read' : 'clone_check',
          },
        },
      };
      if (f.relocCheck) {
        // find_extent_clone(): down_read(); if (fs_info->last_reloc_trans > sctx->last_reloc_trans)
        // { up_read(); return -ENOENT; }  -> fall back to write commands; up_read()
        if (f.dropAroundCb) send.clone_check_down_read = { on: { 'send.down_read': rd('clone_check') } };
        send.clone_check = {
          on: {
            'send.check_last_reloc_trans': [
              { guard: grd('reloc_committed_since_snapshot'), actions: [issue(false), ...(f.dropAroundCb ? ur() : [])], target: 'kernel_write' },
              { actions: [issue(true), ...(f.dropAroundCb ? ur() : [])], target: 'kernel_write' },
            ],
          },
        };
      }
    }
    // send_cmd() -> write_buf() -> kernel_write(pipe): sleeps while the pipe is full
    let afterWrite: string;
    if (full) afterWrite = variant === 'merged' ? 'check_down_read' : 'next_item';
    else afterWrite = f.dropAroundCb ? 'cb_down_read' : f.coordinated ? 'loop_top' : 'move_next';
    send.kernel_write = {
      meta: { progress: true },
      exit: params.cloneSources ? [act('clone_done')] : [],
      on: {
        'send.kernel_write': { ...WRITE, actions: [...WRITE.actions!, ...(full ? [] : [act('set_phase', { phase: 'next' })])], target: afterWrite },
      },
    };
    // btrfs_ioctl_send(): send_cmd(BTRFS_SEND_C_END); [5.3/5.14: send_in_progress--]; the sender closes the pipe
    send.send_end = {
      on: {
        'send.write_end_cmd': REPEAT
          ? { ...WRITE, actions: [...WRITE.actions!, act('send_finish_again')], target: 'ioctl' } // the next backup
          : { ...WRITE, actions: [...WRITE.actions!, act('send_finish'), ...pipe_close('pipe', 'send').actions!], target: 'done' },
      },
    };
    send.done = { type: 'final' };
    // btrfs_ioctl_send() returned -EAGAIN: relocation is running (5.3/5.14 only)
    send.eagain = REPEAT ? { on: { 'send.retry': { target: 'ioctl' } } } : { type: 'final' };

    if (full) {
      // ---- full_send_tree() ----
      const obtainLeaf = act('obtain_leaf', { clone: f.coordinated });
      if (f.coordinated) {
        // full_send_tree(): down_read(commit_root_sem) ...
        send.fst_down_read = { on: { 'send.down_read': rd('fst_snapshot') } };
        // ... sctx->last_reloc_trans = fs_info->last_reloc_trans; up_read()  (hold-sem keeps it)
        send.fst_snapshot = {
          on: { 'send.snapshot_last_reloc_trans': { actions: [act('snapshot_last_reloc'), ...(f.dropAroundCb ? ur() : [])], target: 'search' } },
        };
      }
      if (f.dropAroundCb) {
        // btrfs_search_slot_for_read() with path->need_commit_sem: down_read inside btrfs_search_slot ...
        send.search = { on: { 'send.down_read': rd('search_locked') } };
        // ... walk the commit root, finish_need_commit_sem_search() clones the leaf, up_read
        send.search_locked = { on: { 'send.search_commit_root': { actions: [obtainLeaf, ...ur()], target: 'changed_cb' } } };
      } else {
        // btrfs_search_slot_for_read() on the commit root: before 5.3 skip_locking, no sem, the real leaf
        // (hold-sem: under the sem the caller already holds)
        send.search = { on: { 'send.search_commit_root': { actions: [obtainLeaf], target: 'changed_cb' } } };
      }
      if (variant === 'merged') {
        // full_send_tree(): down_read(); if (fs_info->last_reloc_trans > sctx->last_reloc_trans) ...
        send.check_down_read = { on: { 'send.down_read': rd('check_locked') } };
        send.check_locked = {
          on: {
            'send.check_last_reloc_trans': [
              { guard: grd('reloc_committed_since_snapshot'), actions: [act('snapshot_last_reloc'), ...ur()], target: 'search_again' },
              { actions: ur(), target: 'next_item' },
            ],
          },
        };
        // btrfs_release_path(); search_key_again(): btrfs_search_slot() with need_commit_sem
        send.search_again = { on: { 'send.down_read': rd('search_again_locked') } };
        send.search_again_locked = { on: { 'send.search_key_again': { actions: [obtainLeaf, ...ur()], target: 'next_item' } } };
      }
      // btrfs_next_item() -> btrfs_next_old_leaf(): with need_commit_sem it takes down_read, re-searches
      // from the commit root and clones the next leaf before up_read
      const nextLeaf = (extra: any[]) => [
        { guard: grd('more_leaves'), actions: [act('next_leaf'), obtainLeaf, ...extra], target: 'changed_cb' },
        { actions: [...extra], target: 'send_end' },
      ];
      if (f.dropAroundCb) {
        send.next_item = { on: { 'send.down_read': rd('next_locked') } };
        send.next_locked = { on: { 'send.next_leaf': nextLeaf(ur()) } };
      } else if (f.coordinated) {
        // hold-sem: the walk ends with up_read
        send.next_item = {
          on: {
            'send.next_leaf': [
              { guard: grd('more_leaves'), actions: [act('next_leaf'), obtainLeaf], target: 'changed_cb' },
              { actions: ur(), target: 'send_end' },
            ],
          },
        };
      } else {
        send.next_item = { on: { 'send.next_leaf': nextLeaf([]) } };
      }
    } else {
      // ---- btrfs_compare_trees() ----
      // B1 down_read(commit_root_sem)
      send.cmp_down_read = { on: { 'send.down_read': rd('cmp_clone_roots') } };
      // B2 btrfs_clone_extent_buffer(left/right commit_root); B3 sctx->last_reloc_trans = ...;
      // before 5.3 the sem was released right after cloning the roots and the loop ran without it
      send.cmp_clone_roots = {
        on: {
          'send.clone_roots': {
            actions: [act('clone_roots'), ...(f.coordinated ? [act('snapshot_last_reloc')] : ur())],
            target: f.coordinated ? 'loop_top' : 'move_down_node',
          },
        },
      };
      const phaseTargets = (actions: any[]) => [
        { guard: grd('phase_is', { phase: 'node' }), actions, target: 'move_down_node' },
        { guard: grd('phase_is', { phase: 'leaf' }), actions, target: 'move_down_leaf' },
        { guard: grd('phase_is', { phase: 'next' }), actions, target: 'move_next' },
      ];
      if (f.coordinated) {
        // while (1) { if (need_resched() || rwsem_is_contended(&fs_info->commit_root_sem)) { up_read; cond_resched; down_read }
        //             if (fs_info->last_reloc_trans > sctx->last_reloc_trans) restart_after_relocation(...)
        //             tree_advance(...) ...
        const restart = [act('restart_after_relocation')];
        send.loop_top = {
          on: {
            'send.loop_top': [
              { guard: rwsem_is_contended(CRS, 'send', CRS_NAME), actions: ur(), target: 'cond_resched' },
              ...(f.relocCheck
                ? phaseTargets(restart).map((t) => ({ ...t, guard: and([grd('reloc_committed_since_snapshot'), t.guard]) }))
                : []),
              ...phaseTargets([]),
            ],
          },
        };
        // cond_resched(); down_read(&fs_info->commit_root_sem)  (queues behind a waiting writer)
        send.cond_resched = { on: { 'send.down_read': rd(f.relocCheck ? 'reloc_check' : 'dispatch') } };
        if (f.relocCheck) {
          // btrfs_compare_trees(): if (fs_info->last_reloc_trans > sctx->last_reloc_trans) restart_after_relocation()
          send.reloc_check = {
            on: {
              'send.check_last_reloc_trans': [
                ...phaseTargets(restart).map((t) => ({ ...t, guard: and([grd('reloc_committed_since_snapshot'), t.guard]) })),
                ...phaseTargets([]),
              ],
            },
          };
        } else {
          // no-reloc-check: straight on to tree_advance() with whatever the path holds
          send.dispatch = { on: { 'send.tree_advance': phaseTargets([]) } };
        }
      }
      // tree_advance() at the root: tree_move_down() reads node I through the cloned root's pointer
      send.move_down_node = {
        entry: [act('deref', { what: 'root_child' })],
        exit: [act('deref_done')],
        on: {
          'send.tree_move_down': { actions: [act('obtain_node'), act('set_phase', { phase: 'leaf' })], target: f.coordinated ? 'loop_top' : 'move_down_leaf' },
        },
      };
      // tree_advance() at level 1: tree_move_down(): btrfs_read_node_slot(I, slot) reads node I (not a clone);
      // at level 0 replace_node_with_clone() (before 5.3 the real leaf stays in the path).
      // Then, both paths at level 0: [up_read]; changed_cb(); [down_read]
      send.move_down_leaf = {
        entry: [act('deref', { what: 'node' })],
        exit: [act('deref_done')],
        on: {
          'send.tree_move_down': { actions: [act('obtain_leaf_from_node', { clone: f.coordinated }), ...(f.dropAroundCb ? ur() : [])], target: 'changed_cb' },
        },
      };
      if (f.dropAroundCb) {
        // btrfs_compare_trees(): down_read(&fs_info->commit_root_sem) after changed_cb()
        send.cb_down_read = { on: { 'send.down_read': rd('loop_top') } };
      }
      // tree_advance() at level 0: tree_move_next_or_upnext(): leaf exhausted, go up: reads
      // btrfs_header_nritems(path->nodes[1]) = node I (not a clone); past the last slot the walk ends
      send.move_next = {
        entry: [act('deref', { what: 'node' })],
        exit: [act('deref_done')],
        on: {
          'send.tree_move_next': [
            { guard: grd('more_leaves'), actions: [act('next_leaf'), act('set_phase', { phase: 'leaf' })], target: f.coordinated ? 'loop_top' : 'move_down_leaf' },
            // left_end_reached && right_end_reached: out_unlock: up_read
            { actions: f.coordinated ? ur() : [], target: 'send_end' },
          ],
        },
      };
    }

    // ------------------------------------------------------------------------------------------
    // Transactions: machines/kernel/btrfs-trans.ts (fs/btrfs/transaction.c, v6.6). Whoever calls
    // btrfs_commit_transaction() commits (receive, relocation): C1 decides who runs the commit, the others
    // wait_for_commit(). Each commit's switch_commit_roots() is the model's own hook between the writers
    // drain (C5) and TRANS_STATE_UNBLOCKED (C6); btrfs_finish_extent_commit() unpins in C8.
    const commitBy = (thread: string, type: BtrfsTransType, prefix: string, next: string) => {
      const pre = `${prefix}switch_commit_roots`;
      const c = btrfsCommitTransactionStates({
        thread,
        type, // the join type of the handle being committed
        next,
        fs: FS,
        prefix,
        name: TRANS_NAME,
        commitRoots: { enter: `${pre}_down_write` },
        finishExtentCommit: [act('unpin_extents', { thread })],
      });
      // sendRepeat: renumber the transaction ids once this commit is COMPLETED (see renumber_transids)
      if (REPEAT) {
        const done = c.states[c.names.complete].on[`${thread}.${c.names.complete}`];
        done.actions = [...done.actions, act('renumber_transids')];
      }
      const on = (name: string, tr: any) => ({ on: { [`${thread}.${name}`]: tr } });
      return {
        initial: c.initial,
        states: {
          ...c.states,
          // switch_commit_roots(): down_write(&fs_info->commit_root_sem) (rwsem_down_write_slowpath queues it)
          [`${pre}_down_write`]: on(`${pre}_down_write`, { ...down_write_queue(CRS, thread, CRS_NAME), target: `${pre}_wait` }),
          [`${pre}_wait`]: on(`${pre}_wait`, { ...down_write_acquire(CRS, thread, CRS_NAME), target: pre }),
          // switch_commit_roots(): if (test_bit(BTRFS_FS_RELOC_RUNNING)) fs_info->last_reloc_trans = trans->transid;
          // root->commit_root = root->node; up_write(&fs_info->commit_root_sem)
          [pre]: on(pre, {
            actions: [act('switch_commit_roots', { lastRelocTrans: f.coordinated, thread }), ...up_write(CRS, thread, CRS_NAME).actions!],
            target: c.names.unblock,
          }),
        },
      };
    };

    // ------------------------------------------------------------------------------------------
    // receive thread (btrfs-progs receive on the same filesystem)
    // The stream's first command creates the target: incremental -> BTRFS_SEND_C_SNAPSHOT -> BTRFS_IOC_SNAP_CREATE
    // -> create_snapshot(): btrfs_start_transaction() ... btrfs_commit_transaction() (the pending snapshot is
    // created by the commit); full -> BTRFS_SEND_C_SUBVOL -> BTRFS_IOC_SUBVOL_CREATE -> create_subvol(), which
    // committed the same way until 6.5 (1b53e51a4a8f "btrfs: don't commit transaction for every subvol create"
    // ends the transaction instead). Both: start_transaction(TRANS_START) then btrfs_commit_transaction().
    const subvolCommit = commitBy('receive', 'TRANS_START', 'subvol_', 'read');
    const subvolStart = btrfsStartTransactionStates({ thread: 'receive', type: 'TRANS_START', next: subvolCommit.initial, fs: FS, prefix: 'subvol_', name: TRANS_NAME });
    // TRANS_ATTACH has no sb_start_intwrite and no wait_current_trans: its start_transaction begins at the join
    const FLUSH_START = 'flush_start_transaction_join_transaction';
    const receiveStates: Record<string, any> = {
      // read_buf() -> read(2) on the pipe: sleeps while it is empty
      read: {
        on: {
          'receive.read': [
            { guard: and([grd('pipe_has_data', READ), grd('next_cmd_is', { cmd: 'subvol' })]), actions: [act('pipe_read', READ), act('received')], target: subvolStart.initial },
            { guard: and([grd('pipe_has_data', READ), grd('next_cmd_is', { cmd: 'end' })]), actions: [act('pipe_read', READ), ...(REPEAT ? [act('next_stream')] : [act('received')])], target: REPEAT ? 'read' : 'done' },
            { guard: grd('pipe_has_data', READ), actions: [act('pipe_read', READ), act('received')], target: 'apply' },
          ],
          // read() == 0: the sender closed the pipe without an end command (send failed)
          'receive.eof': { guard: grd('pipe_eof', READ), target: 'done' },
        },
      },
      ...subvolStart.states,
      ...subvolCommit.states,
      // process_write / process_clone ...: btrfs_buffered_write() reserves space
      apply: {
        on: {
          'receive.write': { target: 'read' },
          ...(params.writeCommits ? { 'receive.reserve_space_commit': { target: FLUSH_START } } : {}),
        },
      },
      done: { type: 'final' },
    };
    if (params.writeCommits) {
      // btrfs_reserve_metadata_bytes() with BTRFS_RESERVE_FLUSH_ALL: the reclaim flush_space(COMMIT_TRANS)
      // (fs/btrfs/space-info.c, v6.6; run by the async reclaim worker while the writer waits on its ticket,
      // folded into the receive thread): btrfs_attach_transaction_barrier() = start_transaction(TRANS_ATTACH),
      // on -ENOENT btrfs_wait_for_commit(fs_info, 0) for a commit in progress; then btrfs_commit_transaction()
      const flushCommit = commitBy('receive', 'TRANS_ATTACH', 'flush_', 'read');
      const flushStart = btrfsStartTransactionStates({
        thread: 'receive',
        type: 'TRANS_ATTACH',
        next: flushCommit.initial,
        enoent: 'flush_wait_for_commit',
        fs: FS,
        prefix: 'flush_',
        name: TRANS_NAME,
      });
      if (flushStart.initial !== FLUSH_START) throw new Error(`btrfs-send: the flush's start_transaction begins at ${flushStart.initial}`);
      Object.assign(receiveStates, flushStart.states, flushCommit.states, {
        flush_wait_for_commit: { on: { 'receive.flush_wait_for_commit': { guard: { type: 'btrfs_prev_committed', params: { fs: FS, thread: 'receive' } }, target: 'read' } } },
      });
    }
    const receive: any = { initial: 'read', states: receiveStates };

    // ------------------------------------------------------------------------------------------
    // relocation thread (btrfs_relocate_chunk -> btrfs_relocate_block_group -> relocate_block_group, v6.6)
    // One round is one relocate_block_group() pass: btrfs_start_transaction() (TRANS_START),
    // relocate_tree_blocks() COWs the tree blocks into new extents and frees (pins) the old ones in that
    // transaction, btrfs_end_transaction_throttle(); then "get rid of pinned extents":
    // btrfs_join_transaction() (TRANS_JOIN) + btrfs_commit_transaction(). (prepare_to_relocate's and
    // prepare_to_merge's join+commit move no send-tree block and are folded into this commit.)
    const relocCommit = commitBy('relocation', 'TRANS_JOIN', 'reloc_', 'relocated');
    const relocJoin = btrfsStartTransactionStates({ thread: 'relocation', type: 'TRANS_JOIN', next: relocCommit.initial, fs: FS, prefix: 'reloc_join_', name: TRANS_NAME });
    const relocStart = btrfsStartTransactionStates({ thread: 'relocation', type: 'TRANS_START', next: 'relocate_tree_blocks', fs: FS, prefix: 'reloc_', name: TRANS_NAME });
    const relocation: any = {
      initial: R > 0 ? 'chunk_start' : 'done',
      states: {
        // reloc_chunk_start(): [5.14: spin_lock(send_reloc_lock); send_in_progress ? -EAGAIN]
        // test_and_set_bit(BTRFS_FS_RELOC_RUNNING)
        chunk_start: {
          on: {
            'relocation.reloc_chunk_start': f.mutex
              ? [
                  { guard: grd('send_in_progress'), target: 'eagain' },
                  { actions: [act('reloc_start')], target: relocStart.initial },
                ]
              : { actions: [act('reloc_start')], target: relocStart.initial },
          },
        },
        // -EAGAIN: balance fails / zoned auto-reclaim puts the block group back (again_list) and retries later
        eagain: { on: { 'relocation.requeue': { target: 'chunk_start' } } },
        ...relocStart.states,
        // relocate_tree_blocks(): COW every block of the send tree into new extents (btrfs_reserve_extent
        // needs free extents), the old ones are pinned in this transaction
        relocate_tree_blocks: {
          meta: { progress: true },
          on: { 'relocation.relocate_tree_blocks': { guard: grd('enough_free_extents'), actions: [act('relocate')], target: 'end_transaction_throttle' } },
        },
        // btrfs_end_transaction_throttle(trans)
        end_transaction_throttle: {
          on: { 'relocation.end_transaction_throttle': { ...btrfs_end_transaction(FS, 'relocation', 'TRANS_START'), target: relocJoin.initial } },
        },
        ...relocJoin.states,
        ...relocCommit.states,
        // relocate_block_group() returned: the next pass, or reloc_chunk_end(): clear_and_wake_up_bit(BTRFS_FS_RELOC_RUNNING)
        relocated: {
          on: {
            'relocation.relocate_block_group': { guard: grd('more_rounds'), actions: [act('reloc_round_done')], target: relocStart.initial },
            'relocation.reloc_chunk_end': { guard: not(grd('more_rounds')), actions: [act('reloc_round_done'), act('reloc_end')], target: 'done' },
          },
        },
        done: { type: 'final' },
      },
    };
    // ------------------------------------------------------------------------------------------
    // allocator thread: btrfs_alloc_tree_block() -> btrfs_reserve_extent() finds a freed extent,
    // btrfs_init_new_buffer() writes new content into the (possibly still cached) extent buffer
    const allocOn: Record<string, any> = {};
    for (let k = 0; k < E; k++) {
      // the last reuse of the budget ends the thread (no idle/done duplicate of every later state)
      allocOn[`allocator.reuse_extent_${k}`] = [
        { guard: and([grd('extent_reusable', { e: k }), grd('last_reuse')]), actions: [act('reuse_extent', { e: k })], target: 'done' },
        { guard: grd('extent_reusable', { e: k }), actions: [act('reuse_extent', { e: k })], target: 'idle' },
      ];
    }
    allocOn['allocator.exit'] = { guard: grd('allocator_may_exit'), target: 'done' };
    const allocator: any = { initial: Number(params.reuses) > 0 ? 'idle' : 'done', states: { idle: { on: allocOn }, done: { type: 'final' } } };

    // ------------------------------------------------------------------------------------------
    const initialLoc = Array.from({ length: B }, (_, b) => b);
    const context = {
      commit_root_sem: rwsem(),
      pipe: pipe(Number(params.pipeCapacity)),
      received: 0,
      relocRunning: false, // BTRFS_FS_RELOC_RUNNING
      lastRelocTrans: 0, // fs_info->last_reloc_trans
      sendInProgress: 0, // fs_info->send_in_progress (5.3/5.14)
      trans: btrfsTrans(), // fs_info's transactions (machines/kernel/btrfs-trans.ts): none running at mount
      extState: Array.from({ length: E }, (_, e): string => (e < B ? 'used' : 'free')),
      extPin: Array.from({ length: E }, () => 0),
      extTag: Array.from({ length: E }, (_, e) => (e < B ? tagOf(0, e) : '')),
      verLoc: [initialLoc],
      curVer: 0, // root->node
      commitVer: 0, // root->commit_root
      // struct send_ctx and the path(s)
      sctxLast: 0, // sctx->last_reloc_trans
      phase: 'node', // where btrfs_compare_trees' next tree_advance goes
      leafIdx: 0,
      rootVer: 0, // tree version of the cloned root node
      node: null as null | (Ref & { ver: number }), // path->nodes[1]: node I, never cloned
      leaf: null as null | Ref, // path->nodes[0] when it is NOT a clone
      leafVer: 0, // tree version path->nodes[0] (clone or not) was read from: its disk_bytenr values
      walk: '', // ghost: '' | 'fresh' | 'stale': the backref walk ran on a disk_bytenr relocated since the leaf was read
      cloneCmd: false, // ghost: the command being written is a clone (not the write fallback)
      // ghost (bookkeeping for properties, no kernel counterpart)
      derefs: null as null | Ref, // the non-cloned extent buffer send reads at its current step
      sendActive: false,
      relocDuringSend: false,
      relocDone: R === 0,
      // thread-local
      relocRound: 0,
      reusesLeft: Number(params.reuses),
    };

    type C = typeof context;
    const freeCount = (c: C) => c.extState.filter((s) => s === 'free').length;

    const machine = setup({
      types: {} as { context: C },
      guards: {
        ...kernelGuards,
                reloc_running: ({ context: c }) => c.relocRunning,
        send_in_progress: ({ context: c }) => c.sendInProgress > 0,
        reloc_committed_since_snapshot: ({ context: c }) => c.lastRelocTrans > c.sctxLast,
        phase_is: ({ context: c }, p: { phase: string }) => c.phase === p.phase,
        more_leaves: ({ context: c }) => c.leafIdx + 1 < L,
        more_rounds: ({ context: c }) => c.relocRound + 1 < R,
        next_cmd_is: ({ context: c }, p: { cmd: string }) => {
          const n = c.received + 1;
          return p.cmd === 'subvol' ? n === 1 : p.cmd === 'end' ? n === ITEMS : false;
        },
        enough_free_extents: ({ context: c }) => freeCount(c) >= B,
        extent_reusable: ({ context: c }, p: { e: number }) => c.reusesLeft > 0 && c.extState[p.e] === 'free' && c.extTag[p.e] !== '',
        last_reuse: ({ context: c }) => c.reusesLeft === 1,
        // nothing is or will become reusable: relocation is over and no extent is pinned or reusable
        allocator_may_exit: ({ context: c }) =>
          c.relocDone && !c.extState.some((s, e) => s === 'pinned' || (s === 'free' && c.extTag[e] !== '')),
      },
      actions: {
        ...kernelActions,
                // a new send: struct send_ctx and the paths start afresh
        send_begin: assign(({ context: c }) => ({
          sendActive: true,
          sendInProgress: f.mutex ? c.sendInProgress + 1 : c.sendInProgress,
          // a new struct send_ctx (kzalloc: sctx->last_reloc_trans = 0); fs_info->last_reloc_trans is left as it is
          ...(REPEAT ? { leafIdx: 0, phase: 'node', node: null, leaf: null, leafVer: 0, rootVer: 0, sctxLast: 0 } : {}),
        })),
        send_finish_again: assign(({ context: c }) => ({ sendActive: false, sendInProgress: f.mutex ? c.sendInProgress - 1 : c.sendInProgress })),
        next_stream: assign({ received: 0 }),
        send_finish: assign(({ context: c }) => ({ sendActive: false, sendInProgress: f.mutex ? c.sendInProgress - 1 : c.sendInProgress })),
        snapshot_last_reloc: assign(({ context: c }) => ({ sctxLast: c.lastRelocTrans })),
        set_phase: assign((_, p: { phase: string }) => ({ phase: p.phase })),
        clone_roots: assign(({ context: c }) => ({ rootVer: c.commitVer })),
        obtain_node: assign(({ context: c }) => ({ node: { e: c.verLoc[c.rootVer][0], tag: tagOf(c.rootVer, 0), ver: c.rootVer } })),
        // full send: the leaf for the current key, found from the current commit root
        obtain_leaf: assign(({ context: c }, p: { clone: boolean }) => ({
          leaf: p.clone ? null : { e: c.verLoc[c.commitVer][1 + c.leafIdx], tag: tagOf(c.commitVer, 1 + c.leafIdx) },
          leafVer: CS ? c.commitVer : 0,
        })),
        // incremental: the leaf through node I's child pointer
        obtain_leaf_from_node: assign(({ context: c }, p: { clone: boolean }) => {
          const ver = c.node!.ver;
          return { leaf: p.clone ? null : { e: c.verLoc[ver][1 + c.leafIdx], tag: tagOf(ver, 1 + c.leafIdx) }, leafVer: CS ? ver : 0 };
        }),
        next_leaf: assign(({ context: c }) => ({ leafIdx: c.leafIdx + 1 })),
        // restart_after_relocation(): release both paths, search_key_again() at the same level from the
        // current commit roots, clone the leaves and the root nodes; sctx->last_reloc_trans = ...
        restart_after_relocation: assign(({ context: c }) => ({
          rootVer: c.commitVer,
          node: c.phase === 'node' ? null : { e: c.verLoc[c.commitVer][0], tag: tagOf(c.commitVer, 0), ver: c.commitVer },
          leaf: null,
          leafVer: CS && c.phase !== 'node' ? c.commitVer : c.leafVer,
          sctxLast: c.lastRelocTrans,
        })),
        // the walk is stale when a commit switched the commit roots past the leaf's version: the
        // extent tree no longer has the leaf's disk_bytenr (relocated), or has it for other data
        backref_walk: assign(({ context: c }) => ({ walk: c.leafVer === c.commitVer ? 'fresh' : 'stale' })),
        clone_decision: assign((_, p: { clone: boolean }) => ({ cloneCmd: p.clone })),
        clone_done: assign({ walk: '', cloneCmd: false }),
        deref: assign(({ context: c }, p: { what: 'leaf' | 'node' | 'root_child' }) => {
          let r: Ref | null = null;
          if (p.what === 'leaf') r = c.leaf;
          else if (p.what === 'node') r = c.node ? { e: c.node.e, tag: c.node.tag } : null;
          else r = { e: c.verLoc[c.rootVer][0], tag: tagOf(c.rootVer, 0) };
          return { derefs: r };
        }),
        deref_done: assign({ derefs: null }),
        received: assign(({ context: c }) => ({ received: c.received + 1 })),
        // switch_commit_roots() of the transaction being committed (still fs_info->running_transaction in C5..C6)
        switch_commit_roots: assign(({ context: c }, p: { lastRelocTrans: boolean; thread: string }) => {
          const bump = p.lastRelocTrans && c.relocRunning;
          return { commitVer: c.curVer, lastRelocTrans: bump ? btrfsHandleTransid(c, FS, p.thread)! : c.lastRelocTrans };
        }),
        // btrfs_finish_extent_commit() -> unpin_extent_range(): extents pinned by this transaction (or an
        // earlier one) become allocatable
        unpin_extents: assign(({ context: c }, p: { thread: string }) => {
          const t = btrfsHandleTransid(c, FS, p.thread)!; // btrfs_finish_extent_commit(trans): trans->transid
          return { extState: c.extState.map((s, e) => (s === 'pinned' && c.extPin[e] <= t ? 'free' : s)) };
        }),
        // sendRepeat only: transaction ids grow with every stream's commit, so after each COMPLETED commit
        // every id in the state is replaced by its rank among them (0 kept as the floor). The model only
        // compares transids with each other (<, <=, ==; a new one is generation + 1, above all), so the
        // ranked state has exactly the futures of the original: a finite space with the same behaviours.
        renumber_transids: assign(({ context: c }) => rankTransids(c)),
        reloc_start: assign({ relocRunning: true }),
        reloc_end: assign({ relocRunning: false, relocDone: true }),
        reloc_round_done: assign(({ context: c }) => ({ relocRound: c.relocRound + 1 })),
        relocate: assign(({ context: c }) => {
          const newVer = c.verLoc.length;
          const old = c.verLoc[c.curVer];
          const fresh: number[] = [];
          for (let e = 0; e < c.extState.length && fresh.length < B; e++) if (c.extState[e] === 'free') fresh.push(e);
          const extState = c.extState.slice();
          const extPin = c.extPin.slice();
          const extTag = c.extTag.slice();
          const transid = btrfsHandleTransid(c, FS, 'relocation')!; // relocate_tree_blocks(trans, ...): trans->transid
          for (const e of old) {
            extState[e] = 'pinned';
            extPin[e] = transid;
          }
          fresh.forEach((e, b) => {
            extState[e] = 'used';
            extTag[e] = tagOf(newVer, b);
          });
          return { extState, extPin, extTag, verLoc: [...c.verLoc, fresh], curVer: newVer, relocDuringSend: c.relocDuringSend || c.sendActive };
        }),
        reuse_extent: assign(({ context: c }, p: { e: number }) => ({
          extState: c.extState.map((s, e) => (e === p.e ? 'used' : s)),
          extTag: c.extTag.map((t, e) => (e === p.e ? 'other' : t)),
          reusesLeft: c.reusesLeft - 1,
        })),
      },
    }).createMachine({
      id: 'btrfs-send',
      type: 'parallel',
      context,
      states: {
        send: { initial: 'ioctl', states: send },
        receive,
        relocation,
        allocator,
      },
    });
    declareModelLowerings(machine.implementations, { R, B, E, L, ITEMS, CS, REPEAT, mutex: f.mutex });
    return machine;
  },
  invariants: {
    // The seed's failure: send reads an extent buffer whose extent was freed and reused after send got it.
    no_stale_extent_buffer: (ctx: Context) => ctx.derefs === null || ctx.extTag[ctx.derefs.e] === ctx.derefs.tag,
    // BS-P1: a non-cloned extent buffer is read only under commit_root_sem (read) and after send has
    // seen last_reloc_trans unchanged since its snapshot (or restarted).
    bs_p1_freshness: (ctx: Context) => ctx.derefs === null || (sendHoldsRead(ctx) && ctx.sctxLast === ctx.lastRelocTrans),
    // BS-P2: changed_cb runs without commit_root_sem and on a cloned leaf.
    bs_p2_changed_cb_unlocked_on_clone: (ctx: Context, threads: ThreadLocations) =>
      !CHANGED_CB_STATES.includes(threads.send) || (!sendHoldsRead(ctx) && ctx.leaf === null),
    // BS-P6: send never sleeps on a full pipe while holding commit_root_sem.
    bs_p6_no_pipe_sleep_under_commit_root_sem: (ctx: Context, threads: ThreadLocations) =>
      !(PIPE_WRITE_STATES.includes(threads.send) && pipeFull(ctx, 'pipe') && sendHoldsRead(ctx)),
    // BS-P5: no clone command is built from a backref walk over a disk_bytenr that relocation moved
    // after the leaf was read (with cloneSources; otherwise vacuous).
    bs_p5_no_stale_clone_source: (ctx: Context, threads: ThreadLocations) => !(threads.send === 'kernel_write' && ctx.cloneCmd && ctx.walk === 'stale'),
    // Availability observation (not a safety property): no relocation transaction starts while a send
    // is running. Holds under mutual exclusion, fails when both run in parallel.
    no_relocation_during_send: (ctx: Context) => !ctx.relocDuringSend,
  },
  assertions: {
    // changed_cb(): lockdep_assert_not_held(&fs_info->commit_root_sem)
    changed_cb_not_holding_commit_root_sem: (ctx: Context) => !sendHoldsRead(ctx),
    // changed_cb(): ASSERT(test_bit(EXTENT_BUFFER_UNMAPPED, &left_path->nodes[0]->bflags))
    changed_cb_leaf_is_clone: (ctx: Context) => ctx.leaf === null,
  },
  waits: {
    ...kernelWaits,
    allocator_may_exit: (): WaitInfo | null => ({ resource: 'an extent freed by relocation and unpinned by a commit', kind: 'space', mode: 'btrfs_reserve_extent', holders: ['relocation', 'receive'] }),
    enough_free_extents: (ctx: Context): WaitInfo | null =>
      ctx.extState.filter((s: string) => s === 'free').length >= ctx.verLoc[0].length
        ? null
        : { resource: 'free extents (unpinned when a commit finishes)', kind: 'space', mode: 'btrfs_reserve_extent', holders: ['relocation', 'receive'] },
  },
});

// The invariants declared as expressions over the words (explorer/properties/words.ts): a new state is decoded
// for them only when its words do not show every one holding (each the same predicate as its function above).
const sendReads = D.includes(D.path(CRS, 'readers'), 'send');
/** At `loc`, the send thread's state is one of `states`. */
const sendAt = (states: string[]) => (name: string, loc: string) => name === 'send' && states.includes(loc);
declareInvariants(model.invariants!, {
  no_stale_extent_buffer: () => D.or(D.isNull('derefs'), D.eq(D.index(D.path('extTag'), D.read('derefs', 'e')), D.read('derefs', 'tag'))),
  bs_p1_freshness: () => D.or(D.isNull('derefs'), D.and(sendReads, D.eq(D.read('sctxLast'), D.read('lastRelocTrans')))),
  bs_p2_changed_cb_unlocked_on_clone: () =>
    D.everyThread((name, loc) => !sendAt(CHANGED_CB_STATES)(name, loc) || D.and(D.not(sendReads), D.isNull('leaf'))),
  bs_p6_no_pipe_sleep_under_commit_root_sem: () =>
    D.everyThread((name, loc) => !sendAt(PIPE_WRITE_STATES)(name, loc) || D.not(D.and(D.ge(D.read('pipe', 'count'), D.read('pipe', 'capacity')), sendReads))),
  bs_p5_no_stale_clone_source: () =>
    D.everyThread((name, loc) => !sendAt(['kernel_write'])(name, loc) || D.not(D.and(D.read('cloneCmd'), D.eq(D.read('walk'), D.lit('stale'))))),
  no_relocation_during_send: () => D.not(D.read('relocDuringSend')),
});
// changed_cb's two assertions on the words too (the send thread's changed_cb state is not decoded to check them).
declareAssertions(model.assertions!, {
  changed_cb_not_holding_commit_root_sem: () => D.not(sendReads),
  changed_cb_leaf_is_clone: () => D.isNull('leaf'),
});
export default model;
