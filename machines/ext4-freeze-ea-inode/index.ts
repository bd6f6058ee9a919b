// ext4: a task holding a jbd2 handle evicts an EA inode and waits for freeze protection while freeze_super's
// ->freeze_fs (ext4_freeze) locks journal updates: the deadlock fixed by 46e294efc355 (v5.11), and the fix.
//
// Source: commit 46e294efc355 "ext4: fix deadlock with fs freezing and EA inodes" (Jan Kara, v5.11-rc1); the same
// rule restated by 530fea29ef82 "ext4: protect ext4_release_dquot against freezing" (v6.13): "Trying to
// sb_start_intwrite() in a running transaction can result in a deadlock. Further, running transactions are already
// protected from freezing." Kernel code mirrored: fs/ext4/xattr.c ext4_xattr_set / ext4_xattr_set_entry,
// fs/ext4/inode.c ext4_evict_inode, fs/ext4/super.c ext4_freeze, fs/jbd2/transaction.c (machines/kernel/jbd2.ts),
// fs/super.c freeze_super (machines/kernel/freeze.ts).
//
// Threads:
//   xattr    CPU1 of the commit message: removexattr() -> ext4_xattr_set(), which has ALREADY started its handle
//            (the model starts there: jbd2JournalRunning({ xattr: 1 })); ext4_xattr_set_entry() drops the last
//            reference of the old EA inode: iput() -> ext4_evict_inode():
//              intwrite-in-handle: sb_start_intwrite(sb) unconditionally, then ext4_journal_start (nested)
//              fixed:              if (!ext4_journal_current_handle()) sb_start_intwrite(sb); the nested start
//            then the inode is deleted, ext4_journal_stop, sb_end_intwrite (if taken); ext4_xattr_set stops its
//            own handle.
//   freezer  CPU2: freeze_super() (F1..F15); ->freeze_fs = ext4_freeze(): jbd2_journal_lock_updates,
//            jbd2_journal_flush, ext4_commit_super, jbd2_journal_unlock_updates.
// Param mntWantWrite: the removexattr() SYSCALL path takes mnt_want_write() -> sb_start_write() before
// ext4_xattr_set(); the commit's diagram leaves it out. With it (true), the freezer cannot pass
// sb_wait_write(SB_FREEZE_WRITE) (F7) while CPU1 is inside, and even the unfixed variant passes: the deadlock
// needs a handle holder without SB_FREEZE_WRITE protection (lockdep flags the jbd2_handle -> sb_internal
// inversion either way).
import { and, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  freezeSuperStates, jbd2JournalRunning, jbd2_current_handle, jbd2_journal_lock_updates, jbd2_journal_start, jbd2_journal_stop,
  jbd2_journal_unlock_updates, jbd2_no_current_handle, kernelActions, kernelGuards, kernelWaits, rwsem, sbFrozen, sbWriters,
  sbWritersHeld, sb_end_intwrite, sb_end_write, sb_start_intwrite, SB_FREEZE_COMPLETE, SB_LEVEL_NAMES,
} from '../kernel/index.ts';

const J = 'journal';
const SB = 's_writers';

