// Verdicts of rq-qos-wait (11c7aa0ddea8): with !wq_has_single_sleeper() read after prepare_to_wait_exclusive()
// two waiters queued after the last completion both sleep with nothing in flight (the commit's diagram); with
// has_sleeper = !prepare_to_wait_exclusive() the first waiter re-checks, and completions wake the rest one by one.
import { describe, expect, it } from 'vitest';
import model from '../../machines/rq-qos-wait/index.ts';
import { checkModel } from '../../explorer/index.ts';
import type { Context, Invariant, ThreadLocations } from '../../explorer/model.ts';

function reachable(variant: string, params: Record<string, number>, probe: (ctx: Context, t: ThreadLocations) => boolean) {
  const probed = { ...model, invariantsFor: undefined, invariants: { probe: ((c, t) => !probe(c, t)) as Invariant } };
  const r = checkModel({ model: probed, variant, params, check: { deadlock: false, assertions: false, invariants: ['probe'] } });
  expect(r.verdict.status).not.toBe('incomplete');
  return r.verdict.status === 'violation';
}

describe('rq-qos-wait', () => {
  it('single-sleeper: both exclusive waiters sleep, the slot free, the waker gone: the lost wake-up of the commit message', () => {
    const r = checkModel({ model, variant: 'single-sleeper' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const t = r.trace!;
    expect(t.final.locations).toEqual({ waiter1: 'io_schedule', waiter2: 'io_schedule', waker: 'completed' });
    const ctx = t.final.context as Context;
    expect(ctx.inflight).toBe(0);
    expect([...ctx.rqw_wait.exclusive].sort()).toEqual(['waiter1', 'waiter2']);
    expect(ctx.has_sleeper).toEqual({ waiter1: true, waiter2: true });
    expect(ctx.got_token).toEqual({ waiter1: false, waiter2: false });
    // the waker's wake_up ran before either waiter queued: it found the queue empty
    const events = t.steps.map((s: any) => s.event);
    expect(events.indexOf('waker.wake_up')).toBeLessThan(events.indexOf('waiter1.prepare_to_wait_exclusive'));
    expect(events.indexOf('waker.wake_up')).toBeLessThan(events.indexOf('waiter2.prepare_to_wait_exclusive'));
  });

  it('fixed: passes with one slot and with two; the double-token race (cleanup_cb) is reachable with two', () => {
    expect(checkModel({ model, variant: 'fixed' }).verdict.status).toBe('pass');
    expect(checkModel({ model, variant: 'fixed', params: { depth: 2, waiters: 3 } }).verdict.status).toBe('pass');
    expect(reachable('fixed', { depth: 2, waiters: 2 }, (_c, t) => Object.values(t).includes('cleanup'))).toBe(true);
    expect(reachable('fixed', { depth: 1, waiters: 2 }, (_c, t) => Object.values(t).includes('cleanup'))).toBe(false);
  });

  it('fixed: a completion wakes one exclusive waiter (with a slot) and leaves the other queued (wake-one)', () => {
    const oneWoken = (c: Context) =>
      ['waiter1', 'waiter2'].some((w) => c.got_token[w] && !c.rqw_wait.exclusive?.includes(w)) &&
      ['waiter1', 'waiter2'].some((w) => !c.got_token[w] && c.rqw_wait.exclusive?.includes(w));
    expect(reachable('fixed', { depth: 1, waiters: 2 }, oneWoken)).toBe(true);
    // never more slots taken than max_depth, never a woken waiter without a token
    expect(reachable('fixed', { depth: 2, waiters: 3 }, (c) => c.inflight > 2 || c.inflight < 0)).toBe(false);
  });
});
