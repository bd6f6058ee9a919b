// The fingerprint function (explorer/store/fingerprint.ts): its values are pinned (stored fingerprints, checkpoints
// and the distributed search's partitioning depend on them), and the sums over a range of words made with stepped
// position offsets (mixSums) are the sums of mixA and mixB word by word.
import { describe, expect, it } from 'vitest';
import { fingerprint, mixA, mixB, mixSums } from '../../../explorer/store/fingerprint.ts';
import { rng } from '../../helpers/rng.ts';

describe('fingerprint', () => {
  it('keeps its values', () => {
    const cases: Array<[number[], [number, number]]> = [
      [[], [0, 0]],
      [[0], [4276565907, 2529723995]],
      [[1, 2, 3], [2803967006, 2152240457]],
      [[-1, 0x7fffffff, -0x80000000, 12345], [2762012577, 2983193464]],
      [Array.from({ length: 300 }, (_, i) => Math.imul(i, 0x9e3779b1) ^ (i << 7)), [3982717857, 2859106750]],
    ];
    for (const [words, want] of cases) {
      const out = new Uint32Array(2);
      fingerprint(Int32Array.from(words), out);
      expect({ words: words.length, fp: Array.from(out) }).toEqual({ words: words.length, fp: want });
    }
  });

  it('mixSums over any range is the sum of mixA and mixB at each position', () => {
    const next = rng(20);
    const words = Int32Array.from({ length: 4096 }, () => (next() * 2 ** 32) | 0);
    const sums = new Int32Array(2);
    for (let t = 0; t < 300; t++) {
      const from = Math.floor(next() * 4096);
      const to = from + Math.floor(next() * (4096 - from + 1));
      let a = 0;
      let b = 0;
      for (let i = from; i < to; i++) {
        a = (a + mixA(words[i], i)) | 0;
        b = (b + mixB(words[i], i)) | 0;
      }
      mixSums(words, from, to, sums);
      expect({ from, to, sums: Array.from(sums) }).toEqual({ from, to, sums: [a, b] });
    }
  });
});
