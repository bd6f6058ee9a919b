// Verdicts of xfs-rename-agi-agf (93597ae8dac0): xfs_rename() over an existing target takes the AGF (directory block
// allocation) then the AGI (xfs_droplink), inode allocation the AGI then the AGF: an ABBA on two xfs_buf semaphores
// (b_sema) that lockdep, and the lock-order check, do not see; the deadlock report says who took each semaphore.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import model from '../../machines/xfs-rename-agi-agf/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { renderDeadlock } from '../../explorer/waitfor.ts';
import type { Context } from '../../explorer/model.ts';

describe('xfs-rename-agi-agf', () => {
  it('agf-then-agi: rename holds the AGF and sleeps in down() on the AGI, create holds the AGI and sleeps on the AGF', () => {
    const r = checkModel({ model, variant: 'agf-then-agi' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    // stats.depth is the explored depth here (the CLI's exploredDepth); the counterexample is 4 steps, as the spec pins
    expect(r.stats.states).toBe(19);
    expect(r.trace!.steps).toHaveLength(4);
    const t = r.trace!;
    expect(t.final.locations).toEqual({ rename: 'droplink', create: 'ag_alloc' });
    const ctx = t.final.context as Context;
    expect(ctx.agf_b_sema).toEqual({ count: 0, waiters: ['create'], woken: [], takers: ['rename'] });
    expect(ctx.agi_b_sema).toEqual({ count: 0, waiters: ['rename'], woken: [], takers: ['create'] });
    const text = renderDeadlock(t.deadlock!);
    expect(text).toContain('rename at droplink: waits for agi_bp->b_sema (semaphore down (count 0)), taken by create');
    expect(text).toContain('create at ag_alloc: waits for agf_bp->b_sema (semaphore down (count 0)), taken by rename');
  });

  it('the lock-order check records nothing for struct semaphore (lockdep has no map for it): it passes on the buggy variant', () => {
    const r = checkModel({ model, variant: 'agf-then-agi', check: { deadlock: false, lockOrder: true } });
    expect(r.verdict).toEqual({ status: 'pass' });
  });

  it('fixed: the AGI first when the directory needs a block, xfs_droplink finds it in the transaction: no deadlock', () => {
    const r = checkModel({ model, variant: 'fixed', check: { deadlock: true, assertions: true, lockOrder: true } });
    expect(r.verdict).toEqual({ status: 'pass' });
    expect(r.stats).toMatchObject({ states: 33, depth: 9 });
  });

  it('the saved counterexample replays on agf-then-agi and diverges on fixed at step 1 (rename reads the AGI first)', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/xfs-rename-agi-agf-agf-then-agi.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'agf-then-agi'), model, trace, selectInvariants(model, params, 'agf-then-agi', true));
    expect(own.status).toBe('reproduced');
    const other = replayTrace(instantiate(model, params, 'fixed'), model, trace, selectInvariants(model, params, 'fixed', true), { strictLocations: false });
    expect(other).toMatchObject({ status: 'diverged', step: 1 });
  });
});
