// `show --width` on a lock-order counterexample whose cycle has three locks: the lockdep scenario's columns
// narrow to the width (one column per CPU, each call under its CPU), and a table that cannot fit is left whole
// rather than wrapped into pieces. Before, its CPU and dash lines wrapped and the rows ran past the width.
import { describe, expect, it } from 'vitest';
import { renderTrace } from '../../cli/show.ts';
import { checkModel } from '../../explorer/index.ts';
import model from '../fixtures/models/three-lock-cycle.ts';

const trace = checkModel({ model, check: { lockOrder: true } }).trace!;

/** The scenario's table: from the CPU line to the last row, as [column, text] cells per line. */
function scenario(text: string): string[] {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => /^ +CPU0/.test(l));
  const to = lines.findIndex((l, i) => i > from && l.includes('*** DEADLOCK ***'));
  return lines.slice(from, to).filter((l) => l.trim() !== '');
}

describe('show: a three-lock lock-order cycle', () => {
  it('the fixture is one: A -> B -> C -> A', () => {
    expect(trace.violation).toMatchObject({ kind: 'lock-order', name: 'A -> B -> C -> A' });
  });

  for (const width of [40, 34]) {
    it(`--width ${width}: the scenario fits, its CPU and dash lines whole, each call under its CPU`, () => {
      const table = scenario(renderTrace(trace, { width }));
      expect(Math.max(...table.map((l) => l.length))).toBeLessThanOrEqual(width);
      const cpus = ['CPU0', 'CPU1', 'CPU2'].map((c) => table[0].indexOf(c));
      expect(cpus.every((x) => x >= 0)).toBe(true);
      expect(table[1].trim().split(/ +/)).toEqual(['----', '----', '----']);
      const rows = table.slice(2);
      expect(rows).toHaveLength(6);
      // lockdep's order: each CPU's held lock, then each CPU's attempt, last CPU first.
      const cells = rows.map((l) => [cpus.indexOf(l.search(/\S/)), l.trim()]);
      expect(cells).toEqual([
        [0, 'lock(A);'],
        [1, 'lock(B);'],
        [2, 'lock(C);'],
        [2, 'lock(A);'],
        [1, 'lock(C);'],
        [0, 'lock(B);'],
      ]);
    });
  }

  it('--width 20, narrower than the table can be: the table is kept whole (not wrapped), at its narrowest', () => {
    const table = scenario(renderTrace(trace, { width: 20 }));
    expect(table[0].trim().split(/ +/)).toEqual(['CPU0', 'CPU1', 'CPU2']);
    expect(table[1].trim().split(/ +/)).toEqual(['----', '----', '----']);
    expect(table.slice(2)).toHaveLength(6);
    expect(Math.max(...table.map((l) => l.length))).toBeLessThanOrEqual(2 + 3 * 10);
  });

  it('without a width: lockdep\'s 24-column layout, as before', () => {
    const table = scenario(renderTrace(trace));
    expect(table[0]).toBe('  CPU0                    CPU1                    CPU2');
  });
});
