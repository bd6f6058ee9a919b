// Pins the freeze_super/thaw_super fragments: quiescence, the V1-2 s_umount deadlock, hooks and failure paths.
import { describe, expect, it } from 'vitest';
import {
  down_read, freezeSuperStates, freezeThenThawStates, kernelWaits, rwsem, sbWriters, sb_end_pagefault, sb_end_write, sb_start_pagefault,
  sb_start_write, thawSuperStates, up_read, SB_FREEZE_COMPLETE, SB_UNFROZEN,
} from '../../../machines/kernel/index.ts';
import { buildWaitFor, type BlockedThread } from '../../../explorer/waitfor.ts';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { assign } from 'xstate';
import { explore, straight, tinyModel, where } from './harness.ts';

function freezerThread(opts: { keepUmount?: boolean; sync_fs?: any; syncMayFail?: boolean; freeze_fs?: any; unfreeze_fs?: any } = {}) {
  const fz = freezeSuperStates({ thread: 'freezer', next: 'frozen', busy: 'done', ...opts });
  const th = thawSuperStates({ thread: 'freezer', next: 'done', unfreeze_fs: opts.unfreeze_fs });
  return {
    fz,
    th,
    config: {
      initial: fz.initial,
      states: {
        ...fz.states,
        frozen: { on: { 'freezer.thaw': { target: th.initial } } },
        ...th.states,
        done: { type: 'final' },
      },
    },
  };
}
// write(2) that needs s_umount inside sb_start_write (the documented order sb_start_write -> s_umount)
const writer = (t: string) =>
  straight(t, [sb_start_write('s_writers', t), (n: string) => down_read('s_umount', t, n), up_read('s_umount', t), sb_end_write('s_writers', t)]);
const faulter = (t: string) => straight(t, [sb_start_pagefault('s_writers', t), sb_end_pagefault('s_writers', t)]);