export default defineModel({
  name: 'ext4-freeze-ea-inode',
  description:
    'ext4: ext4_evict_inode() of an EA inode inside ext4_xattr_set()\'s handle waits for sb_start_intwrite while ext4_freeze() waits in jbd2_journal_lock_updates() for that handle; fixed by 46e294efc355',
  source: 'commit 46e294efc355 (ext4: fix deadlock with fs freezing and EA inodes, v5.11); 530fea29ef82 (v6.13); fs/ext4/inode.c ext4_evict_inode, fs/ext4/super.c ext4_freeze, fs/jbd2/transaction.c',
  params: {
    mntWantWrite: { default: false, description: 'the xattr task also holds sb_start_write (the removexattr syscall path: mnt_want_write), as the commit diagram does not show' },
  },
  variants: {
    'intwrite-in-handle': { description: 'before 46e294efc355: ext4_evict_inode() always takes sb_start_intwrite, even inside a running handle: deadlock with ext4_freeze' },
    fixed: { description: '46e294efc355: ext4_evict_inode() skips sb_start_intwrite when ext4_journal_current_handle() is set; the nested handle joins the transaction lock_updates is draining' },
  },
  defaultVariant: 'intwrite-in-handle',
  create({ params, variant }) {
    const wantWrite = Boolean(params.mntWantWrite);
    const t = 'xattr';
    const on = (name: string, tr: any) => ({ on: { [`${t}.${name}`]: tr } });
    const intwrite = sb_start_intwrite(SB, t);
    const xattr = {
      initial: 'evict_freeze_protect',
      states: {
        // ext4_evict_inode(): sb_start_intwrite(inode->i_sb) -- 46e294efc355: only if (!ext4_journal_current_handle())
        evict_freeze_protect: on(
          'evict_freeze_protect',
          variant === 'fixed'
            ? [
                // both conditions: no current handle AND sb_start_intwrite's own (a spread after `guard` would replace it)
                { ...intwrite, guard: and([jbd2_no_current_handle(J, t), intwrite.guard!]), target: 'evict_journal_start_protected' },
                { guard: jbd2_current_handle(J, t), target: 'evict_journal_start' },
              ]
            : { ...sb_start_intwrite(SB, t), target: 'evict_journal_start_protected' },
        ),
        // handle = ext4_journal_start(inode, EXT4_HT_TRUNCATE, extra_credits): jbd2__journal_start nests (h_ref++)
        evict_journal_start_protected: { meta: { assert: 'ext4_journal_check_start' }, ...on('evict_journal_start_protected', jbd2_journal_start(J, t, 'evict_delete_protected')) },
        evict_journal_start: { meta: { assert: 'ext4_journal_check_start' }, ...on('evict_journal_start', jbd2_journal_start(J, t, 'evict_delete')) },
        // ext4_orphan_add, ext4_truncate, ext4_free_inode ...; ext4_journal_stop(handle)
        evict_delete_protected: on('evict_delete_protected', { ...jbd2_journal_stop(J, t), target: 'evict_sb_end_intwrite' }),
        evict_delete: on('evict_delete', { ...jbd2_journal_stop(J, t), target: 'xattr_journal_stop' }),
        // if (freeze_protected) sb_end_intwrite(inode->i_sb)
        evict_sb_end_intwrite: on('evict_sb_end_intwrite', { ...sb_end_intwrite(SB, t), target: 'xattr_journal_stop' }),
        // back in ext4_xattr_set(): ext4_journal_stop(handle) (and mnt_drop_write -> sb_end_write on the syscall path)
        xattr_journal_stop: on('xattr_journal_stop', {
          actions: [...jbd2_journal_stop(J, t).actions!, ...(wantWrite ? sb_end_write(SB, t).actions! : [])],
          target: 'done',
        }),
        done: { type: 'final' as const },
      },
    };

    // ext4_freeze(): the ->freeze_fs hook of freeze_super (F14)
    const f = 'freezer';
    const lock = jbd2_journal_lock_updates(J, f, 'journal');
    const fz = freezeSuperStates({ thread: f, next: 'frozen', freeze_fs: { enter: 'ext4_freeze_lock_updates' } });
    const fon = (name: string, tr: any) => ({ on: { [`${f}.${name}`]: tr } });
    const freezer = {
      initial: fz.initial,
      states: {
        ...fz.states,
        // jbd2_journal_lock_updates(journal): ++j_barrier_count; jbd2_journal_wait_updates(); mutex_lock(&j_barrier)
        ext4_freeze_lock_updates: fon('ext4_freeze_lock_updates', { ...lock.barrier, target: 'ext4_freeze_wait_updates' }),
        ext4_freeze_wait_updates: fon('ext4_freeze_wait_updates', { ...lock.drain, target: 'ext4_freeze_j_barrier' }),
        ext4_freeze_j_barrier: fon('ext4_freeze_j_barrier', { ...lock.mutex, target: 'ext4_freeze_flush' }),
        // jbd2_journal_flush(journal, 0); clear needs_recovery; ext4_commit_super(sb): no handle can be open here
        ext4_freeze_flush: fon('ext4_freeze_flush', { target: 'ext4_freeze_unlock_updates' }),
        // jbd2_journal_unlock_updates(journal) ("we rely on upper layer to stop further updates")
        ext4_freeze_unlock_updates: fon('ext4_freeze_unlock_updates', { ...jbd2_journal_unlock_updates(J, f), target: fz.names.afterFreezeFs }),
        frozen: { type: 'final' as const },
      },
    };

    return setup({ guards: { ...kernelGuards } as any, actions: { ...kernelActions } as any }).createMachine({
      id: 'ext4-freeze-ea-inode',
      type: 'parallel',
      context: {
        s_umount: rwsem(),
        s_writers: wantWrite ? sbWritersHeld({ write: [t] }) : sbWriters(),
        // ext4_xattr_set() already holds its handle: handle = ext4_journal_start(inode, EXT4_HT_XATTR, credits)
        journal: jbd2JournalRunning({ [t]: 1 }),
      },
      states: { xattr, freezer },
    });
  },
  assertions: {
    // ext4_journal_check_start(): WARN_ON(sb->s_writers.frozen == SB_FREEZE_COMPLETE)
    ext4_journal_check_start: (ctx: Context) => sbFrozen(ctx, SB) !== SB_FREEZE_COMPLETE,
  },
  watch: {
    frozen: (ctx: Context) => SB_LEVEL_NAMES[sbFrozen(ctx, SB)],
  },
  waits: kernelWaits,
});
