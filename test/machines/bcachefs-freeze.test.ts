// Verdicts of the bcachefs-freeze model's small instances (seed 000, KERNEL.md 1A): merged design passes, intwrite-per-transaction deadlocks.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { exploreReference } from '../../explorer/reference.ts';
import model from '../../machines/bcachefs-freeze/index.ts';

const small = { writers: 1, intwriters: 1, journalSize: 1, journalDirty: 1 };
const cycleOf = (r: ReturnType<typeof checkModel>) =>
  (r.trace?.deadlock?.cycle ?? []).map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`);

describe('bcachefs-freeze', () => {
  it('merged: B-F1 and P-F1..P-F3 hold, no deadlock', () => {
    const r = checkModel({ model, variant: 'merged', params: small });
    expect(r.verdict).toEqual({ status: 'pass' });
  });

  it('merged: EROFS happens, the fs does go read-only, and a transaction can wait for journal reclaim (the pass is not vacuous)', () => {
    const witness = {
      ...model,
      invariants: {
        'no EROFS': (_c: any, t: any) => t.intwriter0 !== 'erofs',
        'never read-only': (c: any) => c.c.rw,
        'never waiting for journal space with the freezer draining write refs': (c: any, t: any) =>
          !(t.intwriter0 === 'in_write_ref.journal_res_get' && c.c.journal.free === 0 && t.freezer.includes('R4_wait_writes')),
      },
    };
    for (const name of Object.keys(witness.invariants)) {
      const r = checkModel({ model: witness, variant: 'merged', params: small, check: { invariants: [name] } });
      expect(r.verdict.status, name).toBe('violation');
    }
  });

  it('intwrite-trans: deadlock, freeze -> transaction -> journal reclaim -> freeze', () => {
    const r = checkModel({ model, variant: 'intwrite-trans', params: small });
    expect(r.verdict.kind).toBe('deadlock');
    expect(cycleOf(r)).toEqual([
      'freezer -> sb_internal -> intwriter0',
      'intwriter0 -> journal space -> reclaim',
      'reclaim -> sb_internal -> freezer',
    ]);
  });

  it('intwrite-trans without journal pressure still deadlocks: ->freeze_fs flushes the pins with transactions that need SB_FREEZE_FS', () => {
    const r = checkModel({ model, variant: 'intwrite-trans', params: { writers: 0, intwriters: 1, journalSize: 2, journalDirty: 0 } });
    expect(r.verdict.kind).toBe('deadlock');
    expect(cycleOf(r)).toEqual(['freezer -> sb_internal -> freezer']);
    expect(r.trace!.final.locations.freezer).toBe('freeze_super.F14_freeze_fs_hook.R5_flush_sb_start_intwrite');
  });

  it('the compiled engine and XState\'s own transition() agree on a tiny instance', () => {
    const tiny = { writers: 0, intwriters: 0, journalSize: 1, journalDirty: 1 };
    for (const variant of ['merged', 'intwrite-trans']) {
      const r = checkModel({ model, variant, params: tiny, stopAtFirst: false });
      const ref = exploreReference(model.create({ params: tiny, variant }));
      expect(r.stats.states, variant).toBe(ref.states);
      expect(ref.deadlocks.length > 0, variant).toBe(variant === 'intwrite-trans');
    }
  });
  it('the saved counterexample bcachefs-freeze-intwrite-trans replays on intwrite-trans and does not on merged', () => {
    const trace = JSON.parse(readFileSync(new URL('../../counterexamples/bcachefs-freeze-intwrite-trans.json', import.meta.url), 'utf8'));
    const params = resolveParams(model, trace.params);
    const own = replayTrace(instantiate(model, params, 'intwrite-trans'), model, trace, selectInvariants(model, params, 'intwrite-trans', true));
    expect(own.status).toBe('reproduced');
    const other = replayTrace(instantiate(model, params, 'merged'), model, trace, selectInvariants(model, params, 'merged', true), { strictLocations: false });
    expect(other.status).not.toBe('reproduced');
  });
});
