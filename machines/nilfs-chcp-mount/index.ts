// nilfs2: the chcp ioctl (NILFS_IOCTL_CHANGE_CPMODE) took ns_mount_mutex INSIDE its transaction
// (nilfs_transaction_begin: down_read(&nilfs->ns_segctor_sem)), while a mount holds ns_mount_mutex, then the new
// superblock's s_umount (sget), then takes ns_segctor_sem for read (nilfs_attach_checkpoint): the lock-order
// cycle ns_mount_mutex -> s_umount -> ns_segctor_sem -> ns_mount_mutex that lockdep reported.
//
// Source: commit c1ea985c710f "nilfs2: fix lock order reversal in chcp operation" (Ryusuke Konishi, v2.6.32-rc7).
// Its lockdep splat (2.6.32-rc6, before the "possible unsafe locking scenario" table existed): chcp/30157 is
// trying to acquire &nilfs->ns_mount_mutex (nilfs_cpfile_change_cpmode) while holding &nilfs->ns_segctor_sem
// (nilfs_transaction_begin); existing chain: #2 ns_segctor_sem, down_read in nilfs_attach_checkpoint
// <- nilfs_get_sb; #1 &type->s_umount_key#31/1, down_write_nested in sget <- nilfs_get_sb; #0 ns_mount_mutex,
// mutex_lock in nilfs_cpfile_change_cpmode <- nilfs_ioctl. The fix moves mutex_lock(&nilfs->ns_mount_mutex) out
// of nilfs_cpfile_change_cpmode() into nilfs_ioctl_change_cpmode(), before nilfs_transaction_begin().
// Kernel code mirrored (v2.6.32): fs/nilfs2/ioctl.c nilfs_ioctl_change_cpmode; fs/nilfs2/cpfile.c
// nilfs_cpfile_change_cpmode (case NILFS_CHECKPOINT: mutex_lock(&nilfs->ns_mount_mutex),
// nilfs_checkpoint_is_mounted, nilfs_cpfile_clear_snapshot); fs/nilfs2/segment.c nilfs_transaction_begin /
// nilfs_transaction_commit (down_read / up_read ns_segctor_sem), nilfs_transaction_lock (the segment
// constructor's down_write); fs/nilfs2/super.c nilfs_get_sb (mutex_lock(&nilfs->ns_mount_mutex); sget();
// nilfs_fill_super -> nilfs_attach_checkpoint: down_read(&nilfs->ns_segctor_sem)); fs/super.c sget
// (down_write(&s->s_umount) of the new superblock, released by vfs_kern_mount's caller).
// The deadlock needs a writer: both sides take ns_segctor_sem for READ, which only blocks behind the segment
// constructor's queued down_write (the 2.6.32 rwsem: a reader queues behind a waiting writer). With
// `segctor: false` no interleaving deadlocks and the lock-order check still reports the cycle, as lockdep did.
// Not modelled: the checkpoint file itself (nilfs_checkpoint_is_mounted, the snapshot flag), ns_super_sem,
// the -EBUSY path, the chcp's mnt_want_write (sb_writers is not part of the cycle).
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import {
  down_read, down_write, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, rwsem, up_read, up_write,
  oneEvent,
} from '../kernel/index.ts';

const SEG = 'ns_segctor_sem';
const MOUNT = 'ns_mount_mutex';
const UMOUNT = 's_umount';

