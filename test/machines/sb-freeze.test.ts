// Verdicts of the sb-freeze model's small instances (VFS freeze_super/thaw_super, KERNEL.md 1) and of its P-F2 monitor.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { exploreReference } from '../../explorer/reference.ts';
import model from '../../machines/sb-freeze/index.ts';
import { setFrozenAction } from '../../machines/sb-freeze/freeze.ts';

const small = { writers: 2, umountWriters: 1, faulters: 1, intwriters: 1 };
const cycleOf = (r: ReturnType<typeof checkModel>) =>
  (r.trace?.deadlock?.cycle ?? []).map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`);

describe('sb-freeze', () => {
  it('generic: P-F1, P-F2, P-F3 hold and nothing deadlocks (whole space explored)', () => {
    const r = checkModel({ model, variant: 'generic', params: small, check: { invariants: ['P-F1', 'P-F2', 'P-F3'] } });
    expect(r.verdict).toEqual({ status: 'pass' });
  });

  it('the compiled engine and XState\'s own transition() agree on a tiny instance', () => {
    const tiny = { writers: 1, umountWriters: 1, faulters: 1, intwriters: 0, freezeFsMayFail: true };
    const r = checkModel({ model, variant: 'generic', params: tiny });
    const ref = exploreReference(model.create({ params: tiny, variant: 'generic' }));
    expect(r.stats.states).toBe(ref.states);
    expect(ref.deadlocks).toEqual([]);
  });

  it('generic: the checks are not vacuous (the freeze completes while writers wait, and a writer takes s_umount inside sb_start_write)', () => {
    const witness = {
      ...model,
      invariants: {
        'never frozen with a writer waiting': (c: any, t: any) => !(c.s_writers.frozen === 4 && t.writer1 === 'idle'),
        'never s_umount under sb_start_write': (c: any) => !(c.s_umount.readers.includes('writer0') && c.s_writers.rw_sem[0].readers.includes('writer0')),
      },
    };
    for (const name of Object.keys(witness.invariants)) {
      const r = checkModel({ model: witness, variant: 'generic', params: small, check: { invariants: [name] } });
      expect(r.verdict.status, name).toBe('violation');
    }
  });

  it('umount-held (V1-2): deadlock, the freezer and the writer that needs s_umount form the cycle', () => {
    const r = checkModel({ model, variant: 'umount-held', params: small, check: { invariants: ['P-F1', 'P-F2', 'P-F3'] } });
    expect(r.verdict.status).toBe('violation');
    expect(r.verdict.kind).toBe('deadlock');
    expect(cycleOf(r)).toEqual(['freezer -> sb_writers -> writer0', 'writer0 -> s_umount -> freezer']);
  });

  it('umount-held without a writer that needs s_umount does not deadlock', () => {
    const r = checkModel({ model, variant: 'umount-held', params: { ...small, umountWriters: 0 } });
    expect(r.verdict).toEqual({ status: 'pass' });
  });

  it('the P-F2 monitor records a skipped level and a write without s_umount, and replaces the kernel sb_set_frozen', () => {
    const base = {
      s_umount: { owner: 'freezer', readers: [], waiters: [], handoff: false, granted: [] },
      s_writers: { frozen: 0, rw_sem: [] },
      frozen_violation: null,
    };
    // the assign action's assignment function, called the way XState calls it
    const run = (ctx: any, level: number) => (setFrozenAction as any).assignment({ context: ctx }, { sb: 's_writers', level });
    expect(run(base, 1).frozen_violation).toBeUndefined();
    expect(run(base, 1).s_writers.frozen).toBe(1);
    expect(run(base, 2).frozen_violation).toMatch(/SB_UNFROZEN -> SB_FREEZE_PAGEFAULT/);
    expect(run({ ...base, s_umount: { ...base.s_umount, owner: null } }, 1).frozen_violation).toMatch(/without s_umount/);
    // the freeze_super/thaw_super fragments write frozen through this action
    const machine = model.create({ params: { ...small, freezeFsMayFail: true }, variant: 'generic' });
    expect((machine.implementations.actions as any).sb_set_frozen).toBe(setFrozenAction);
  });

  it('the saved counterexample sb-freeze-umount-held replays on umount-held and does not on generic', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/sb-freeze-umount-held.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'umount-held'), model, trace, selectInvariants(model, params, 'umount-held', true));
    expect(own.status).toBe('reproduced');
    const other = replayTrace(instantiate(model, params, 'generic'), model, trace, selectInvariants(model, params, 'generic', true), { strictLocations: false });
    expect(other.status).not.toBe('reproduced');
  });
});
