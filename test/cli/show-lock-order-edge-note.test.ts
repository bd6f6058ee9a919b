// `show` on a lock-order counterexample says the table is edge #0's trace and where the other edges' traces are:
// only when there are other edges. A one-edge finding (an invalid wait context, a sleeping call in atomic context,
// a recursive acquisition) has no other trace, and the note sent readers looking for one (docs/guide/kernel-checks.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderTrace } from '../../cli/show.ts';

const NOTE = 'The steps above are the trace of edge #0';
const load = (name: string) => JSON.parse(readFileSync(`counterexamples/${name}.json`, 'utf8'));

describe('show: the edge #0 note on lock-order traces', () => {
  it('is printed for a cycle of several edges', () => {
    const trace = load('sb-freeze-umount-held-lock-order');
    expect(trace.lockOrder.edges.length).toBeGreaterThan(1);
    expect(renderTrace(trace, {})).toContain(NOTE);
  });

  it('is not printed for a one-edge finding (invalid wait context)', () => {
    const trace = load('btrfs-qgroup-inherit-limit-under-spinlock');
    expect(trace.lockOrder.edges).toHaveLength(1);
    const text = renderTrace(trace, {});
    expect(text).toContain('BUG: Invalid wait context');
    expect(text).not.toContain(NOTE);
  });
});
