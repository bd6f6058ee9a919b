// Verdicts of the file-write-freeze model's small instances (seed 001, Jan Kara's review; KERNEL.md 1B).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { exploreReference } from '../../explorer/reference.ts';
import model from '../../machines/file-write-freeze/index.ts';

const cycleOf = (r: ReturnType<typeof checkModel>) =>
  (r.trace?.deadlock?.cycle ?? []).map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`);
const safety = ['P-F1', 'P-F2', 'P-F3', 'no-write-after-FWFREEZE'];

describe('file-write-freeze', () => {
  it('inode-first: a fault dirties the inode after FS_IOC_FWFREEZE returned for it', () => {
    const r = checkModel({ model, variant: 'inode-first', params: { inodes: 1, faulters: 1 } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'no-write-after-FWFREEZE' });
    // the race of the review: the flag test passes before the freeze, the fault enters after the thaw
    const events = r.trace!.steps.map((s: any) => s.event);
    const at = (e: string) => events.indexOf(e);
    expect(at('faulter0.inode_start_write_inode0')).toBeLessThan(at('fwfreezer.set_I_WRITE_FREEZED_inode0'));
    expect(at('fwfreezer.T7_deactivate_locked_super')).toBeLessThan(at('faulter0.sb_start_pagefault'));
  });

  it('pagefault-first, one inode: no write after FS_IOC_FWFREEZE and no deadlock', () => {
    const r = checkModel({ model, variant: 'pagefault-first', params: { inodes: 1, faulters: 2 } });
    expect(r.verdict).toEqual({ status: 'pass' });
  });

  it('pagefault-first, two inodes, one program (Jan Kara\'s example): deadlock through I_WRITE_FREEZED(inode0)', () => {
    const r = checkModel({ model, variant: 'pagefault-first', params: { inodes: 2, faulters: 1 }, check: { invariants: safety } });
    expect(r.verdict.kind).toBe('deadlock');
    expect(cycleOf(r)).toEqual([
      'fwfreezer -> sb_pagefaults -> faulter0',
      'faulter0 -> I_WRITE_FREEZED(inode0) -> fwfreezer',
    ]);
  });

  it('pagefault-first, two inodes, separate unfreezer: no deadlock, but freeze_super stalls every writer behind a frozen inode', () => {
    const params = { inodes: 2, faulters: 1, writers: 1, unfreezer: 'separate' };
    expect(checkModel({ model, variant: 'pagefault-first', params, check: { invariants: safety } }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model, variant: 'pagefault-first', params, check: { invariants: ['no-sb-freeze-stall-on-I_WRITE_FREEZED'] } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'no-sb-freeze-stall-on-I_WRITE_FREEZED' });
    // in the stalled state the syscall writer cannot start: SB_FREEZE_WRITE is write-held by the freezer
    expect((r.trace!.final.context as any).s_writers.rw_sem[0].block).toBe(true);
  });

  it('the stall invariant holds for inode-first (the fault never sleeps under freeze protection there)', () => {
    const r = checkModel({ model, variant: 'inode-first', params: { inodes: 2, faulters: 1 }, check: { invariants: ['no-sb-freeze-stall-on-I_WRITE_FREEZED'] } });
    expect(r.verdict).toEqual({ status: 'pass' });
  });

  it('the compiled engine and XState\'s own transition() agree', () => {
    for (const variant of ['inode-first', 'pagefault-first']) {
      const params = { inodes: 2, faulters: 1, writers: 0, unfreezer: 'same' };
      const r = checkModel({ model, variant, params, check: { deadlock: false, invariants: false }, stopAtFirst: false });
      const ref = exploreReference(model.create({ params, variant }));
      expect(r.stats.states, variant).toBe(ref.states);
    }
  });
  it('the saved counterexample file-write-freeze-inode-first replays on inode-first and does not on pagefault-first', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/file-write-freeze-inode-first.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'inode-first'), model, trace, selectInvariants(model, params, 'inode-first', true));
    expect(own.status).toBe('reproduced');
    const other = replayTrace(instantiate(model, params, 'pagefault-first'), model, trace, selectInvariants(model, params, 'pagefault-first', true), { strictLocations: false });
    expect(other.status).not.toBe('reproduced');
  });

  it('the saved counterexample file-write-freeze-pagefault-first replays on pagefault-first and does not on inode-first', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/file-write-freeze-pagefault-first.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'pagefault-first'), model, trace, selectInvariants(model, params, 'pagefault-first', true));
    expect(own.status).toBe('reproduced');
    const other = replayTrace(instantiate(model, params, 'inode-first'), model, trace, selectInvariants(model, params, 'inode-first', true), { strictLocations: false });
    expect(other.status).not.toBe('reproduced');
  });
});
