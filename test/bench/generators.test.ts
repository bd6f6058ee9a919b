// The benchmark's SPIN and rumur philosophers encode the same state space as machines/philosophers.
import { describe, expect, it } from 'vitest';
import model from '../../machines/philosophers/index.ts';
import { exploreReference } from '../../explorer/reference.ts';
import { detectRumur, detectSpin, murphiSource, runRumur, runSpin } from '../../bench/tools.ts';

// Reachable states and edges of the naive philosophers, as XState's own transition() explores them.
const EXPECTED: Record<number, { states: number; transitions: number }> = {
  4: { states: 34, transitions: 88 },
  6: { states: 198, transitions: 768 },
};

const spin = detectSpin();
const rumur = detectRumur();
// A missing tool fails the cross-check (it never skips): .ci/run and bench/setup.sh install both.
const requireTool = (status: { available: boolean; name: string; note: string }) => {
  if (!status.available) {
    throw new Error(`the ${status.name} cross-check cannot run: ${status.note}`);
  }
};

describe('bench philosophers generators', () => {
  it('the reference explorer gives the expected counts (the numbers the other tools must match)', () => {
    for (const n of [4, 6]) {
      const r = exploreReference(model.create({ params: { n }, variant: 'naive' }));
      expect({ states: r.states, transitions: r.transitions }).toEqual(EXPECTED[n]);
    }
  });

  it('rewrites the Murphi size constant', () => {
    expect(murphiSource(7)).toMatch(/^ {2}N: 7;$/m);
    expect(murphiSource(7)).not.toMatch(/^ {2}N: 4;$/m);
  });

  it('SPIN counts the same states and edges at N=4 and 6', async () => {
    requireTool(spin);
    const runs = await Promise.all([4, 6].map((n) => runSpin(n, { timeoutSeconds: 60 })));
    runs.forEach((r, i) => {
      expect(r.note).toMatch(/errors: 1 /);
      expect({ states: r.states, transitions: r.transitions }).toEqual(EXPECTED[[4, 6][i]]);
    });
  }, 60_000);

  it('rumur counts the same states and edges at N=4 and 6', async () => {
    requireTool(rumur);
    const runs = await Promise.all([4, 6].map((n) => runRumur(n, { threads: 1, timeoutSeconds: 60 })));
    runs.forEach((r, i) => {
      expect(r.note).toMatch(/^1 error/);
      expect({ states: r.states, transitions: r.transitions }).toEqual(EXPECTED[[4, 6][i]]);
    });
  }, 60_000);
});
