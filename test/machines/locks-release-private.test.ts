// Verdicts of locks-release-private (ed9814d85810): locks_delete_lock() freed the file_lock under inode->i_lock, and
// NFSv4's fl_release_private puts the lock state, freeing it with an RPC (may sleep) when that put is the last. The
// sleep under the spinlock happens only in the interleavings where the LOCKU RPC's release put its reference first:
// the deadlock check passes, --lock-order (might_sleep) reports it; the fix frees after spin_unlock.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import model from '../../machines/locks-release-private/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { explore, where } from './kernel/harness.ts';

const full = { deadlock: true, invariants: true, lockOrder: true };

describe('locks-release-private', () => {
  it('free-under-i-lock: --lock-order reports "sleeping function called from invalid context", i_lock -> free_lock_state, after the RPC put first', () => {
    const r = checkModel({ model, variant: 'free-under-i-lock', check: full });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: '&inode->i_lock -> free_lock_state' });
    expect(r.verdict.message).toMatch(/^sleeping function called from invalid context/);
    const lo = r.trace!.lockOrder!;
    expect(lo).toMatchObject({ kind: 'invalid-wait-context', mightSleep: true });
    expect(lo.edges.map((e) => [e.thread, e.from, e.to])).toEqual([['unlock', '&inode->i_lock', 'free_lock_state']]);
    expect(r.trace!.steps.map((s) => s.event)).toEqual([
      'unlock.spin_lock',
      'unlock.locks_delete_lock',
      'rpciod.nfs4_put_lock_state',
      'unlock.nfs4_put_lock_state',
      'unlock.list_del',
      'unlock.free_lock_state',
    ]);
  });

  it('free-under-i-lock without --lock-order passes: nothing deadlocks, and the sleep under i_lock happens in some interleavings only', () => {
    expect(checkModel({ model, variant: 'free-under-i-lock', check: { deadlock: true, invariants: true } }).verdict).toEqual({ status: 'pass' });
    const all = explore(model.create({ params: { rpc: true }, variant: 'free-under-i-lock' }) as any).all;
    // unlock about to free the lock state with i_lock held (the rpciod put came first) ...
    expect(all.some((s) => where(s).unlock === 'free' && s.context.i_lock.owner === 'unlock')).toBe(true);
    // ... or unlock's put only decremented, and rpciod frees it, with no lock held
    expect(all.some((s) => where(s).unlock === 'done' && where(s).rpciod === 'free' && s.context.i_lock.owner === null)).toBe(true);
  });

  it('with no RPC in flight the put under i_lock is always the last: the check reports it as well', () => {
    const r = checkModel({ model, variant: 'free-under-i-lock', params: { rpc: false }, check: full });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: '&inode->i_lock -> free_lock_state' });
  });

  it('fixed: the dispose list is freed after spin_unlock: no report, no deadlock, the lock state freed once', () => {
    for (const rpc of [true, false]) {
      expect(checkModel({ model, variant: 'fixed', params: { rpc }, check: full }).verdict, `rpc=${rpc}`).toEqual({ status: 'pass' });
    }
    const all = explore(model.create({ params: { rpc: true }, variant: 'fixed' }) as any).all;
    // the last put can still be unlock's (from locks_dispose_list), now without i_lock
    expect(all.some((s) => where(s).unlock === 'dispose_free' && s.context.i_lock.owner === null)).toBe(true);
  });

  it('the saved counterexample replays; on fixed it diverges at step 4 (the put is no longer under i_lock)', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/locks-release-private-free-under-i-lock.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'free-under-i-lock'), model, trace, selectInvariants(model, params, 'free-under-i-lock', true));
    expect(own).toMatchObject({ status: 'reproduced', reason: expect.stringMatching(/sleeping function called from invalid context/) });
    const other = replayTrace(instantiate(model, params, 'fixed'), model, trace, selectInvariants(model, params, 'fixed', true), { strictLocations: false });
    expect(other).toMatchObject({ status: 'diverged', step: 4 });
  });
});
