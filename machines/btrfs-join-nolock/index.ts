// btrfs: the free space cache's ordered extent finishes inside a transaction commit. Its endio worker joins the
// committing transaction with TRANS_JOIN_NOLOCK, which btrfs_blocked_trans_types lets through in COMMIT_DOING;
// with a plain TRANS_JOIN it would wait for the commit that waits for it. Join rules of v6.6.
//
// Kernel code mirrored (v6.6):
//   committer  btrfs_commit_transaction() (fs/btrfs/transaction.c; machines/kernel/btrfs-trans.ts C1..C8) on a
//              handle it started with TRANS_START (already running: btrfsTransRunning). Between the writers drain
//              (C5) and TRANS_STATE_UNBLOCKED (C6) it runs commit_cowonly_roots() -> btrfs_write_dirty_block_groups()
//              (fs/btrfs/block-group.c): btrfs_write_out_cache() submits the free space inode's pages and
//              btrfs_wait_cache_io() waits for the IO and its ordered extent (fs/btrfs/free-space-cache.c).
//   endio      the endio_write worker running btrfs_finish_one_ordered() (fs/btrfs/inode.c) for the free space
//              inode: `if (freespace_inode) trans = btrfs_join_transaction_spacecache(root);` = start_transaction
//              (TRANS_JOIN_NOLOCK); else btrfs_join_transaction (TRANS_JOIN); insert the file extent, end the
//              transaction, finish the ordered extent (the committer's wait ends).
//   starter    (param starters) an ordinary writer: start_transaction(TRANS_START), then btrfs_end_transaction; it
//              waits in wait_current_trans while the commit is between COMMIT_START and UNBLOCKED.
//   joiner     (param joiners) btrfs_join_transaction (TRANS_JOIN): still joins in COMMIT_START (the commit then
//              waits for it in the num_writers drain), waits from COMMIT_DOING to UNBLOCKED.
// Variants: `nolock` is the kernel (v6.6). `join` gives the free space inode's completion a TRANS_JOIN: in
// COMMIT_DOING join_transaction returns -EBUSY, wait_current_trans waits for UNBLOCKED, and the commit never gets
// there: deadlock. The kernel's comment in start_transaction says the same of JOIN_NOLOCK: "we're already
// committing a transaction and waiting on this guy".
import { setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  btrfsCommitTransactionStates, btrfsRunningState, btrfsStartTransactionStates, btrfsTransRunning, btrfs_end_transaction,
  complete, completion, cond_true, kernelActions, kernelGuards, kernelWaits, TRANS_STATE_NAMES, wait_event, wait_for_completion,
  type BtrfsTransType,
} from '../kernel/index.ts';
import { assign } from 'xstate';

const FS = 'trans';

export default defineModel({
  name: 'btrfs-join-nolock',
  description:
    'btrfs: the free space cache ordered extent completes with TRANS_JOIN_NOLOCK while the commit (COMMIT_DOING) waits for it; with TRANS_JOIN it deadlocks against the commit',
  source: 'fs/btrfs/transaction.c (start_transaction, join_transaction, btrfs_blocked_trans_types, btrfs_commit_transaction), fs/btrfs/inode.c btrfs_finish_one_ordered, fs/btrfs/block-group.c btrfs_write_dirty_block_groups; v6.6',
  params: {
    starters: { default: 1, min: 0, max: 3, description: 'ordinary writers doing start_transaction(TRANS_START) during the commit' },
    joiners: { default: 1, min: 0, max: 3, description: 'ordinary writers doing btrfs_join_transaction (TRANS_JOIN) during the commit' },
  },
  variants: {
    nolock: { description: 'v6.6: btrfs_finish_one_ordered() joins with btrfs_join_transaction_spacecache (TRANS_JOIN_NOLOCK), allowed in COMMIT_DOING' },
    join: { description: 'the free space inode\'s completion joins with btrfs_join_transaction (TRANS_JOIN): blocked in COMMIT_DOING, deadlock' },
  },
  defaultVariant: 'nolock',
  create({ params, variant }) {
    const joinType: BtrfsTransType = variant === 'join' ? 'TRANS_JOIN' : 'TRANS_JOIN_NOLOCK';
    const starters = Number(params.starters);
    const c = 'committer';
    const commit = btrfsCommitTransactionStates({ thread: c, type: 'TRANS_START', next: 'done', commitRoots: { enter: 'write_out_cache' } });
    const con = (name: string, tr: any) => ({ on: { [`${c}.${name}`]: tr } });
    const committer = {
      initial: commit.initial,
      states: {
        ...commit.states,
        // commit_cowonly_roots -> btrfs_write_dirty_block_groups -> btrfs_write_out_cache: submit the cache pages
        write_out_cache: con('write_out_cache', { actions: [{ type: 'cache_io_submitted' }], target: 'wait_cache_io' }),
        // btrfs_wait_cache_io -> the ordered extent of the free space inode finishes
        wait_cache_io: con('wait_cache_io', { ...wait_for_completion('ordered', c, { name: 'free space cache ordered extent', by: ['endio'] }), target: commit.names.unblock }),
        done: { type: 'final' as const },
      },
    };

    const e = 'endio';
    const join = btrfsStartTransactionStates({ thread: e, type: joinType, next: 'insert_file_extent' });
    const eon = (name: string, tr: any) => ({ on: { [`${e}.${name}`]: tr } });
    const endio = {
      initial: 'idle',
      states: {
        // the endio_write workqueue runs btrfs_finish_ordered_io once the cache IO completes
        idle: eon('idle', { ...wait_event(cond_true('cache_io', { name: 'free space cache io submitted', by: [c] })), target: join.initial }),
        ...join.states,
        // insert_reserved_file_extent, btrfs_update_inode_fallback
        insert_file_extent: eon('insert_file_extent', { ...btrfs_end_transaction(FS, e, joinType), target: 'finish_ordered' }),
        // btrfs_finish_one_ordered: the ordered extent is done (wakes btrfs_wait_cache_io)
        finish_ordered: eon('finish_ordered', { ...complete('ordered'), target: 'done' }),
        done: { type: 'final' as const },
      },
    };

    const threads: Record<string, any> = { committer, endio };
    const writer = (t: string, type: BtrfsTransType) => {
      const st = btrfsStartTransactionStates({ thread: t, type, next: 'in_trans' });
      threads[t] = {
        initial: st.initial,
        states: {
          ...st.states,
          in_trans: { on: { [`${t}.end_transaction`]: { ...btrfs_end_transaction(FS, t, type), target: 'done' } } },
          done: { type: 'final' as const },
        },
      };
    };
    for (let i = 0; i < starters; i++) writer(`starter${i}`, 'TRANS_START');
    for (let i = 0; i < Number(params.joiners); i++) writer(`joiner${i}`, 'TRANS_JOIN');
    return setup({
      guards: { ...kernelGuards } as any,
      actions: { ...kernelActions, cache_io_submitted: assign({ cache_io: true }) } as any,
    }).createMachine({
      id: 'btrfs-join-nolock',
      type: 'parallel',
      context: {
        // the committer started transaction 1 with TRANS_START and calls btrfs_commit_transaction on it
        trans: btrfsTransRunning({ [c]: 'TRANS_START' }),
        cache_io: false,
        ordered: completion(),
      },
      states: threads,
    });
  },
  watch: {
    trans: (ctx: Context) => {
      const s = btrfsRunningState(ctx, FS);
      return s === null ? '(none running)' : TRANS_STATE_NAMES[s].replace('TRANS_STATE_', '');
    },
  },
  waits: kernelWaits,
});
