// Verdicts of fscache-volume-collision (8226e37d82f4): the colliding acquisition waits with wait_var_event() on
// __var_waitqueue(&candidate->flags), the relinquish clears FSCACHE_VOLUME_ACQUIRE_PENDING and wakes the bit's queue
// with wake_up_bit(): the waiter sleeps forever (the hung mount of the commit); wait_on_bit() against
// clear_and_wake_up_bit() on the same bit passes.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import model from '../../machines/fscache-volume-collision/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { renderDeadlock } from '../../explorer/waitfor.ts';
import type { Context } from '../../explorer/model.ts';

describe('fscache-volume-collision', () => {
  it('wait-var-event: the acquirer sleeps on the var queue with the bit clear, the relinquish woke the bit queue and finished', () => {
    const r = checkModel({ model, variant: 'wait-var-event' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.stats.states).toBe(53);
    const t = r.trace!;
    expect(t.steps).toHaveLength(14);
    expect(t.final.locations).toEqual({ acquire: 'wait_sleep', relinquish: 'freed' });
    const ctx = t.final.context as Context;
    expect(ctx.candidate.flags.FSCACHE_VOLUME_ACQUIRE_PENDING).toEqual({ setBy: null, waiters: [], exclusive: [] });
    expect(ctx.var_waitqueue.waiters).toEqual(['acquire']);
    // the commit's story: the timed wait ran out, then wait_var_event slept; the wake_up_bit came after that sleep:
    // not a wake-up sent too early, one sent to another queue
    const events = t.steps.map((s: any) => s.event);
    expect(events.indexOf('acquire.timed_wait.timed_out')).toBeGreaterThan(-1);
    expect(events.indexOf('relinquish.wake_up_bit')).toBeGreaterThan(events.indexOf('acquire.wait.condition_false'));
    expect(renderDeadlock(t.deadlock!)).toContain('acquire at wait_sleep: waits for __var_waitqueue(&candidate->flags) (waitqueue schedule (wait for wake_up)), relinquish must wake_up');
  });

  it('fixed: wait_on_bit_timeout and wait_on_bit against clear_and_wake_up_bit pass, with the lock-order check too', () => {
    const r = checkModel({ model, variant: 'fixed', check: { deadlock: true, assertions: true, lockOrder: true } });
    expect(r.verdict).toEqual({ status: 'pass' });
    expect(r.stats).toMatchObject({ states: 31, depth: 10 });
    // the timed wait can run out with the bit set, and the wait_on_bit after it is woken (the bit's queue, left and joined again)
    const probed = { ...model, invariantsFor: undefined, invariants: { probe: ((c: Context, l: any) => !(l.acquire === 'wait' && c.candidate.flags.FSCACHE_VOLUME_ACQUIRE_PENDING.waiters.includes('acquire'))) as any } };
    const p = checkModel({ model: probed, variant: 'fixed', check: { deadlock: false, assertions: false, invariants: ['probe'] } });
    expect(p.verdict.status).toBe('violation');
  });

  it('the saved counterexample replays on wait-var-event and diverges on fixed at step 4 (no var queue to join: the timed wait is on the bit)', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/fscache-volume-collision-wait-var-event.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'wait-var-event'), model, trace, selectInvariants(model, params, 'wait-var-event', true));
    expect(own.status).toBe('reproduced');
    const other = replayTrace(instantiate(model, params, 'fixed'), model, trace, selectInvariants(model, params, 'fixed', true), { strictLocations: false });
    expect(other).toMatchObject({ status: 'diverged', step: 4 });
  });
});
