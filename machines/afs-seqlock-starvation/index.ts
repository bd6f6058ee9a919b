// afs: afs_find_server_by_uuid() walks net->fs_servers (an rbtree) under the seqlock net->fs_lock with the
// "lockless first, locked on retry" idiom: do { read_seqbegin_or_lock(&lock, &seq); walk } while
// (need_seqretry(&lock, seq)); done_seqretry(&lock, seq). That idiom only takes the lock when `seq` is ODD, and
// read_seqbegin_or_lock() overwrites an even seq with the (even) sequence count. The afs code started with
// seq = 0 and never made it odd, so every pass was lockless: a stream of writers (afs_install_server(),
// afs_gc_servers(): write_seqlock(&net->fs_lock)) that changes the tree during each walk makes the reader retry
// forever (reader starvation, remotely drivable by cache-manager requests: David Howells' point (6) in the fix).
//
// Source: commit 1702e0654ca9 "afs: fix the usage of read_seqbegin_or_lock() in afs_find_server*()" (Oleg
// Nesterov, v6.8, in stable down to 4.19): seq = 1 at the start and seq++ before each read_seqbegin_or_lock():
// "2 on the 1st/lockless path, otherwise odd", so the second pass is a locking reader and cannot be retried.
// Kernel code mirrored (fs/afs/server.c before/after 1702e0654ca9; include/linux/seqlock.h v6.6):
// afs_find_server_by_uuid (the do/while, the rb walk as one step), read_seqbegin_or_lock (even: *seq =
// read_seqbegin(), which spins while the count is odd; odd: read_seqlock_excl = spin_lock(&sl->lock)),
// need_seqretry (!(seq & 1) && read_seqretry: the count moved since read_seqbegin), done_seqretry (odd:
// read_sequnlock_excl), write_seqlock (spin_lock(&sl->lock); the count becomes odd) / write_sequnlock (even
// again; spin_unlock) as afs_install_server and afs_gc_servers call them around the rbtree change.
// The seqlock: `fs_lock.lock` is its spinlock, a queued one (machines/kernel qspinlock: qspinlock/ticket locks
// are FIFO, so the looping writer queues behind the locking reader); `fs_lock.odd` is the count's low bit;
// `moved` is "the count is no longer the reader's even start" (read_seqretry), set by every write_seqlock
// while the reader is in a lockless pass: the sequence number without a counter.
// Assumption (both variants): a reader spinning in read_seqbegin() on an odd count reads the even count before
// the writer's next write_seqlock (the writer's next afs_install_server() waits for it). In the kernel the
// writer's unlocked gap between two installs is a VL lookup long; here every step is atomic, and weak fairness
// alone lets the writer re-lock in every gap (read_seqbegin has no progress guarantee against a writer that
// never stops). `--param readerSeesEven=false` drops the assumption: then the fixed reader, too, can starve in
// read_seqbegin under weak fairness; under `fairness: strong` ("an even count seen infinitely often is read")
// it does not (specs/afs-seqlock-starvation-fixed-strong.json). The weak specs keep the assumption: strong
// fairness would also make the owner-only spinlock of `fixed-barging` fair.
// Variant `fixed-barging` runs the fixed code on the owner-only spinlock(): there the looping writer can always
// take the lock back before the locking reader, a starvation the kernel's queued spinlock does not have.
// Not modelled: RCU, the server refcounts (afs_use_server/afs_unuse_server), the addresses list
// (afs_find_server, same fix), memory ordering.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import { kernelActions, kernelGuards, kernelWaits, qspinlock, spin_lock, spin_lock_queued, spin_unlock, spinlock, oneEvent } from '../kernel/index.ts';

const SL = 'fs_lock.lock';

