// docs/kernel-primitives.md documents every helper machines/kernel exports (computed from the code, so a new
// helper fails this test until the reference lists it: npm run docs:kernel, or add it by hand).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kernel from '../../machines/kernel/index.ts';

describe('docs/kernel-primitives.md', () => {
  const doc = readFileSync('docs/kernel-primitives.md', 'utf8');

  it('names every export of machines/kernel', () => {
    const names = Object.keys(kernel).sort();
    expect(names.length).toBeGreaterThan(100);
    const missing = names.filter((n) => !doc.includes(`\`${n}\``));
    expect(missing, 'run npm run docs:kernel (or add them by hand)').toEqual([]);
  });

  it('explains the parts users had to guess: extra actions on a helper step, waits, threads, watch', () => {
    for (const heading of ['Adding your own action to a helper', '`waits(context, params)`', '`threads`', '`watch`']) expect(doc).toContain(heading);
  });
});
