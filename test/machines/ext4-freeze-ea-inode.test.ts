// Verdicts of ext4-freeze-ea-inode (46e294efc355): the handle holder vs ext4_freeze's lock_updates deadlock, named
// by the report; the fix, whose nested handle joins the transaction being drained; the syscall path that holds
// SB_FREEZE_WRITE and so never meets the freezer at ->freeze_fs.
import { describe, expect, it } from 'vitest';
import model from '../../machines/ext4-freeze-ea-inode/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { renderTrace } from '../../cli/show.ts';
import type { Context, Invariant, ThreadLocations } from '../../explorer/model.ts';
import { percpuReaders } from '../../machines/kernel/index.ts';

const run = (variant: string, params: Record<string, boolean> = {}) => checkModel({ model, variant, params });

function reachable(variant: string, probe: (ctx: Context, t: ThreadLocations) => boolean) {
  const probed = { ...model, invariants: { probe: ((c, t) => !probe(c, t)) as Invariant } };
  const r = checkModel({ model: probed, variant, check: { deadlock: false, assertions: false, invariants: ['probe'] } });
  expect(r.verdict.status).not.toBe('incomplete');
  return r.verdict.status === 'violation';
}

describe('ext4-freeze-ea-inode', () => {
  it('before the fix: deadlock, and the report names the jbd2 handle, its holder and the freeze level it waits for', () => {
    const r = run('intwrite-in-handle');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const t = r.trace!;
    expect(t.final.locations).toEqual({ xattr: 'evict_freeze_protect', freezer: 'ext4_freeze_wait_updates' });
    expect(t.deadlock!.cycle!.map((e) => `${e.thread} -> ${e.resource} -> ${e.heldBy}`)).toEqual([
      'xattr -> sb_internal -> freezer',
      'freezer -> jbd2_handle (journal transaction 1) -> xattr',
    ]);
    const text = renderTrace(t);
    expect(text).toContain('freezer at ext4_freeze_wait_updates: waits for jbd2_handle (journal transaction 1)');
    expect(text).toContain('held by xattr');
    // the handle was held from the start (ext4_xattr_set started it), the FS level from the freezer's F13 step
    const rows = text.split('\n').filter((l) => /^ {7} *[a-z_0-9]+\(.*\);$/.test(l)).map((l) => l.trim());
    expect(rows).toEqual([
      'lock(jbd2_handle (journal transaction 1));',
      'lock(sb_internal);',
      'rlock(sb_internal);',
      'lock(jbd2_handle (journal transaction 1));',
    ]);
    // the counterexample replays on its variant and is blocked by the fix
    const p = resolveParams(model, {});
    expect(replayTrace(instantiate(model, p, 'intwrite-in-handle'), model, t, selectInvariants(model, p, 'intwrite-in-handle', true)).status).toBe('reproduced');
    expect(replayTrace(instantiate(model, p, 'fixed'), model, t, selectInvariants(model, p, 'fixed', true), { strictLocations: false }).status).not.toBe('reproduced');
  });

  it('46e294efc355: passes; the nested ext4_journal_start joins while jbd2_journal_lock_updates waits for the handle', () => {
    expect(run('fixed').verdict.status).toBe('pass');
    expect(reachable('fixed', (c, t) => t.freezer === 'ext4_freeze_wait_updates' && c.journal.handles.xattr === 2)).toBe(true);
    // the freeze completes only after the xattr task dropped its handle
    expect(reachable('fixed', (c, t) => t.freezer === 'frozen' && t.xattr !== 'done')).toBe(false);
    // and inside the running handle it never takes sb_start_intwrite (the coverage review found the fixed variant
    // taking it whenever the level was free: a spread sb_start_intwrite() guard had replaced the handle check)
    expect(reachable('fixed', (c) => percpuReaders(c, 's_writers.rw_sem.2').includes('xattr'))).toBe(false);
    expect(reachable('intwrite-in-handle', (c) => percpuReaders(c, 's_writers.rw_sem.2').includes('xattr'))).toBe(true);
  });

  it('with mnt_want_write (the removexattr syscall path) even the unfixed code passes: the freezer waits at SB_FREEZE_WRITE', () => {
    expect(run('intwrite-in-handle', { mntWantWrite: true }).verdict.status).toBe('pass');
    expect(reachable('intwrite-in-handle', (c, t) => t.freezer === 'F7_sb_wait_write_drain')).toBe(true);
  });
});