export default defineModel({
  name: 'afs-seqlock-starvation',
  description:
    'afs: afs_find_server_by_uuid() starts read_seqbegin_or_lock() with seq = 0 and never makes it odd, so it never takes net->fs_lock: a writer stream starves it (1702e0654ca9)',
  source:
    'commit 1702e0654ca9 (afs: fix the usage of read_seqbegin_or_lock() in afs_find_server*(), v6.8); fs/afs/server.c afs_find_server_by_uuid / afs_install_server / afs_gc_servers; include/linux/seqlock.h read_seqbegin_or_lock / need_seqretry / done_seqretry',
  params: {
    writes: { default: -1, description: 'write sections the writer runs (afs_install_server/afs_gc_servers); -1: forever', min: -1, max: 3 },
    readerSeesEven: {
      default: true,
      description: "the writer's next write_seqlock waits for a reader spinning in read_seqbegin to read the even count (the header's assumption); false: weak fairness alone",
    },
  },
  variants: {
    'even-seq': { description: 'before 1702e0654ca9: int seq = 0; every pass read_seqbegin (lockless), retried while the count moved' },
    fixed: { description: '1702e0654ca9: seq = 1; seq++ per pass: the first pass lockless, the retry read_seqlock_excl (queued spinlock)' },
    'fixed-barging': { description: 'the fixed code on the owner-only spinlock (no queue): the writer can re-take the lock before the reader' },
  },
  defaultVariant: 'even-seq',
  create({ params, variant }) {
    const writes = params.writes as number;
    const queued = variant !== 'fixed-barging';
    const seesEven = params.readerSeesEven !== false;
    // spin_lock(&sl->lock) with the model's actions on acquisition
    const lock = (t: string, target: string, actions: any[]) => {
      if (queued) return spin_lock_queued(SL, t, { target, actions }, 'fs_lock');
      const step = spin_lock(SL, t, 'fs_lock');
      return { ...step, actions: [...step.actions!, ...actions], target };
    };
    const w = 'writer';
    const writer = {
      initial: 'install',
      states: {
        // the next afs_install_server()/afs_gc_servers() call (see the header's assumption)
        install: {
          on: {
            [`${w}.afs_install_server`]: [
              ...(writes >= 0 ? [{ guard: { type: 'writes_done' }, target: 'done' }] : []),
              { guard: { type: 'no_reader_spinning' }, target: 'write_seqlock' },
            ],
          },
        },
        // write_seqlock(&net->fs_lock): spin_lock(&sl->lock); do_write_seqcount_begin() (count odd)
        write_seqlock: oneEvent(w, 'write_seqlock', lock(w, 'rb_change', [{ type: 'write_seqcount_begin' }])),
        // rb_insert_color / rb_erase / rb_replace_node_rcu on net->fs_servers
        rb_change: oneEvent(w, 'rb_insert_color', { target: 'write_sequnlock', meta: { progress: true } }),
        // write_sequnlock(&net->fs_lock): do_write_seqcount_end() (count even); spin_unlock(&sl->lock)
        write_sequnlock: oneEvent(w, 'write_sequnlock', { actions: [{ type: 'write_seqcount_end' }, ...spin_unlock(SL, w, 'fs_lock').actions!], target: 'install' }),
        done: { type: 'final' as const },
      },
    };
    const r = 'reader';
    const reader = {
      initial: 'read_seqbegin_or_lock',
      states: {
        // [fixed: seq++;] read_seqbegin_or_lock(&net->fs_lock, &seq), seq even:
        //   *seq = read_seqbegin(lock): spins while the count is odd, then starts a lockless pass
        read_seqbegin_or_lock: {
          on: {
            [`${r}.read_seqbegin_or_lock`]: [
              { guard: { type: 'read_seqbegin_even' }, actions: [{ type: 'read_seqbegin' }], target: 'rb_walk' },
              { guard: { type: 'read_seqbegin_odd' }, actions: [{ type: 'set_spinning' }] },
            ],
          },
        },
        // fixed, second pass: seq++ made seq odd: read_seqbegin_or_lock() -> read_seqlock_excl(lock) =
        // spin_lock(&sl->lock): a locking reader, excluding the writers
        ...(variant === 'even-seq' ? {} : { read_seqlock_excl: oneEvent(r, 'read_seqlock_excl', lock(r, 'rb_walk', [{ type: 'set_seq_odd' }])) }),
        // p = net->fs_servers.rb_node; while (p) { ... memcmp(uuid, &server->uuid) ... }
        rb_walk: oneEvent(r, 'rb_walk', { target: 'need_seqretry' }),
        // } while (need_seqretry(&net->fs_lock, seq));  (fixed: the retry's seq++ makes it odd)
        need_seqretry: {
          on: {
            [`${r}.need_seqretry`]: [
              { guard: { type: 'read_seqretry' }, target: variant === 'even-seq' ? 'read_seqbegin_or_lock' : 'read_seqlock_excl' },
              { target: 'done_seqretry' },
            ],
          },
        },
        // done_seqretry(&net->fs_lock, seq): odd -> read_sequnlock_excl(lock)
        done_seqretry: {
          on: {
            [`${r}.done_seqretry`]: [
              { guard: { type: 'seq_locked' }, actions: [...spin_unlock(SL, r, 'fs_lock').actions!, { type: 'clear_seq_locked' }], target: 'found' },
              { target: 'found' },
            ],
          },
        },
        // _leave(" = %p", server): the lookup returned (found or not)
        found: { type: 'final' as const, meta: { progress: true } },
      },
    };
    return setup({
      guards: {
        ...kernelGuards,
        writes_done: ({ context }: any) => context.writes_left === 0,
        no_reader_spinning: ({ context }: any) => !(seesEven && context.spinning) && context.writes_left !== 0,
        // read_seqbegin(): the count is even (it returns), or odd (it spins: once, then waits for even)
        read_seqbegin_even: ({ context }: any) => !context.fs_lock.odd,
        read_seqbegin_odd: ({ context }: any) => context.fs_lock.odd && !context.spinning,
        // read_seqretry(lock, seq): lockless pass and the count moved
        read_seqretry: ({ context }: any) => context.seq !== 'odd' && context.moved,
        seq_locked: ({ context }: any) => context.seq === 'odd',
      } as any,
      actions: {
        ...kernelActions,
        write_seqcount_begin: assign(({ context }: any) => ({
          fs_lock: { ...context.fs_lock, odd: true },
          moved: context.seq === 'odd' ? context.moved : true,
          writes_left: context.writes_left > 0 ? context.writes_left - 1 : context.writes_left,
        })),
        write_seqcount_end: assign(({ context }: any) => ({ fs_lock: { ...context.fs_lock, odd: false } })),
        read_seqbegin: assign({ seq: 'even', moved: false, spinning: false }),
        set_spinning: assign({ spinning: true }),
        set_seq_odd: assign({ seq: 'odd' }),
        clear_seq_locked: assign({ seq: 'even' }),
      } as any,
    }).createMachine({
      id: 'afs-seqlock-starvation',
      type: 'parallel',
      // seq: the reader's local (even: a lockless pass's start count; odd: a locking pass); moved: the count
      // changed since that start; spinning: the reader read an odd count in read_seqbegin and spins
      context: {
        fs_lock: { lock: queued ? qspinlock() : spinlock(), odd: false },
        seq: 'even',
        moved: false,
        spinning: false,
        writes_left: writes,
      },
      states: { writer, reader } as any,
    });
  },
  invariants: {
    // a locking reader excludes writers: no write section (odd count) while the reader holds the lock
    lockingReaderExcludesWriters: (ctx: Context) => !(ctx.seq === 'odd' && ctx.fs_lock.lock.owner === 'reader' && ctx.fs_lock.odd),
  },
  // Footprints of this model's own steps, for --reduce por (explorer/reduce/declare.ts); the spinlock carries its own.
  footprints: {
    writes_done: { reads: ['writes_left'] },
    no_reader_spinning: { reads: ['spinning', 'writes_left'] },
    read_seqbegin_even: { reads: ['fs_lock.odd'] },
    read_seqbegin_odd: { reads: ['fs_lock.odd', 'spinning'] },
    read_seqretry: { reads: ['seq', 'moved'] },
    seq_locked: { reads: ['seq'] },
    write_seqcount_begin: { reads: ['seq', 'moved', 'writes_left'], writes: ['fs_lock.odd', 'moved', 'writes_left'] },
    write_seqcount_end: { writes: ['fs_lock.odd'] },
    read_seqbegin: { writes: ['seq', 'moved', 'spinning'] },
    set_spinning: { writes: ['spinning'] },
    set_seq_odd: { writes: ['seq'] },
    clear_seq_locked: { writes: ['seq'] },
  },
  propertyFootprints: { lockingReaderExcludesWriters: { context: ['seq', 'fs_lock.lock.owner', 'fs_lock.odd'] } },
  waits: {
    ...kernelWaits,
    // read_seqbegin() spinning on an odd count: the writer inside its write section
    read_seqbegin_even: (ctx: Context) =>
      ctx.fs_lock.odd ? { resource: 'fs_lock count', kind: 'seqcount', mode: 'read_seqbegin', holders: ctx.fs_lock.lock.owner ? [ctx.fs_lock.lock.owner] : [] } : null,
    no_reader_spinning: (ctx: Context) => (ctx.spinning ? { resource: 'fs_lock count', kind: 'seqcount', mode: 'next write_seqlock', holders: ['reader'], act: 'read the even count' } : null),
  },
});
