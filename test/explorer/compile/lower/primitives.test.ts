// The kernel primitives' declared lowerings against their functions: each declared action gives the words of
// the function's result, or BAILs, or declines its params (the function runs).
import { describe, expect, it } from 'vitest';
import { ContextCodec } from '../../../../explorer/codec.ts';
import * as L from '../../../../explorer/compile/lower/declared.ts';
import { Linker } from '../../../../explorer/compile/lower/link.ts';
import { lowerAssign } from '../../../../explorer/compile/lower/plans.ts';
import { pipeActions, workqueueActions, workqueueWith } from '../../../../machines/kernel/index.ts';
import { runDeclaredAction } from '../../../helpers/declared-action.ts';

/** What XState's assign does with the function's patch. */
const runJs = (action: any, ctx: unknown, p: unknown): unknown => ({ ...(ctx as object), ...action.assignment({ context: ctx, event: { type: 'e' } }, p) });

/**
 * A primitive's action on `ctx`, on the words against the function: 'declined' (no declaration for these params:
 * the function runs), 'misuse' (BAIL where the function throws), 'bailed', or 'agreed' (anything else fails).
 */
function outcome(action: any, p: unknown, ctx: unknown): 'declined' | 'misuse' | 'bailed' | 'agreed' {
  if (lowerAssign(action.assignment, p).plan === null) return 'declined';
  const codec = new ContextCodec(true);
  const op = { name: 'action', decl: L.declaredLowering(action.assignment) as L.ActionDecl, js: (c: unknown, q: unknown) => runJs(action, c, q) };
  return runDeclaredAction(codec, new Linker(codec, 0), op, p, ctx);
}

// Discrepancies random contexts found, each on its own.
describe('kernel primitives: declarations that did not compute what their functions compute', () => {
  it('flush_workqueue naming an item twice declines (the size check passed with a key of running left out)', () => {
    const ctx = { wq: workqueueWith(['g0', 'g1'], { pending: ['g1'], running: { g0: 'k0', g1: 'k1' } }) };
    // the function waits for g0's run and g1's run and pending instance: ['g0', 'g1', 'g1']
    expect(['declined', 'bailed']).toContain(outcome(workqueueActions.wq_flush_workqueue_begin, { wq: 'wq', thread: 'f', items: ['g0', 'g0'] }, ctx));
    expect(outcome(workqueueActions.wq_flush_workqueue_begin, { wq: 'wq', thread: 'f', items: ['g1', 'g0'] }, ctx)).toBe('agreed');
  });

  it('pipe_read computes count - 1 (count + -1 concatenated a count that is a string)', () => {
    expect(outcome(pipeActions.pipe_read, { pipe: 'p', thread: 'r' }, { p: { count: '2', capacity: 3, closed: false } })).toBe('agreed');
    expect(outcome(pipeActions.pipe_read, { pipe: 'p', thread: 'r' }, { p: { count: 2, capacity: 3, closed: false } })).toBe('agreed');
  });

  it('a queue_work dropped while draining leaves a truthy droppedWhileDraining as it is (it was set to true)', () => {
    const wq = (dropped: unknown) => ({ wq: { ...workqueueWith(['g0'], {}), draining: true, droppedWhileDraining: dropped } });
    for (const dropped of [1, 'yes', false, true]) {
      expect(outcome(workqueueActions.wq_queue_work, { wq: 'wq', thread: 'q', item: 'g0' }, wq(dropped))).toBe('agreed');
      expect(outcome(workqueueActions.wq_mod_delayed_work, { wq: 'wq', thread: 'q', item: 'g0' }, wq(dropped))).toBe('agreed');
    }
  });
});
