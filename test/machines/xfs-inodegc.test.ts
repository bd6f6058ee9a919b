// Verdicts of small xfs-inodegc instances (issue 6): the xfs/517 ASSERT, the deadlock without it, and the fixes.
import { describe, expect, it } from 'vitest';
import model from '../../machines/xfs-inodegc/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { crossCheck } from '../../explorer/crosscheck.ts';

const ASSERT = 'frozen < SB_FREEZE_FS';
type Check = { deadlock?: boolean; assertions?: boolean; invariants?: boolean | string[] };

function run(variant: string, params: Record<string, number | boolean>, check: Check = {}) {
  return checkModel({ model, variant, params, check, maxStates: 200_000 });
}

/** Steps the compiled model along an explicit event list (each must be enabled) and returns where it ends. */
function walk(variant: string, params: Record<string, number | boolean>, events: string[]) {
  const packed = instantiate(model, resolveParams(model, params), variant);
  const sys = packed.system;
  let { leaves, context } = packed.initial();
  for (const ev of events) {
    const r = sys.step(leaves, context, sys.events.indexOf(ev));
    if (!r) throw new Error(`${ev} is not enabled at ${JSON.stringify(sys.locations(leaves))}`);
    leaves = r.leaves;
    context = r.context;
  }
  return { locations: sys.locations(leaves), context };
}

/** freeze_super in mainline up to SB_FREEZE_COMPLETE with an empty inodegc. */
const MAINLINE_FREEZE = [
  'freezer.down_write_s_umount', 'freezer.frozen_SB_FREEZE_WRITE', 'freezer.sb_wait_write_WRITE', 'freezer.down_write_s_umount',
  'freezer.frozen_SB_FREEZE_PAGEFAULT', 'freezer.frozen_is_SB_FREEZE_PAGEFAULT', 'freezer.xfs_clear_inodegc_enabled',
  'freezer.xfs_inodegc_queue_all', 'freezer.flush_workqueue', 'freezer.flush_workqueue_done', 'freezer.xfs_inodegc_queue_all',
  'freezer.frozen_SB_FREEZE_FS', 'freezer.sb_wait_write_FS', 'freezer.sb_wait_write_FS_drained', 'freezer.xfs_log_quiesce',
  'freezer.frozen_SB_FREEZE_COMPLETE',
];

/** The saved counterexample replays to the same violation on the same variant, and is blocked on `fixed`. */
function replays(variant: string, params: Record<string, number | boolean>, check: Check, fixed?: string) {
  const r = run(variant, params, check);
  expect(r.trace).toBeDefined();
  const p = resolveParams(model, params);
  const inv = selectInvariants(model, p, variant, check.invariants);
  expect(replayTrace(instantiate(model, p, variant), model, r.trace!, inv).status).toBe('reproduced');
  if (fixed) {
    const other = replayTrace(instantiate(model, p, fixed), model, r.trace!, selectInvariants(model, p, fixed, check.invariants), {
      strictLocations: false,
    });
    expect(other.status).not.toBe('reproduced');
  }
  return r;
}

describe('xfs-inodegc: posted series (5.14-rc, 4 Aug 2021)', () => {
  it('fires ASSERT(frozen < SB_FREEZE_FS) in the worker: an evictor queues work after SB_FREEZE_FS', () => {
    const r = replays('posted', { evictors: 1 }, {}, 'mainline');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: ASSERT });
    const steps = r.trace!.steps;
    expect(steps.at(-1)!.threads).toEqual(['worker0']);
    expect(steps.some((s) => s.event === 'freezer.frozen_SB_FREEZE_FS')).toBe(true);
  });

  it('without the ASSERT deadlocks: freezer in cancel_work_sync, worker in sb_start_intwrite, thawer on s_umount', () => {
    const r = replays('posted', { evictors: 1, debugAssert: false }, { invariants: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.verdict.message).toContain('freezer@F14_freeze_fs.inodegc_stop.cancel_work_sync0_wait');
    expect(r.verdict.message).toContain('worker0@xfs_trans_alloc');
    expect(r.verdict.message).toContain('thawer@T1_down_write_s_umount');
  });

  it('breaks I-P5 (s_umount holder waits for a worker at SB_FREEZE_FS)', () => {
    const r = run('posted', { evictors: 1, debugAssert: false }, { deadlock: false, assertions: false, invariants: ['noUmountHolderWaitsForWorker'] });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'noUmountHolderWaitsForWorker' });
  });

  it('strands inodes when xfs_log_quiesce fails (no inodegc restart)', () => {
    const r = run('posted', { evictors: 1, debugAssert: false, freezeFail: true }, { deadlock: false, invariants: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: 'noStrandedInodes' });
  });
});

describe("xfs-inodegc: Dave's proposal (stop in sync_fs at SB_FREEZE_PAGEFAULT, restart on error)", () => {
  it('still fires the ASSERT through the sample-then-queue window, already with one evictor', () => {
    const r = replays('dave', { evictors: 1 }, {}, 'mainline');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: ASSERT });
    const ev = r.trace!.steps.map((s) => s.event);
    // the evictor samples INODEGC_ENABLED before the stop clears it, and queues only after SB_FREEZE_FS
    const sample = ev.indexOf('evictor0.xfs_is_inodegc_enabled');
    const clear = ev.indexOf('freezer.xfs_clear_inodegc_enabled');
    const fs = ev.indexOf('freezer.frozen_SB_FREEZE_FS');
    const queue = ev.indexOf('evictor0.queue_work');
    expect(sample).toBeGreaterThanOrEqual(0);
    expect(sample < clear && clear < fs && fs < queue).toBe(true);
  });

  it('fires it also before any thaw with two evictors on one CPU', () => {
    const r = run('dave', { evictors: 2, thaw: false }, { deadlock: false, invariants: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: ASSERT });
  });

  it('without the ASSERT (5.15 as merged) passes, failing freeze included', () => {
    const r = run('dave', { evictors: 2, debugAssert: false, freezeFail: true });
    expect(r.verdict.status).toBe('pass');
  });
});

