// Verdicts of ext4-fc-reclaim (491f2927ae09): the fast commit allocates under s_fc_lock, which ext4_fc_del takes from
// inode eviction in reclaim. No interleaving deadlocks; the lock-order check reports lockdep's
// &sbi->s_fc_lock -> fs_reclaim -> &sbi->s_fc_lock, each edge replays, and the fix (memalloc_nofs_save in
// ext4_fc_lock) removes the edge into fs_reclaim.
import { describe, expect, it } from 'vitest';
import model from '../../machines/ext4-fc-reclaim/index.ts';
import { checkModel, instantiate } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { agreesEverywhere } from './kernel/harness.ts';

describe('ext4-fc-reclaim', () => {
  it('gfp-kernel: no deadlock, but the lock-order cycle through fs_reclaim; each edge replays, not on fixed', () => {
    expect(checkModel({ model, variant: 'gfp-kernel' }).verdict).toEqual({ status: 'pass' });
    const r = checkModel({ model, variant: 'gfp-kernel', check: { deadlock: true, lockOrder: true } });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'lock-order', name: '&sbi->s_fc_lock -> fs_reclaim -> &sbi->s_fc_lock' });
    expect(r.trace!.lockOrder!.edges.map((x) => [x.thread, x.from, x.to, x.events.at(-1)])).toEqual([
      ['commit', '&sbi->s_fc_lock', 'fs_reclaim', 'commit.kmalloc'],
      ['kswapd', 'fs_reclaim', '&sbi->s_fc_lock', 'kswapd.ext4_fc_lock'],
    ]);
    expect(replayTrace(instantiate(model, r.params, r.variant), model, r.trace!, {})).toMatchObject({ status: 'reproduced' });
    // on the fixed variant (as `replay --variant fixed`, locations not compared) the allocation acquires no fs_reclaim
    expect(replayTrace(instantiate(model, r.params, 'fixed'), model, { ...r.trace!, variant: 'fixed' }, {}, { strictLocations: false })).toMatchObject({
      status: 'not-reproduced',
      reason: expect.stringMatching(/the last step \(commit\.kmalloc\) does not acquire fs_reclaim in commit while it holds &sbi->s_fc_lock/),
    });
  });

  it('fixed: ext4_fc_lock() under memalloc_nofs_save(): no deadlock, no cycle', () => {
    expect(checkModel({ model, variant: 'fixed', check: { deadlock: true, lockOrder: true } }).verdict).toEqual({ status: 'pass' });
  });

  it('both variants: the compiled engine agrees with XState, footprints and --reduce por hold', () => {
    for (const variant of ['gfp-kernel', 'fixed']) agreesEverywhere(`ext4-fc-reclaim-${variant}`, model.create({ params: {}, variant }));
  });
});
