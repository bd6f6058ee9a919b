// Pins the allocation primitive (machines/kernel/alloc.ts; sched/mm.h might_alloc, page_alloc.c fs_reclaim_acquire, v6.6):
// kmalloc(GFP_KERNEL) under L against a reclaimer that takes L is lockdep's "possible circular locking dependency"
// L -> fs_reclaim -> L with no deadlock reachable; GFP_NOFS, GFP_NOIO and the memalloc_nofs/noio scopes take no
// fs_reclaim edge; GFP_KERNEL/NOFS/NOIO may sleep (under a spinlock: "sleeping function called from invalid
// context"), GFP_ATOMIC/NOWAIT do not; each trace replays; the compiled engine agrees with XState; footprints and
// --reduce por hold.
import { describe, expect, it } from 'vitest';
import { checkModel, instantiate } from '../../../explorer/index.ts';
import { checkFootprints } from '../../../explorer/reduce/check.ts';
import { defineModel, type ModelDefinition } from '../../../explorer/model.ts';
import { renderLockOrder } from '../../../explorer/properties/lockorder.ts';
import { replayTrace } from '../../../explorer/replay.ts';
import {
  complete, completion, fs_reclaim_acquire, fs_reclaim_release, fsReclaimers, kernelWaits, kmalloc, memalloc, memalloc_noio_restore,
  memalloc_noio_save, memalloc_nofs_restore, memalloc_nofs_save, memallocNofs, memallocWith, mutex, mutex_lock, mutex_unlock, spin_lock,
  spin_unlock, spinlock, wait_for_completion, type Gfp,
} from '../../../machines/kernel/index.ts';
import { agreesEverywhere, explore, straight, straightOpen, tinyModel, where } from './harness.ts';

const model = (create: () => any) =>
  defineModel({ name: 'alloc', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits });
const replays = (m: ModelDefinition, r: ReturnType<typeof checkModel>) => replayTrace(instantiate(m, r.params, r.variant), m, r.trace!, {});

type Alloc = 'GFP_KERNEL' | 'GFP_NOFS' | 'GFP_NOIO' | 'nofs-scope' | 'noio-scope';
/**
 * `writer` holds L and allocates (`how`), then completes `done`; `reclaim` waits for `done`, enters reclaim
 * (fs_reclaim_acquire) and takes L, as a shrinker would: they never overlap, so no deadlock is reachable.
 */
const inversion = (how: Alloc) => () => {
  const alloc =
    how === 'nofs-scope' ? [memalloc_nofs_save('mm', 'writer'), kmalloc('mm', 'writer', 'GFP_KERNEL'), memalloc_nofs_restore('mm', 'writer')]
      : how === 'noio-scope' ? [memalloc_noio_save('mm', 'writer'), kmalloc('mm', 'writer', 'GFP_KERNEL'), memalloc_noio_restore('mm', 'writer')]
        : [kmalloc('mm', 'writer', how)];
  return tinyModel({ mm: memalloc(), l: mutex(), done: completion() }, {
    writer: straight('writer', [mutex_lock('l', 'writer', 'L'), ...alloc, mutex_unlock('l', 'writer', 'L'), complete('done')]),
    reclaim: straight('reclaim', [
      wait_for_completion('done', 'reclaim'),
      fs_reclaim_acquire('mm', 'reclaim'),
      mutex_lock('l', 'reclaim', 'L'),
      mutex_unlock('l', 'reclaim', 'L'),
      fs_reclaim_release('mm', 'reclaim'),
    ]),
  });
};

/** `t` takes spinlock S, allocates with `gfp`, drops S. */
const underSpin = (gfp: Gfp) => () =>
  tinyModel({ mm: memalloc(), s: spinlock() }, { t: straight('t', [spin_lock('s', 't', 'S'), kmalloc('mm', 't', gfp), spin_unlock('s', 't', 'S')]) });

