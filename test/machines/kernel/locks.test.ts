// Pins the semantics of mutex, rw_semaphore (queueing, stealing, wakeup, handoff), percpu_rw_semaphore (drain) and sb_writers.
import { describe, expect, it } from 'vitest';
import {
  down_read, down_read_trylock, down_write, down_write_acquire, down_write_queue, down_write_trylock, kernelWaits,
  mutex, mutex_lock, mutex_trylock, mutex_unlock, percpuRwsem, percpu_down_read, percpu_down_write_block,
  percpu_down_write_drain, percpu_up_read, percpu_up_write, rwsem, rwsem_is_contended, sbWriters, sb_end_write,
  sb_start_intwrite_trylock, sb_start_write, sb_start_write_trylock, sb_wait_write_block, sb_wait_write_drain,
  up_read, up_write, kernelGuards, SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS, sbLevelLock,
} from '../../../machines/kernel/index.ts';
import { explore, straight, tinyModel, where } from './harness.ts';

describe('mutex', () => {
  it('ABBA deadlocks, ordered does not', () => {
    const abba = tinyModel({ a: mutex(), b: mutex() }, {
      t0: straight('t0', [mutex_lock('a', 't0'), mutex_lock('b', 't0'), mutex_unlock('b', 't0'), mutex_unlock('a', 't0')]),
      t1: straight('t1', [mutex_lock('b', 't1'), mutex_lock('a', 't1'), mutex_unlock('a', 't1'), mutex_unlock('b', 't1')]),
    });
    const r = explore(abba);
    expect(r.deadlocks.length).toBe(1);
    expect(where(r.deadlocks[0])).toEqual({ t0: 's1', t1: 's1' });
    expect(kernelWaits.mutex_can_lock(r.deadlocks[0].context, { lock: 'b', thread: 't0' })).toEqual({
      resource: 'b', kind: 'mutex', mode: 'lock', holders: ['t1'],
    });
    const ordered = tinyModel({ a: mutex(), b: mutex() }, {
      t0: straight('t0', [mutex_lock('a', 't0'), mutex_lock('b', 't0'), mutex_unlock('b', 't0'), mutex_unlock('a', 't0')]),
      t1: straight('t1', [mutex_lock('a', 't1'), mutex_lock('b', 't1'), mutex_unlock('b', 't1'), mutex_unlock('a', 't1')]),
    });
    expect(explore(ordered).deadlocks).toEqual([]);
  });

  it('trylock never blocks: both branches are taken, no deadlock', () => {
    const m = tinyModel({ a: mutex(), b: mutex(), got: 0 }, {
      t0: straight('t0', [mutex_lock('a', 't0'), mutex_lock('b', 't0'), mutex_unlock('b', 't0'), mutex_unlock('a', 't0')]),
      t1: {
        initial: 'lock_b',
        states: {
          lock_b: { on: { 't1.lock_b': { ...mutex_lock('b', 't1'), target: 'try_a' } } },
          try_a: { on: { 't1.try_a': mutex_trylock('a', 't1', { ok: 'got_a', fail: 'backoff' }) } },
          got_a: { on: { 't1.unlock': { actions: [...mutex_unlock('a', 't1').actions!, ...mutex_unlock('b', 't1').actions!], target: 'done' } } },
          backoff: { on: { 't1.unlock': { ...mutex_unlock('b', 't1'), target: 'done' } } },
          done: { type: 'final' },
        },
      },
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const t1 = new Set(r.all.map((s) => where(s).t1));
    expect(t1.has('got_a')).toBe(true);
    expect(t1.has('backoff')).toBe(true);
  });

  it('unlocking a mutex one does not own is a model error', () => {
    const m = tinyModel({ a: mutex() }, { t0: straight('t0', [mutex_unlock('a', 't0')]) });
    expect(() => explore(m)).toThrow(/misuse/);
  });
});

describe('rw_semaphore (kernel/locking/rwsem.c, v6.6)', () => {
  const rd = (t: string) => (n: string) => down_read('sem', t, n);
  const wr = (t: string) => (n: string) => down_write('sem', t, n);
  const recursiveReader = (t: string) => straight(t, [rd(t), rd(t), up_read('sem', t), up_read('sem', t)]);

  it('the plain helpers: a recursive down_read deadlocks behind a queued down_write', () => {
    const m = tinyModel({ sem: rwsem() }, { r: recursiveReader('r'), w: straight('w', [wr('w'), up_write('sem', 'w')]) });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    const d = r.deadlocks[0];
    expect(where(d)).toEqual({ r: 's1', w: 's0' });
    // the writer queued first (and set HANDOFF: its timeout may pass), the reader queued behind it
    expect(d.context.sem).toEqual({ owner: null, readers: ['r'], waiters: ['w:w', 'r:r'], handoff: true, granted: [] });
    expect(kernelWaits.rwsem_read_wake_ok(d.context, { lock: 'sem', thread: 'r' })).toMatchObject({ holders: ['w'], mode: 'down_read (queued behind a waiting writer)' });
    // w holds nothing: it is queued ahead of r (reports must not show it as a holder)
    expect(kernelWaits.rwsem_read_wake_ok(d.context, { lock: 'sem', thread: 'r' })).toMatchObject({ queued: true });
    expect(kernelWaits.rwsem_read_wake_ok(d.context, { lock: 'sem', thread: 'r' })?.holdMode).toBeUndefined();
    expect(kernelWaits.rwsem_can_down_write(d.context, { lock: 'sem', thread: 'w' })?.holders).toEqual(['r']);
  });

  it('reader optimistic lock stealing (5.13+): a reader takes a free lock ahead of a queued writer, not with readerSteal: false', () => {
    // w1 holds it, w2 queues, w1 releases; r may now steal before w2 takes it
    const threads = () => ({
      w1: straight('w1', [wr('w1'), up_write('sem', 'w1')]),
      w2: straight('w2', [wr('w2'), up_write('sem', 'w2')]),
      r: straight('r', [rd('r'), up_read('sem', 'r')]),
    });
    // r at its down_read, a writer queued, and r's read hold comes at once
    const stole = (s: any) =>
      where(s).r === 's0' && s.context.sem.waiters.some((w: string) => w.startsWith('w:')) &&
      kernelGuards.rwsem_down_read_now({ context: s.context }, { lock: 'sem', thread: 'r' });
    expect(explore(tinyModel({ sem: rwsem() }, threads())).all.some(stole)).toBe(true);
    const old = explore(tinyModel({ sem: rwsem({ readerSteal: false }) }, threads()));
    expect(old.deadlocks).toEqual([]);
    expect(old.all.some(stole)).toBe(false);
  });

  it('no stealing while other readers hold it with a writer queued, nor once HANDOFF is set', () => {
    const m = tinyModel({ sem: rwsem() }, {
      r0: straight('r0', [rd('r0'), up_read('sem', 'r0')]),
      r1: straight('r1', [rd('r1'), up_read('sem', 'r1')]),
      w: straight('w', [wr('w'), up_write('sem', 'w')]),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const canRead = (ctx: any, t: string) => kernelGuards.rwsem_down_read_now({ context: ctx }, { lock: 'sem', thread: t });
    for (const s of r.all) {
      const sem = s.context.sem;
      if (sem.owner) expect(sem.readers).toEqual([]);
      if (sem.waiters.includes('w:w') && sem.readers.length > 0) expect(canRead(s.context, 'r1') && !sem.readers.includes('r1') && !sem.waiters.includes('r:r1')).toBe(false);
      if (sem.handoff) expect(canRead(s.context, 'r0') || canRead(s.context, 'r1')).toBe(false);
    }
    expect(r.all.some((s) => s.context.sem.readers.length === 2)).toBe(true);
    expect(r.all.some((s) => s.context.sem.handoff)).toBe(true);
  });

  it('wakeup: with a reader first in line, every queued reader is granted, also one queued behind a writer', () => {
    // w0 holds it; r0 queues, w1 queues, r1 queues; up_write: r0 is first, so r0 and r1 go in together
    const m = tinyModel({ sem: rwsem({ readerSteal: false }) }, {
      w0: straight('w0', [wr('w0'), up_write('sem', 'w0')]),
      r0: straight('r0', [rd('r0'), up_read('sem', 'r0')]),
      w1: straight('w1', [wr('w1'), up_write('sem', 'w1')]),
      r1: straight('r1', [rd('r1'), up_read('sem', 'r1')]),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const batch = r.all.filter((s) => s.context.sem.readers.join() === 'r0,r1' && s.context.sem.waiters.join() === 'w:w1');
    expect(batch.length).toBeGreaterThan(0);
  });

  it('only the first queued writer takes a free lock: rwsem_mark_wake() wakes the first waiter alone', () => {
    // w0 holds it; w1 and w2 queue in either order; after up_write the one first in line takes it, the
    // other stays queued (it sleeps until it is first and the lock is released again)
    const m = tinyModel({ sem: rwsem() }, {
      w0: straight('w0', [wr('w0'), up_write('sem', 'w0')]),
      w1: straight('w1', [wr('w1'), up_write('sem', 'w1')]),
      w2: straight('w2', [wr('w2'), up_write('sem', 'w2')]),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const can = (ctx: any, t: string) => kernelGuards.rwsem_can_down_write({ context: ctx }, { lock: 'sem', thread: t });
    // a free lock with two writers queued: only the first may take it
    const freeTwoQueued = r.all.filter((s) => s.context.sem.owner === null && s.context.sem.waiters.length === 2);
    expect(freeTwoQueued.length).toBeGreaterThan(0);
    for (const s of freeTwoQueued) {
      const [first, second] = s.context.sem.waiters.map((w: string) => w.slice(2));
      expect(can(s.context, first)).toBe(true);
      expect(can(s.context, second)).toBe(false);
      expect(kernelWaits.rwsem_can_down_write(s.context, { lock: 'sem', thread: second })).toEqual({
        resource: 'sem', kind: 'rwsem', mode: 'down_write', holders: [first], queued: true,
      });
    }
    // a writer that has not queued yet may still steal it ahead of both (the fast path, HANDOFF clear)
    expect(r.all.some((s) => s.context.sem.owner === 'w2' && s.context.sem.waiters.join() === 'w:w1')).toBe(true);
  });

  it('a reader queued behind a waiting writer is described as waiting for that writer to get it, not as held by it', () => {
    const m = tinyModel({ sem: rwsem() }, { r: recursiveReader('r'), w: straight('w', [wr('w'), up_write('sem', 'w')]) });
    const d = explore(m).deadlocks[0];
    expect(kernelWaits.rwsem_read_wake_ok(d.context, { lock: 'sem', thread: 'r' })).toEqual({
      resource: 'sem', kind: 'rwsem', mode: 'down_read (queued behind a waiting writer)', holders: ['w'], queued: true,
    });
    expect(kernelWaits.rwsem_can_down_write(d.context, { lock: 'sem', thread: 'w' })).toEqual({
      resource: 'sem', kind: 'rwsem', mode: 'down_write', holders: ['r'], holdMode: 'read',
    });
  });

  it('down_write_queue + down_write_acquire: the queued writer in a state of its own', () => {
    const m = tinyModel({ sem: rwsem() }, {
      r: recursiveReader('r'),
      w: straight('w', [down_write_queue('sem', 'w'), down_write_acquire('sem', 'w'), up_write('sem', 'w')]),
    });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    expect(where(r.deadlocks[0])).toEqual({ r: 's1', w: 's1' });
  });

  it('trylocks never block and fail while a writer is queued; rwsem_is_contended sees the queue', () => {
    const m = tinyModel({ sem: rwsem(), sawContended: false }, {
      w: straight('w', [wr('w'), up_write('sem', 'w')]),
      t: {
        initial: 'hold',
        states: {
          hold: { on: { 't.hold': down_read('sem', 't', 'try') } },
          try: { on: { 't.try': down_read_trylock('sem', 't', { ok: 'got', fail: 'failed' }) } },
          got: { on: { 't.up': { actions: [...up_read('sem', 't').actions!, ...up_read('sem', 't').actions!], target: 'trywrite' } } },
          failed: { on: { 't.up': { ...up_read('sem', 't'), target: 'trywrite' } } },
          trywrite: { on: { 't.trywrite': down_write_trylock('sem', 't', { ok: 'wgot', fail: 'done' }) } },
          wgot: { on: { 't.up': { ...up_write('sem', 't'), target: 'done' } } },
          done: { type: 'final' },
        },
      },
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const failed = r.all.filter((s) => where(s).t === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    const contended = (ctx: any) => (m.implementations.guards as any).rwsem_is_contended({ context: ctx }, rwsem_is_contended('sem').params);
    expect(failed.every((s) => s.context.sem.waiters.includes('w:w') || s.context.sem.owner === 'w')).toBe(true);
    expect(r.all.some((s) => where(s).t === 'got')).toBe(true);
    expect(r.all.some((s) => where(s).t === 'wgot')).toBe(true);
    expect(r.all.some((s) => contended(s.context))).toBe(true);
    expect(contended(r.all[0].context)).toBe(false);
  });

  it('a call that passes the resource name where the target goes fails at build time', () => {
    expect(() => down_read('sem', 't', undefined as any)).toThrow(/next must be the target state/);
  });
});

describe('percpu_rw_semaphore', () => {
  it('down_write sets block first, then waits for old readers; new readers wait while block is set', () => {
    const m = tinyModel({ sem: percpuRwsem() }, {
      r: straight('r', [percpu_down_read('sem', 'r'), percpu_up_read('sem', 'r')]),
      w: straight('w', [percpu_down_write_block('sem', 'w'), percpu_down_write_drain('sem', 'w'), percpu_up_write('sem', 'w')]),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // after the drain step (w at s2) no reader holds it
    for (const s of r.all) if (where(s).w === 's2') expect(s.context.sem.readers).toEqual([]);
    // an old reader can still be inside while block is set (draining)
    expect(r.all.some((s) => s.context.sem.block && s.context.sem.readers.length === 1 && where(s).w === 's1')).toBe(true);
    // a reader that arrives after block never gets in before up_write
    expect(r.all.some((s) => where(s).r === 's1' && where(s).w === 's2')).toBe(false);
  });
  it('a recursive read while the writer is draining deadlocks (reader waits for writer, writer for reader)', () => {
    const m = tinyModel({ sem: percpuRwsem() }, {
      r: straight('r', [percpu_down_read('sem', 'r'), percpu_down_read('sem', 'r'), percpu_up_read('sem', 'r'), percpu_up_read('sem', 'r')]),
      w: straight('w', [percpu_down_write_block('sem', 'w'), percpu_down_write_drain('sem', 'w'), percpu_up_write('sem', 'w')]),
    });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    const ctx = r.deadlocks[0].context;
    expect(kernelWaits.percpu_can_down_read(ctx, { lock: 'sem', thread: 'r' })?.holders).toEqual(['w']);
    expect(kernelWaits.percpu_readers_drained(ctx, { lock: 'sem', thread: 'w' })?.holders).toEqual(['r']);
  });
});

describe('sb_writers', () => {
  it("names each freeze level's percpu rwsem as lockdep names its class (fs/super.c sb_writers_name[]), keeping the context path", () => {
    // alloc_super: __percpu_init_rwsem(&s->s_writers.rw_sem[i], sb_writers_name[i], &type->s_writers_key[i])
    expect(sbLevelLock('s_writers', SB_FREEZE_WRITE, 't')).toEqual({ lock: 's_writers.rw_sem.0', thread: 't', name: 'sb_writers' });
    expect(sbLevelLock('s_writers', SB_FREEZE_PAGEFAULT, 't')).toEqual({ lock: 's_writers.rw_sem.1', thread: 't', name: 'sb_pagefaults' });
    expect(sbLevelLock('s_writers', SB_FREEZE_FS, 't')).toEqual({ lock: 's_writers.rw_sem.2', thread: 't', name: 'sb_internal' });
    expect(sbLevelLock('sb_writers', SB_FREEZE_FS, 't').name).toBe('sb_internal');
    // another superblock's slice keeps its own classes (lockdep: another file_system_type's key, sb_internal#N)
    expect(sbLevelLock('upper.s_writers', SB_FREEZE_FS, 't')).toEqual({ lock: 'upper.s_writers.rw_sem.2', thread: 't', name: 'upper.s_writers:sb_internal' });
  });

  it('sb_start_write blocks after the freezer blocks the level; trylocks fail instead', () => {
    const m = tinyModel({ sb: sbWriters() }, {
      freezer: straight('freezer', [sb_wait_write_block('sb', SB_FREEZE_WRITE, 'freezer'), sb_wait_write_drain('sb', SB_FREEZE_WRITE, 'freezer')]),
      writer: straight('writer', [sb_start_write('sb', 'writer'), sb_end_write('sb', 'writer')]),
      gc: {
        initial: 'try',
        states: {
          try: { on: { 'gc.try': sb_start_write_trylock('sb', 'gc', { ok: 'inside', fail: 'done' }) } },
          inside: { on: { 'gc.end': { ...sb_end_write('sb', 'gc'), target: 'done' } } },
          done: { type: 'final' },
        },
      },
    });
    const r = explore(m);
    // the freezer never thaws in this model, so a writer arriving after the freeze is stuck: the only deadlocks
    expect(r.deadlocks.length).toBeGreaterThan(0);
    for (const d of r.deadlocks) {
      expect(where(d).writer).toBe('s0');
      const w = kernelWaits.percpu_can_down_read(d.context, { lock: 'sb.rw_sem.0', thread: 'writer', name: 'sb[SB_FREEZE_WRITE]' });
      expect(w).toEqual({ resource: 'sb[SB_FREEZE_WRITE]', kind: 'percpu_rwsem', mode: 'percpu_down_read', holders: ['freezer'] });
    }
    // gc never waits: it is never the blocked one, and it never got inside once the level was blocked
    expect(r.all.some((s) => where(s).gc === 'inside' && s.context.sb.rw_sem[0].block && where(s).freezer === 'done')).toBe(false);
    // other levels are untouched
    expect(r.all.every((s) => !s.context.sb.rw_sem[2].block)).toBe(true);
    void sb_start_intwrite_trylock;
    void SB_FREEZE_FS;
  });
});
