// Verdicts of f2fs-gc-freeze (dc6febb6bcec): the GC thread's sb_internal -> gc_mutex against fsync's
// gc_mutex -> cp_mutex -> sb_internal. A deadlock needs a freezer waiting for SB_FREEZE_FS; the lock-order check
// reports the cycle without one, as lockdep did on generic/241; a trylock into sb_internal does not remove it.
import { describe, expect, it } from 'vitest';
import model from '../../machines/f2fs-gc-freeze/index.ts';
import { checkModel, instantiate } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';

const lockOrderOnly = { deadlock: false, assertions: false, invariants: false, lockOrder: true } as const;

describe('f2fs-gc-freeze', () => {
  it('intwrite: gc waits for gc_mutex (fsync), fsync for sb_internal (the freezer), the freezer for gc\'s read hold', () => {
    const r = checkModel({ model, variant: 'intwrite' });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.trace!.final.locations).toMatchObject({ gc: 'balance_fs_bg', fsync: 'evict_inode', freezer: 'fz_F13_sb_wait_fs_drain' });
    expect(checkModel({ model, variant: 'intwrite', params: { freezer: false } }).verdict).toEqual({ status: 'pass' });
  });

  it('the lock-order check reports the inversion with no freezer, for sb_start_intwrite and for its trylock; the edges replay', () => {
    for (const variant of ['intwrite', 'intwrite-trylock']) {
      const r = checkModel({ model, variant, params: { freezer: false }, check: lockOrderOnly });
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
      const lo = r.trace!.lockOrder!;
      // the splat's new dependency: gc holds sb_internal (read) and takes gc_mutex
      expect(lo.edges[0]).toMatchObject({ thread: 'gc', from: 'sb_internal', fromMode: 'read', to: 'gc_mutex' });
      expect(lo.edges.slice(1).every((x) => x.thread === 'fsync')).toBe(true);
      expect(replayTrace(instantiate(model, r.params, r.variant), model, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    }
    // and with a freezer the trylock variant deadlocks as the draft did
    expect(checkModel({ model, variant: 'intwrite-trylock' }).verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
  });

  it('fixed: sb_start_write_trylock at SB_FREEZE_WRITE: no deadlock across a freeze and thaw, no lock-order cycle', () => {
    expect(checkModel({ model, variant: 'fixed', check: { deadlock: true, lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });
});
