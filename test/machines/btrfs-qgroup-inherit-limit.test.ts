// Verdicts of btrfs-qgroup-inherit-limit (f7e942b5bb35): btrfs_qgroup_inherit() with BTRFS_QGROUP_INHERIT_SET_LIMITS
// wrote the limit item (a quota tree search: the quota root's eb->lock, an rw_semaphore) under
// spin_lock(&fs_info->qgroup_lock). Only the lock-order check (lockdep's check_wait_context) reports it, on the
// inherit_set_limits path only; the fix dirties the qgroup and the commit's btrfs_run_qgroups() writes the item with
// the spinlock dropped, and the item still reaches the committed transaction.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import model from '../../machines/btrfs-qgroup-inherit-limit/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { explore, where } from './kernel/harness.ts';

describe('btrfs-qgroup-inherit-limit', () => {
  it('limit-under-spinlock: an invalid wait context on the set-limits path, one edge qgroup_lock -> btrfs-quota-00', () => {
    const r = checkModel({ model, variant: 'limit-under-spinlock', check: { deadlock: true, assertions: true, lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: '&fs_info->qgroup_lock -> btrfs-quota-00' });
    const lo = r.trace!.lockOrder!;
    expect(lo.kind).toBe('invalid-wait-context');
    expect(lo.edges.map((e) => [e.thread, e.from, e.to])).toEqual([['snap', '&fs_info->qgroup_lock', 'btrfs-quota-00']]);
    expect(r.trace!.steps.map((s) => s.event)).toEqual(['snap.spin_lock', 'snap.inherit_set_limits', 'snap.btrfs_tree_lock']);
  });

  it('limit-under-spinlock: without the lock-order check it passes (nothing deadlocks, the item is written), though the snapshot really sleeps on eb->lock with qgroup_lock held', () => {
    expect(checkModel({ model, variant: 'limit-under-spinlock' }).verdict).toEqual({ status: 'pass' });
    // the sleep the splat is about: snap blocked in down_write behind the rescan worker, holding the spinlock
    const r = explore(model.create({ params: { rescan: true }, variant: 'limit-under-spinlock' }) as any);
    expect(
      r.all.some((s) => where(s).snap === 'search' && s.context.qgroup_lock.owner === 'snap' && s.context.quota_root_lock.owner === 'rescan'),
    ).toBe(true);
  });

  it('fixed: no invalid wait context, no deadlock, and the limit item is in the committed transaction (not vacuous)', () => {
    for (const rescan of [true, false]) {
      const r = checkModel({ model, variant: 'fixed', params: { rescan }, check: { deadlock: true, assertions: true, lockOrder: true } });
      expect(r.verdict, `rescan=${rescan}`).toEqual({ status: 'pass' });
    }
    const r = explore(model.create({ params: { rescan: true }, variant: 'fixed' }) as any);
    expect(r.all.some((s) => where(s).commit === 'done' && s.context.limits && s.context.dstgroup === 'item_written')).toBe(true);
    // the commit writes it from dirty_qgroups, with qgroup_lock dropped
    expect(r.all.some((s) => where(s).commit === 'search' && s.context.picked === 'dst' && s.context.qgroup_lock.owner === null)).toBe(true);
  });

  it('the saved counterexample replays on limit-under-spinlock; on fixed the tree lock under the spinlock no longer exists', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/btrfs-qgroup-inherit-limit-under-spinlock.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'limit-under-spinlock'), model, trace, selectInvariants(model, params, 'limit-under-spinlock', true));
    expect(own).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/invalid wait context/) });
    const other = replayTrace(instantiate(model, params, 'fixed'), model, trace, selectInvariants(model, params, 'fixed', true), { strictLocations: false });
    expect(other).toMatchObject({ status: 'diverged', step: 3 });
  });
});
