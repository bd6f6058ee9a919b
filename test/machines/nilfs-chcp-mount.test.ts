// Verdicts of nilfs-chcp-mount (c1ea985c710f): chcp's ns_segctor_sem (read) -> ns_mount_mutex against the mount's
// ns_mount_mutex -> s_umount -> ns_segctor_sem (read). A deadlock needs the segment constructor's queued
// down_write between the two reads; the lock-order check reports the inversion without it, as lockdep did.
import { describe, expect, it } from 'vitest';
import model from '../../machines/nilfs-chcp-mount/index.ts';
import { checkModel, instantiate } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import type { Context } from '../../explorer/model.ts';

describe('nilfs-chcp-mount', () => {
  it('lock-in-cpfile: chcp waits for ns_mount_mutex, the mount queues behind the segment constructor, which waits for chcp', () => {
    const r = checkModel({ model, variant: 'lock-in-cpfile' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const t = r.trace!;
    expect(t.final.locations).toEqual({ chcp: 'change_cpmode', mount: 'attach_checkpoint', segctor: 'transaction_lock' });
    const ctx = t.final.context as Context;
    expect(ctx.ns_segctor_sem.readers).toEqual(['chcp']);
    expect(ctx.ns_mount_mutex.owner).toBe('mount');
    expect(ctx.s_umount.owner).toBe('mount');
    // the writer queued before the mount's reader: the reader waits behind it (no 2.6.32 lock stealing)
    expect(ctx.ns_segctor_sem.waiters).toEqual(['w:segctor', 'r:mount']);
  });

  it('without a segment constructor nothing deadlocks, and the lock-order check still reports the inversion; each edge replays', () => {
    expect(checkModel({ model, variant: 'lock-in-cpfile', params: { segctor: false } }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model, variant: 'lock-in-cpfile', params: { segctor: false }, check: { deadlock: false, lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    const lo = r.trace!.lockOrder!;
    // chcp's edge is the one lockdep printed as the new dependency: ns_segctor_sem (read) -> ns_mount_mutex
    expect(lo.edges[0]).toMatchObject({ thread: 'chcp', from: 'ns_segctor_sem', fromMode: 'read', to: 'ns_mount_mutex' });
    expect(lo.edges.slice(1).every((x) => x.thread === 'mount')).toBe(true);
    expect(replayTrace(instantiate(model, r.params, r.variant), model, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it('fixed: ns_mount_mutex before the transaction: no deadlock, no lock-order cycle', () => {
    expect(checkModel({ model, variant: 'fixed', check: { deadlock: true, lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    expect(checkModel({ model, variant: 'fixed', params: { segctor: false }, check: { deadlock: true, lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });
});