describe('xfs-inodegc: drain_workqueue (6191cf3ad59f)', () => {
  it('queues on a draining workqueue (the syzbot __queue_work WARN): mod_delayed_work drops even a pending work', () => {
    const r = replays('drain', { evictors: 1, debugAssert: false }, {}, 'mainline');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'noQueueWorkWhileDraining' });
    const last = r.trace!.steps.at(-1)!;
    expect(last.event).toBe('evictor0.mod_delayed_work');
    expect(r.trace!.steps.map((s) => s.event)).toContain('freezer.drain_workqueue');
  });
});

describe('xfs-inodegc: mainline (2254a7396a0c)', () => {
  it('passes: no transaction while frozen, no s_umount holder waits for a worker, no deadlock', () => {
    const r = run('mainline', { evictors: 2, debugAssert: false });
    expect(r.verdict.status).toBe('pass');
    expect(r.stats.states).toBeGreaterThan(100);
  });

  it('passes with two CPUs, the shrinker and a failing freeze', () => {
    expect(run('mainline', { evictors: 1, cpus: 2, shrinkers: 1, debugAssert: false, freezeFail: true }).verdict.status).toBe('pass');
  });

  it('with the ASSERT compiled in still fires, with one evictor and no thaw: mod_delayed_work steals the flushed work', () => {
    const r = run('mainline', { evictors: 1, thaw: false }, { deadlock: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: ASSERT });
    const ev = r.trace!.steps.map((s) => s.event);
    const flush = ev.indexOf('freezer.flush_workqueue');
    const steal = ev.indexOf('evictor0.mod_delayed_work');
    const flushed = ev.indexOf('freezer.flush_workqueue_done');
    const run0 = ev.indexOf('worker0.xfs_inodegc_worker');
    const rerun = ev.lastIndexOf('freezer.xfs_inodegc_queue_all');
    expect(flush < steal && steal < flushed && flushed < run0 && run0 < rerun).toBe(true);
    expect(ev.at(-1)).toBe('freezer.frozen_SB_FREEZE_FS');
  });

  it('with the ASSERT compiled in, it can also fire at thaw: xfs_fs_unfreeze restarts inodegc before SB_UNFROZEN', () => {
    const end = walk('mainline', { evictors: 1 }, [
      ...MAINLINE_FREEZE,
      'evictor0.llist_add', 'evictor0.xfs_is_inodegc_enabled', // disabled: the inode waits on the list
      'thawer.down_write_s_umount', 'thawer.frozen_is_SB_FREEZE_COMPLETE', 'thawer.xfs_inodegc_start',
      'worker0.xfs_inodegc_worker',
    ]);
    expect(end.locations.worker0).toBe('inactivate');
    expect(end.locations.thawer).toBe('T6_sb_freeze_unlock');
    expect(end.context.s_writers.frozen).toBe(4);
    expect(model.assertions![ASSERT](end.context, end.locations)).toBe(false);
  });

  it('fires before thaw with the shrinker as well (the actors of 2254a7396a0c)', () => {
    const r = run('mainline', { evictors: 1, shrinkers: 1, thaw: false }, { deadlock: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'assertion', name: ASSERT });
  });
});

// The model and its workqueue declare their guards and actions as word operations (declareLowerings): every
// variant steps (nearly) every state on the packed words, with the same successors as XState's transition().
describe('xfs-inodegc on the packed words', () => {
  // (every variant at its smallParams is in test/explorer/differential.test.ts; here the shrinker's mod_delayed_work too)
  for (const variant of ['drain', 'mainline']) {
    it(`${variant}: agrees with XState transition() everywhere (two CPUs, the shrinker, a failing freeze), word path on`, () => {
      const params = resolveParams(model, { evictors: 1, cpus: 2, shrinkers: 1, debugAssert: variant !== 'mainline', freezeFail: true });
      const r = crossCheck(model.create({ params, variant }), { lowered: true, limit: 20_000 });
      expect(r.difference).toBeUndefined();
      expect(r.states).toBeGreaterThan(500);
    }, 120_000);
  }

  it('mainline steps on the words: under 1% of the steps take the decoded path', () => {
    const space = instantiate(model, resolveParams(model, { evictors: 1, cpus: 2, shrinkers: 1, debugAssert: false, freezeFail: true }), 'mainline');
    const init = space.initial().words;
    const seen = new Set<string>([init.join(',')]);
    const queue = [init];
    while (queue.length > 0) {
      space.expand(queue.pop()!, (_e, next, len) => {
        const k = next.subarray(0, len).join(',');
        if (!seen.has(k)) {
          seen.add(k);
          queue.push(next.slice(0, len));
        }
      });
    }
    expect(seen.size).toBe(3407); // specs/xfs-inodegc-mainline-2cpu-shrinker.json
    expect(space.words.counts.lowered).toBeGreaterThan(5000);
    expect(space.words.counts.fallback).toBeLessThan(space.words.counts.lowered / 100);
  });
});
