// gfs2: gfs2_create_inode() re-creates an inode whose iopen glock still has remote delete work (delete_work_func)
// running; with the new inode hashed and I_NEW it cancels that work SYNCHRONOUSLY (cancel_delayed_work_sync), which
// waits for delete_work_func, which is in gfs2_lookup_by_inum() -> gfs2_inode_lookup() -> iget5_locked() waiting
// for the same inode's I_NEW to clear (unlock_new_inode, at the end of gfs2_create_inode): deadlock.
//
// Source: commit 486408d690e1 "gfs2: Cancel remote delete work asynchronously" (Andreas Gruenbacher, v5.16-rc1;
// stable 5.14.19): steps (1)-(4) of its message are the trace; the fix is gfs2_cancel_delete_work() calling
// cancel_delayed_work() instead of cancel_delayed_work_sync(), safe because "when the delete work notices that its
// inode has been re-instantiated, it will do nothing".
// Kernel code mirrored: fs/gfs2/glock.c gfs2_cancel_delete_work, delete_work_func; fs/gfs2/inode.c
// gfs2_create_inode (insert_inode_locked4 hashes the new inode I_NEW; unlock_new_inode clears it and wakes
// __I_NEW waiters), gfs2_inode_lookup -> iget5_locked -> wait_on_inode (fs/inode.c find_inode: __wait_on_freeing_inode
// / wait_on_inode while I_NEW). kernel/workqueue.c cancel_delayed_work (try_to_grab_pending, no wait) and
// cancel_delayed_work_sync (__cancel_work_timer: grab, then flush the running instance).
// Not modelled: the glock state machine (the iopen glock's LM_ST_SHARED holder), the inode glock; the delete work
// is already running at the start (step 1-2 of the message: queued by iopen_go_callback, picked by a kworker).
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  cancel_work, cancel_work_sync, cond_false, cond_true, kernelActions, kernelGuards, kernelWaits, kworker_idle, wait_event, worker_done, workqueueWith,
  oneEvent,
} from '../kernel/index.ts';

const WQ = 'sd_delete_wq';

export default defineModel({
  name: 'gfs2-delete-work',
  description: 'gfs2: gfs2_create_inode() cancels the iopen glock delete work synchronously while its new inode is I_NEW; delete_work_func waits in iget5_locked() for I_NEW (486408d690e1)',
  source: 'commit 486408d690e1 (gfs2: Cancel remote delete work asynchronously, v5.16); fs/gfs2/glock.c, fs/gfs2/inode.c, fs/inode.c, kernel/workqueue.c',
  params: {},
  variants: {
    'cancel-sync': { description: 'before 486408d690e1: gfs2_cancel_delete_work() -> cancel_delayed_work_sync(&gl->gl_delete)' },
    fixed: { description: '486408d690e1: gfs2_cancel_delete_work() -> cancel_delayed_work(&gl->gl_delete), no wait for the running work' },
  },
  defaultVariant: 'cancel-sync',
  create({ variant }) {
    const set = (path: string, value: any) => ({ type: 'set', params: { path, value } });
    const c = 'creator';
    const cancel = cancel_work_sync(WQ, 'gl_delete', c);
    const creator = {
      initial: 'insert_inode_locked',
      states: {
        // insert_inode_locked4(inode, ...): the new inode is hashed with I_NEW set
        insert_inode_locked: oneEvent(c, 'insert_inode_locked4', { actions: [set('inode.hashed', true), set('inode.i_new', true)], target: 'cancel_delete_work' }),
        // gfs2_cancel_delete_work(io_gl): cancel_delayed_work_sync() / (fixed) cancel_delayed_work()
        cancel_delete_work:
          variant === 'fixed'
            ? oneEvent(c, 'cancel_delayed_work', { ...cancel_work(WQ, 'gl_delete', c), target: 'unlock_new_inode' })
            : oneEvent(c, 'cancel_delayed_work_sync', { ...cancel.grab, target: 'cancel_wait' }),
        // __cancel_work_timer(): __flush_work() on the running instance
        cancel_wait: oneEvent(c, 'cancel_wait', { ...cancel.wait, target: 'unlock_new_inode' }),
        // gfs2_glock_nq_init(io_gl, ...), ...; unlock_new_inode(inode): clear I_NEW, wake_up_bit(&inode->i_state, __I_NEW)
        unlock_new_inode: oneEvent(c, 'unlock_new_inode', { actions: [set('inode.i_new', false)], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    const w = 'kworker';
    const kworker = {
      initial: 'delete_work_func',
      states: {
        idle: kworker_idle({ wq: WQ, worker: w, event: `${w}.process_one_work`, next: 'delete_work_func', item: 'gl_delete' }),
        // delete_work_func() -> gfs2_lookup_by_inum() -> gfs2_inode_lookup() -> iget5_locked(): find_inode()
        delete_work_func: {
          on: {
            // the old inode was evicted and nobody re-created it yet: gfs2_inode_lookup reads it, finds the block
            // not unlinked any more or deletes it (abstracted: the work ends)
            [`${w}.iget_miss`]: { guard: cond_false('inode.hashed'), target: 'work_done' },
            // the new instance is hashed: wait_on_inode() while I_NEW (woken by unlock_new_inode)
            [`${w}.iget_found`]: { guard: cond_true('inode.hashed'), target: 'wait_on_inode' },
          },
        },
        wait_on_inode: oneEvent(w, 'wait_on_inode', { ...wait_event(cond_false('inode.i_new', { name: 'inode I_NEW', by: [c] })), target: 'work_done' }),
        // the inode is the re-instantiated one: nothing to delete; iput(); process_one_work() returns
        work_done: oneEvent(w, 'work_done', { ...worker_done(WQ, w), target: 'idle' }),
      },
    };
    return setup({
      guards: { ...kernelGuards } as any,
      actions: {
        ...kernelActions,
        set: assign(({ context }: any, p: { path: string; value: any }) => {
          const [k, f] = p.path.split('.');
          return { [k]: { ...context[k], [f]: p.value } };
        }),
      } as any,
    }).createMachine({
      id: 'gfs2-delete-work',
      type: 'parallel',
      context: {
        // the delete work already runs on the kworker (the message's steps 1-2)
        sd_delete_wq: workqueueWith(['gl_delete'], { running: { gl_delete: w } }),
        inode: { hashed: false, i_new: false },
      },
      states: { creator, kworker } as any,
    });
  },
  waits: kernelWaits,
});