export default defineModel({
  name: 'nilfs-chcp-mount',
  description: 'nilfs2: chcp takes ns_mount_mutex inside its transaction (ns_segctor_sem read) while a mount takes ns_mount_mutex -> s_umount -> ns_segctor_sem (c1ea985c710f)',
  source: 'commit c1ea985c710f (nilfs2: fix lock order reversal in chcp operation, v2.6.32); fs/nilfs2/ioctl.c, cpfile.c, segment.c, super.c; fs/super.c sget',
  params: {
    segctor: { default: true, description: 'a segment constructor (nilfs_transaction_lock: down_write ns_segctor_sem) runs too; without it the cycle cannot deadlock' },
  },
  variants: {
    'lock-in-cpfile': { description: 'before c1ea985c710f: nilfs_cpfile_change_cpmode() takes ns_mount_mutex inside the transaction' },
    fixed: { description: 'c1ea985c710f: nilfs_ioctl_change_cpmode() takes ns_mount_mutex before nilfs_transaction_begin()' },
  },
  defaultVariant: 'lock-in-cpfile',
  create({ params, variant }) {
    const c = 'chcp';
    const begin = (next: string) => oneEvent(c, 'nilfs_transaction_begin', down_read(SEG, c, next, SEG));
    const chcp =
      variant === 'fixed'
        ? {
            initial: 'lock_mount_mutex',
            states: {
              // nilfs_ioctl_change_cpmode(): mutex_lock(&nilfs->ns_mount_mutex) first
              lock_mount_mutex: oneEvent(c, 'mutex_lock', { ...mutex_lock(MOUNT, c, MOUNT), target: 'transaction_begin' }),
              transaction_begin: begin('change_cpmode'),
              // nilfs_cpfile_change_cpmode(): nilfs_checkpoint_is_mounted(), nilfs_cpfile_clear_snapshot(), no lock
              change_cpmode: oneEvent(c, 'nilfs_cpfile_change_cpmode', { target: 'transaction_commit' }),
              // nilfs_transaction_commit(): up_read(&nilfs->ns_segctor_sem)
              transaction_commit: oneEvent(c, 'nilfs_transaction_commit', { ...up_read(SEG, c, SEG), target: 'unlock_mount_mutex' }),
              unlock_mount_mutex: oneEvent(c, 'mutex_unlock', { ...mutex_unlock(MOUNT, c, MOUNT), target: 'done' }),
              done: { type: 'final' as const },
            },
          }
        : {
            initial: 'transaction_begin',
            states: {
              // nilfs_ioctl_change_cpmode(): nilfs_transaction_begin(inode->i_sb, &ti, 0)
              transaction_begin: begin('change_cpmode'),
              // nilfs_cpfile_change_cpmode(), case NILFS_CHECKPOINT: mutex_lock(&nilfs->ns_mount_mutex)
              change_cpmode: oneEvent(c, 'mutex_lock', { ...mutex_lock(MOUNT, c, MOUNT), target: 'clear_snapshot' }),
              // nilfs_checkpoint_is_mounted(); nilfs_cpfile_clear_snapshot(); mutex_unlock(&nilfs->ns_mount_mutex)
              clear_snapshot: oneEvent(c, 'mutex_unlock', { ...mutex_unlock(MOUNT, c, MOUNT), target: 'transaction_commit' }),
              transaction_commit: oneEvent(c, 'nilfs_transaction_commit', { ...up_read(SEG, c, SEG), target: 'done' }),
              done: { type: 'final' as const },
            },
          };
    const m = 'mount';
    const mount = {
      initial: 'get_sb',
      states: {
        // nilfs_get_sb(): mutex_lock(&nilfs->ns_mount_mutex)
        get_sb: oneEvent(m, 'mutex_lock', { ...mutex_lock(MOUNT, m, MOUNT), target: 'sget' }),
        // sget(): the new superblock's down_write(&s->s_umount) (lockdep: &type->s_umount_key/1, down_write_nested)
        sget: oneEvent(m, 'sget', down_write(UMOUNT, m, 'attach_checkpoint', UMOUNT)),
        // nilfs_fill_super() -> nilfs_attach_checkpoint(): down_read(&nilfs->ns_segctor_sem)
        attach_checkpoint: oneEvent(m, 'nilfs_attach_checkpoint', down_read(SEG, m, 'checkpoint_read', SEG)),
        // nilfs_cpfile_get_checkpoint(); up_read(&nilfs->ns_segctor_sem)
        checkpoint_read: oneEvent(m, 'up_read', { ...up_read(SEG, m, SEG), target: 'unlock_mount_mutex' }),
        // nilfs_get_sb(): mutex_unlock(&nilfs->ns_mount_mutex)
        unlock_mount_mutex: oneEvent(m, 'mutex_unlock', { ...mutex_unlock(MOUNT, m, MOUNT), target: 'mounted' }),
        // vfs_kern_mount(): up_write(&mnt->mnt_sb->s_umount)
        mounted: oneEvent(m, 'up_write', { ...up_write(UMOUNT, m, UMOUNT), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const s = 'segctor';
    const segctor = {
      initial: 'transaction_lock',
      states: {
        // nilfs_segctor_thread() -> nilfs_segctor_construct(): nilfs_transaction_lock(): down_write(&nilfs->ns_segctor_sem)
        transaction_lock: oneEvent(s, 'nilfs_transaction_lock', down_write(SEG, s, 'construct', SEG)),
        // the segment is written; nilfs_transaction_unlock(): up_write(&nilfs->ns_segctor_sem)
        construct: oneEvent(s, 'nilfs_transaction_unlock', { ...up_write(SEG, s, SEG), target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({ guards: { ...kernelGuards } as any, actions: { ...kernelActions } as any }).createMachine({
      id: 'nilfs-chcp-mount',
      type: 'parallel',
      // the 2.6.32 rw_semaphore: no reader lock stealing, a down_read queues behind a waiting writer
      context: { [SEG]: rwsem({ readerSteal: false }), [MOUNT]: mutex(), [UMOUNT]: rwsem({ readerSteal: false }) },
      states: { chcp, mount, ...(params.segctor ? { segctor } : {}) } as any,
    });
  },
  waits: kernelWaits,
});