describe('freeze_super / thaw_super fragments', () => {
  it('fixed freeze: no deadlock, levels are quiescent once drained, frozen returns to UNFROZEN', () => {
    const { fz, config } = freezerThread();
    const m = tinyModel({ s_umount: rwsem(), s_writers: sbWriters() }, { freezer: config, w0: writer('w0'), pf: faulter('pf') });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const afterF7 = new Set([fz.names.F8, fz.names.F9, fz.names.F10, fz.names.F10_drain, fz.names.F11, fz.names.F12, fz.names.F13, fz.names.F13_drain, fz.names.F15, 'frozen']);
    let checked = 0;
    for (const s of r.all) {
      if (afterF7.has(where(s).freezer)) {
        checked++;
        expect(s.context.s_writers.rw_sem[0].readers).toEqual([]); // P-F1 at SB_FREEZE_WRITE
      }
      if (where(s).freezer === 'frozen') {
        expect(s.context.s_writers.frozen).toBe(SB_FREEZE_COMPLETE);
        expect(s.context.s_writers.rw_sem.every((l: any) => l.block && l.readers.length === 0)).toBe(true);
        expect(s.context.s_umount.owner).toBeNull();
      }
    }
    expect(checked).toBeGreaterThan(0);
    const ends = r.all.filter((s) => s.status === 'done');
    expect(ends.length).toBeGreaterThan(0);
    for (const s of ends) {
      expect(s.context.s_writers.frozen).toBe(SB_UNFROZEN);
      expect(s.context.s_writers.rw_sem.every((l: any) => !l.block && l.writer === null)).toBe(true);
    }
  });

  it('V1-2 (freezer keeps s_umount across F7) deadlocks with a writer that needs s_umount', () => {
    const { fz, config } = freezerThread({ keepUmount: true });
    const m = tinyModel({ s_umount: rwsem(), s_writers: sbWriters() }, { freezer: config, w0: writer('w0') });
    const r = explore(m);
    expect(r.deadlocks.length).toBe(1);
    const d = r.deadlocks[0];
    expect(where(d)).toEqual({ freezer: fz.names.F7_drain, w0: 's1' });
    const blocked: BlockedThread[] = [
      { thread: 'freezer', state: fz.names.F7_drain, waits: [kernelWaits.percpu_readers_drained(d.context, { lock: 's_writers.rw_sem.0', thread: 'freezer', name: 'sb_writers' })!] },
      { thread: 'w0', state: 's1', waits: [kernelWaits.rwsem_read_wake_ok(d.context, { lock: 's_umount', thread: 'w0' })!] },
    ];
    expect(buildWaitFor(blocked).cycle?.map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`)).toEqual([
      'freezer -> sb_writers -> w0',
      'w0 -> s_umount -> freezer',
    ]);
  });

  it('hooks: a failing freeze_fs unwinds to UNFROZEN with every level released; sync_fs runs at PAGEFAULT', () => {
    const { fz, th, config } = freezerThread({
      sync_fs: { actions: [{ type: 'note_sync' }] },
      freeze_fs: { mayFail: true },
      unfreeze_fs: { mayFail: true },
    });
    const m = tinyModel({ s_umount: rwsem(), s_writers: sbWriters(), syncedAt: -1 }, { freezer: config, pf: faulter('pf') }, {
      actions: { note_sync: assign({ syncedAt: ({ context }: any) => context.s_writers.frozen }) },
    });
    const r = explore(m);
    // sync_fs ran, and only with frozen == SB_FREEZE_PAGEFAULT
    expect(new Set(r.all.map((s) => s.context.syncedAt))).toEqual(new Set([-1, 2]));
    // F14 failure: unwinds to UNFROZEN with every level released and s_umount dropped
    const unwound = r.all.filter((s) => where(s).freezer === 'done' && s.context.syncedAt === 2 && s.context.s_writers.frozen === SB_UNFROZEN);
    expect(r.all.some((s) => where(s).freezer === fz.names.F14_fail)).toBe(true);
    expect(unwound.length).toBeGreaterThan(0);
    for (const s of unwound) {
      expect(s.context.s_writers.rw_sem.every((l: any) => !l.block && l.writer === null)).toBe(true);
      expect(s.context.s_umount.owner).toBeNull();
    }
    // T5 failure: the fs stays frozen with every level write-held, so a page fault that had not run yet
    // is stuck: those are the only deadlocks
    expect(r.all.some((s) => where(s).freezer === th.names.T5_fail)).toBe(true);
    expect(r.deadlocks.length).toBeGreaterThan(0);
    for (const d of r.deadlocks) {
      expect(where(d)).toEqual({ freezer: 'done', pf: 's0' });
      expect(d.context.s_writers.frozen).toBe(SB_FREEZE_COMPLETE);
      expect(d.context.s_writers.rw_sem.every((l: any) => l.block)).toBe(true);
    }
    expect(fz.names.F11).toBe('F11_sync_fs');
  });

  it('F11 failure (v5.17+): sync_filesystem fails, freeze_super unwinds with WRITE and PAGEFAULT released, ->freeze_fs not called', () => {
    for (const opts of [{ syncMayFail: true }, { sync_fs: { mayFail: true } }, { sync_fs: { actions: [] }, syncMayFail: true }]) {
      const { fz, config } = freezerThread({ ...opts, freeze_fs: { actions: [{ type: 'note_freeze_fs' }] } });
      const m = tinyModel({ s_umount: rwsem(), s_writers: sbWriters(), freezeFsRan: false }, { freezer: config, pf: faulter('pf'), w0: writer('w0') }, {
        actions: { note_freeze_fs: assign({ freezeFsRan: true }) },
      });
      const r = explore(m);
      expect(r.deadlocks).toEqual([]);
      const failed = r.all.filter((s) => where(s).freezer === fz.names.F11_fail);
      expect(failed.length).toBeGreaterThan(0);
      for (const s of failed) {
        // at the failure: frozen == SB_FREEZE_PAGEFAULT, WRITE and PAGEFAULT write-held, FS untouched
        expect(s.context.s_writers.frozen).toBe(2);
        expect(s.context.s_writers.rw_sem.map((l: any) => l.writer)).toEqual(['freezer', 'freezer', null]);
        expect(s.context.freezeFsRan).toBe(false);
      }
      // the unwind's next state: UNFROZEN, every level free, s_umount dropped, ->freeze_fs never ran
      const unwound = r.all.filter((s) => where(s).freezer === 'done' && !s.context.freezeFsRan);
      expect(unwound.length).toBeGreaterThan(0);
      for (const s of unwound) {
        expect(s.context.s_writers.frozen).toBe(SB_UNFROZEN);
        expect(s.context.s_writers.rw_sem.every((l: any) => !l.block && l.writer === null)).toBe(true);
        expect(s.context.s_umount.owner).toBeNull();
      }
    }
    // not asked for: no failure branch, the step keeps its name
    const plain = freezerThread();
    expect(plain.fz.names.F11).toBe('F11_sync_filesystem');
    expect((plain.config.states as Record<string, unknown>)[plain.fz.names.F11_fail]).toBeUndefined();
  });
});

describe('deadlock reports through freeze, sb_rdonly, return hooks, FIFREEZE then FITHAW', () => {
  // a writer taking s_umount BEFORE sb_start_write (against the documented sb_start_write -> s_umount order)
  // (it starts once FIFREEZE has returned, which the freeze's return hook records in `frozenOnce`:
  // before that the same order deadlocks inside freeze_super, at F8)
  const umountFirst = (t: string) =>
    straight(t, [
      { guard: 'frozenOnce' },
      (n: string) => down_read('s_umount', t, n),
      sb_start_write('s_writers', t),
      sb_end_write('s_writers', t),
      up_read('s_umount', t),
    ]);
  const frozenOnce = [{ type: 'setFrozenOnce' }];
  const program = (thread: string) => {
    const p = freezeThenThawStates({ thread, next: 'done', freeze: { returns: { ok: frozenOnce } } });
    return { initial: p.initial, states: { ...p.states, done: { type: 'final' } } };
  };
  const model = (thawer: string | undefined, threads: Record<string, any>) =>
    defineModel({
      name: 'freeze-thaw-cycle', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
      create: () =>
        tinyModel({ s_umount: rwsem(), s_writers: sbWriters(thawer === undefined ? {} : { thawer }), frozenOnce: false }, threads, {
          guards: { frozenOnce: ({ context }: any) => context.frozenOnce },
          actions: { setFrozenOnce: assign({ frozenOnce: true }) },
        }),
    });

  it('a thread holding s_umount, blocked on a frozen level, waits for the thread that calls thaw_super: the cycle names it', () => {
    const r = checkModel({ model: model('fs', { fs: program('fs'), w: umountFirst('w') }) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const cycle = r.trace!.deadlock!.cycle!.map((e) => `${e.thread} -> ${e.resource} (${e.mode}) -> ${e.heldBy}`);
    expect(cycle).toEqual([
      'fs -> s_umount (down_write) -> w',
      'w -> sb_writers (percpu_down_read (frozen: waits for thaw_super)) -> fs',
    ]);
    expect(r.trace!.deadlock!.blocked.find((b) => b.thread === 'fs')!.state).toBe('th_T1_down_write_s_umount');
  });

  it('with a separate thawer the cycle goes through the thawer, not through the freezer that returned', () => {
    const fz = freezeSuperStates({ thread: 'freezer', next: 'done', returns: { ok: frozenOnce } });
    const th = thawSuperStates({ thread: 'thawer', next: 'done' });
    const r = checkModel({
      model: model('thawer', {
        freezer: { initial: fz.initial, states: { ...fz.states, done: { type: 'final' } } },
        thawer: { initial: 'wait', states: { wait: { on: { 'thawer.FITHAW': { guard: { type: 'sb_frozen_is', params: { sb: 's_writers', level: SB_FREEZE_COMPLETE } }, target: th.initial } } }, ...th.states, done: { type: 'final' } } },
        w: umountFirst('w'),
      }),
    });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const edges = r.trace!.deadlock!.cycle!.map((e) => `${e.thread} -> ${e.heldBy}`);
    expect(edges).toEqual(['thawer -> w', 'w -> thawer']);
  });

  it('when no thread thaws, the blocked writer waits for nobody (no cycle)', () => {
    const fz = freezeSuperStates({ thread: 'freezer', next: 'done', returns: { ok: frozenOnce } });
    const r = checkModel({ model: model('', { freezer: { initial: fz.initial, states: { ...fz.states, done: { type: 'final' } } }, w: umountFirst('w') }) });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.trace!.deadlock!.cycle).toBeNull();
    expect(r.trace!.deadlock!.blocked[0].waits[0]).toMatchObject({ holders: [], mode: 'percpu_down_read (frozen: no thread calls thaw_super)' });
  });

  it('sb_rdonly: freeze completes without taking a level (F4), thaw goes to T7 (T3); return hooks see every outcome', () => {
    const ret = (v: string) => [{ type: 'note', params: { v } }];
    const p = freezeThenThawStates({
      thread: 'fs',
      next: 'done',
      freeze: { rdonly: { type: 'ro' }, returns: { ok: ret('freeze:0'), busy: ret('freeze:EBUSY') } },
      thaw: { rdonly: { type: 'ro' }, returns: { ok: ret('thaw:0'), einval: ret('thaw:EINVAL') } },
    });
    const m = tinyModel(
      { s_umount: rwsem(), s_writers: sbWriters({ thawer: 'fs' }), ro: true, log: [] as string[] },
      {
        fs: { initial: p.initial, states: { ...p.states, done: { type: 'final' } } },
        w: straight('w', [sb_start_write('s_writers', 'w'), sb_end_write('s_writers', 'w')]),
      },
      {
        guards: { ro: ({ context }: any) => context.ro },
        actions: { note: assign({ log: ({ context }: any, q: { v: string }) => [...context.log, q.v] }) },
      },
    );
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    for (const s of r.all) expect(s.context.s_writers.rw_sem.every((l: any) => !l.block && l.writer === null)).toBe(true);
    expect(r.all.some((s) => s.context.s_writers.frozen === SB_FREEZE_COMPLETE)).toBe(true);
    const ends = r.all.filter((s) => s.status === 'done');
    expect(new Set(ends.map((s) => s.context.log.join()))).toEqual(new Set(['freeze:0,thaw:0']));
    expect(p.names['freeze.F1']).toBe('fz_F1_down_write_s_umount');
    expect(p.names['thaw.T7']).toBe('th_T7_deactivate_locked_super');
  });

  it('read-write: the same program takes the levels and returns 0 from both calls', () => {
    const p = freezeThenThawStates({ thread: 'fs', next: 'done', thaw: { returns: { ok: [{ type: 'note', params: { v: 'thaw:0' } }] } } });
    const m = tinyModel(
      { s_umount: rwsem(), s_writers: sbWriters({ thawer: 'fs' }), log: [] as string[] },
      { fs: { initial: p.initial, states: { ...p.states, done: { type: 'final' } } } },
      { actions: { note: assign({ log: ({ context }: any, q: { v: string }) => [...context.log, q.v] }) } },
    );
    const r = explore(m);
    expect(r.all.some((s) => s.context.s_writers.rw_sem.every((l: any) => l.block))).toBe(true);
    expect(r.all.filter((s) => s.status === 'done').map((s) => s.context.log)).toEqual([['thaw:0']]);
  });
});