describe('kmalloc, fs_reclaim and the memalloc scopes', () => {
  it('kmalloc(GFP_KERNEL) under L against a reclaimer taking L: L -> fs_reclaim -> L, no deadlock; each edge replays', () => {
    const m = model(inversion('GFP_KERNEL'));
    expect(checkModel({ model: m }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model: m, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'L -> fs_reclaim -> L' });
    expect(r.verdict.message).toBe('possible circular locking dependency: L -> fs_reclaim -> L');
    const lo = r.trace!.lockOrder!;
    expect(lo.kind).toBe('circular');
    expect(lo.edges.map((x) => `${x.thread}: ${x.from} -> ${x.to}`)).toEqual(['writer: L -> fs_reclaim', 'reclaim: fs_reclaim -> L']);
    expect(lo.edges[0].events.at(-1)).toBe('writer.s1');
    expect(lo.edges[1].events.at(-1)).toBe('reclaim.s2');
    expect(replays(m, r)).toMatchObject({ status: 'reproduced' });
    expect(renderLockOrder(lo)).toContain('lock(fs_reclaim);');
  });

  for (const how of ['GFP_NOFS', 'GFP_NOIO', 'nofs-scope', 'noio-scope'] as const) {
    it(`${how}: no fs_reclaim edge, so no cycle`, () => {
      const m = model(inversion(how));
      expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    });
  }

  it('a thread in reclaim (PF_MEMALLOC) allocates with GFP_KERNEL without re-acquiring fs_reclaim: no recursive locking', () => {
    const m = model(() =>
      tinyModel({ mm: memalloc() }, { kswapd: straight('kswapd', [fs_reclaim_acquire('mm', 'kswapd'), kmalloc('mm', 'kswapd', 'GFP_KERNEL'), fs_reclaim_release('mm', 'kswapd')]) }),
    );
    expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  for (const gfp of ['GFP_KERNEL', 'GFP_NOFS', 'GFP_NOIO'] as const) {
    it(`${gfp} under a spinlock: "sleeping function called from invalid context"; the trace replays`, () => {
      const m = model(underSpin(gfp));
      const r = checkModel({ model: m, check: { lockOrder: true } });
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: `S -> kmalloc(${gfp})` });
      expect(r.trace!.lockOrder).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
      expect(r.trace!.lockOrder!.edges).toMatchObject([{ thread: 't', from: 'S', fromPath: 's', toPath: 'mm' }]);
      expect(renderLockOrder(r.trace!.lockOrder!)).toContain('BUG: sleeping function called from invalid context');
      expect(replays(m, r)).toMatchObject({ status: 'reproduced' });
    });
  }

  for (const gfp of ['GFP_ATOMIC', 'GFP_NOWAIT'] as const) {
    it(`${gfp} under a spinlock is fine`, () => {
      expect(checkModel({ model: model(underSpin(gfp)), check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    });
  }

  it('the scopes nest (depth counts) and are per thread; views and initial states', () => {
    const m = tinyModel({ mm: memalloc() }, {
      t: straight('t', [memalloc_nofs_save('mm', 't'), memalloc_nofs_save('mm', 't'), memalloc_nofs_restore('mm', 't'), kmalloc('mm', 't', 'GFP_KERNEL'), memalloc_nofs_restore('mm', 't')]),
      u: straight('u', [fs_reclaim_acquire('mm', 'u'), fs_reclaim_release('mm', 'u')]),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    for (const s of r.all) {
      const depth = { s0: 0, s1: 1, s2: 2, s3: 1, s4: 1, done: 0 }[where(s).t as 's0']!;
      expect(s.context.mm.nofs).toEqual(depth ? { t: depth } : {});
      expect(memallocNofs(s.context, 'mm', 't')).toBe(depth > 0);
      expect(memallocNofs(s.context, 'mm', 'u')).toBe(false);
      expect(fsReclaimers(s.context, 'mm')).toEqual(where(s).u === 's1' ? ['u'] : []);
    }
    expect(memallocWith({ reclaim: ['b', 'a'], nofs: { t: 2 } })).toEqual({ reclaim: ['a', 'b'], nofs: { t: 2 }, noio: {} });
    expect(() => memallocWith({ noio: { t: 0 } })).toThrow(/noio depth of t/);
    expect(() => kmalloc('mm', 't', 'GFP_USER' as Gfp)).toThrow(/gfp must be one of/);
  });

  it('fs_reclaim held in the initial state (memallocWith) is known from its release: L taken under it closes the cycle', () => {
    const m = model(() =>
      tinyModel({ mm: memallocWith({ reclaim: ['reclaim'] }), l: mutex(), done: completion() }, {
        writer: straight('writer', [mutex_lock('l', 'writer', 'L'), kmalloc('mm', 'writer', 'GFP_KERNEL'), mutex_unlock('l', 'writer', 'L'), complete('done')]),
        reclaim: straight('reclaim', [wait_for_completion('done', 'reclaim'), mutex_lock('l', 'reclaim', 'L'), mutex_unlock('l', 'reclaim', 'L'), fs_reclaim_release('mm', 'reclaim')]),
      }),
    );
    expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toMatchObject({ status: 'violation', name: 'L -> fs_reclaim -> L' });
  });

  it('misuse: a restore without a save, a second fs_reclaim_acquire, a release outside reclaim', () => {
    for (const steps of [[memalloc_nofs_restore('mm', 't')], [memalloc_noio_restore('mm', 't')], [fs_reclaim_acquire('mm', 't'), fs_reclaim_acquire('mm', 't')], [fs_reclaim_release('mm', 't')]]) {
      expect(() => explore(tinyModel({ mm: memalloc() }, { t: straight('t', steps) }))).toThrow(/kernel primitive misuse/);
    }
  });

  it('symmetric threads: reclaim is a set and the scopes are keyed by thread; symmetry keeps the verdict in fewer states', () => {
    const reclaimer = (t: string) => straight(t, [fs_reclaim_acquire('mm', t), mutex_lock('l', t, 'L'), mutex_unlock('l', t, 'L'), fs_reclaim_release('mm', t)]);
    const writer = (t: string, gfp: Gfp) =>
      straight(t, [memalloc_nofs_save('mm', t), mutex_lock('l', t, 'L'), kmalloc('mm', t, gfp), mutex_unlock('l', t, 'L'), memalloc_nofs_restore('mm', t)]);
    for (const gfp of ['GFP_KERNEL', 'GFP_ATOMIC'] as const) {
      const m = defineModel({
        name: 'alloc-symmetric', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', waits: kernelWaits,
        create: () => tinyModel({ mm: memalloc(), l: mutex() }, { R1: reclaimer('R1'), R2: reclaimer('R2'), W1: writer('W1', gfp), W2: writer('W2', gfp) }),
        symmetry: () => [{ threads: ['R1', 'R2'] }, { threads: ['W1', 'W2'] }],
      });
      expect(checkFootprints(instantiate(m, {}, 'v').packed, { model: m, options: { params: {}, variant: 'v' }, invariants: {} })).toMatchObject({ complete: true, undeclared: [] });
      const full = checkModel({ model: m });
      const reduced = checkModel({ model: m, reduce: ['symmetry', 'por'] });
      expect(reduced.verdict).toEqual(full.verdict);
      expect(full.verdict).toEqual({ status: 'pass' });
      expect(reduced.stats.states).toBeLessThan(full.stats.states);
      // inside the NOFS scope even GFP_KERNEL takes no fs_reclaim edge
      expect(checkModel({ model: m, check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    }
  });

  it('the compiled engine agrees with XState; footprints and --reduce por hold', () => {
    for (const how of ['GFP_KERNEL', 'nofs-scope', 'noio-scope'] as const) agreesEverywhere(`alloc-${how}`, inversion(how)());
    agreesEverywhere('alloc-spin', underSpin('GFP_ATOMIC')());
    // every step runs on the packed words (declared lowerings), none falls back to the decoded step
    const open = tinyModel({ mm: memalloc() }, {
      t: straightOpen('t', [memalloc_nofs_save('mm', 't'), memalloc_noio_save('mm', 't'), kmalloc('mm', 't', 'GFP_KERNEL'), memalloc_noio_restore('mm', 't'), memalloc_nofs_restore('mm', 't')]),
      u: straightOpen('u', [fs_reclaim_acquire('mm', 'u'), kmalloc('mm', 'u', 'GFP_NOWAIT'), fs_reclaim_release('mm', 'u')]),
    });
    expect(agreesEverywhere('alloc-open', open)).toMatchObject({ fallback: 0 });
    const m = model(inversion('GFP_KERNEL'));
    expect(checkModel({ model: m, reduce: ['por'], check: { lockOrder: true } }).verdict).toEqual(checkModel({ model: m, check: { lockOrder: true } }).verdict);
  });
});
