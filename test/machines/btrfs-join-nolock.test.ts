// Verdicts of btrfs-join-nolock (v6.6 join rules): the free space inode's completion joins a commit in
// COMMIT_DOING with TRANS_JOIN_NOLOCK; with TRANS_JOIN it deadlocks, the report naming who must complete.
import { describe, expect, it } from 'vitest';
import model from '../../machines/btrfs-join-nolock/index.ts';
import { checkModel } from '../../explorer/index.ts';
import { renderTrace } from '../../cli/show.ts';
import type { Context, Invariant, ThreadLocations } from '../../explorer/model.ts';
import { TRANS_STATE_COMMIT_DOING, TRANS_STATE_COMMIT_START } from '../../machines/kernel/index.ts';

function reachable(variant: string, probe: (ctx: Context, t: ThreadLocations) => boolean) {
  const probed = { ...model, invariants: { probe: ((c, t) => !probe(c, t)) as Invariant } };
  const r = checkModel({ model: probed, variant, check: { deadlock: false, assertions: false, invariants: ['probe'] } });
  expect(r.verdict.status).not.toBe('incomplete');
  return r.verdict.status === 'violation';
}
const state = (c: Context) => c.trans.running?.state;

describe('btrfs-join-nolock', () => {
  it('v6.6 (TRANS_JOIN_NOLOCK): passes; the endio worker holds a handle on the transaction in COMMIT_DOING', () => {
    expect(checkModel({ model, variant: 'nolock' }).verdict.status).toBe('pass');
    expect(reachable('nolock', (c) => state(c) === TRANS_STATE_COMMIT_DOING && c.trans.handles.endio === 1)).toBe(true);
    // TRANS_JOIN writers never hold a handle on a transaction in COMMIT_DOING unless the commit is still draining them
    expect(reachable('nolock', (c, t) => state(c) === TRANS_STATE_COMMIT_DOING && c.trans.handles.joiner0 === c.trans.running.transid && t.committer !== 'commit_C5_wait_writers')).toBe(false);
    // ... but they do hold one in COMMIT_START, and TRANS_START writers are in transaction 2 or wait
    expect(reachable('nolock', (c) => state(c) === TRANS_STATE_COMMIT_START && c.trans.handles.joiner0 === 1)).toBe(true);
    expect(reachable('nolock', (c) => c.trans.handles.starter0 === 2)).toBe(true);
  });

  it('TRANS_JOIN for the free space inode: deadlock; endio is shown as who must complete the ordered extent', () => {
    const r = checkModel({ model, variant: 'join' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const t = r.trace!;
    expect(t.final.locations.committer).toBe('wait_cache_io');
    expect(t.final.locations.endio).toBe('start_transaction_join_busy_wait');
    const cycle = t.deadlock!.cycle!;
    expect(cycle.find((e) => e.thread === 'committer')).toMatchObject({ heldBy: 'endio', act: 'complete', resource: 'free space cache ordered extent' });
    expect(cycle.find((e) => e.thread === 'endio')).toMatchObject({ heldBy: 'committer', resource: 'transaction 1', mode: 'wait_current_trans (TRANS_STATE_COMMIT_DOING)' });
    const text = renderTrace(t);
    expect(text).toContain('endio must complete(free space cache ordered extent) for committer to go on');
    expect(text).not.toContain('lock(free space cache ordered extent)');
  });
});
