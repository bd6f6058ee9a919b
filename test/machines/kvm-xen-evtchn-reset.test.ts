// Verdicts of kvm-xen-evtchn-reset (a79b53aaaab5): KVM_XEN_EVTCHN_RESET's synchronize_srcu(&kvm->srcu) under kvm->lock
// against a vCPU inside kvm->srcu taking kvm->lock. The deadlock report names the reader the grace period waits for;
// with the reset after KVM_RUN returned nothing deadlocks and the lock-order check still reports the inversion.
import { describe, expect, it } from 'vitest';
import model from '../../machines/kvm-xen-evtchn-reset/index.ts';
import { checkModel, instantiate } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { renderDeadlock } from '../../explorer/waitfor.ts';
import type { Context } from '../../explorer/model.ts';
import { explore, where } from './kernel/harness.ts';

describe('kvm-xen-evtchn-reset', () => {
  it('sync-under-lock: the grace period waits for the vCPU, the vCPU for kvm->lock', () => {
    const r = checkModel({ model, variant: 'sync-under-lock' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const t = r.trace!;
    expect(t.final.locations).toEqual({ reset: 'sync', vcpu: 'set_evtchn' });
    const ctx = t.final.context as Context;
    expect(ctx.kvm_srcu).toEqual({ readers: { vcpu: 1 }, gp: { reset: ['vcpu'] } });
    expect(ctx.kvm_lock.owner).toBe('reset');
    const text = renderDeadlock(t.deadlock!);
    expect(text).toContain('reset at sync: waits for kvm->srcu (srcu synchronize_srcu(&kvm->srcu) waits for reader vcpu), held by vcpu');
    expect(text).toContain('vcpu at set_evtchn: waits for kvm->lock (mutex lock), held by reset');
  });

  it('with the reset after KVM_RUN returned nothing deadlocks; the lock-order check reports kvm->srcu -> kvm->lock -> kvm->srcu, and each edge replays', () => {
    const params = { vcpu_running: false };
    expect(checkModel({ model, variant: 'sync-under-lock', params }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model, variant: 'sync-under-lock', params, check: { deadlock: false, lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: 'kvm->srcu -> kvm->lock -> kvm->srcu' });
    expect(r.trace!.lockOrder!.edges.map((x) => [x.thread, x.from, x.fromMode, x.to, x.toMode])).toEqual([
      ['vcpu', 'kvm->srcu', 'read', 'kvm->lock', 'write'],
      ['reset', 'kvm->lock', 'write', 'kvm->srcu', 'write'],
    ]);
    expect(replayTrace(instantiate(model, r.params, r.variant), model, r.trace!, {})).toMatchObject({ status: 'reproduced' });
  });

  it('fixed: synchronize_srcu after mutex_unlock: no deadlock, no lock-order cycle, the evtchnfd is never freed under the vCPU', () => {
    for (const vcpu_running of [true, false]) {
      expect(checkModel({ model, variant: 'fixed', params: { vcpu_running }, check: { deadlock: true, assertions: true, lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    }
    // not vacuous: the vCPU does use an evtchnfd the reset has removed, while the reset's grace period waits for it
    const r = explore(model.create({ params: { vcpu_running: true }, variant: 'fixed' }) as any);
    expect(r.all.some((s) => where(s).vcpu === 'deliver' && s.context.evtchn === 'removed' && where(s).reset === 'sync' && s.context.kvm_srcu.gp.reset?.includes('vcpu'))).toBe(true);
  });
});
