// 64-bit fingerprints of packed states: two independent 32-bit lanes. Two different states collide
// with probability about n^2 / 2^65 (below 1e-7 for 10^6 states), the same trade SPIN's hash-compact
// and TLC make.
//
// Each lane is a SUM over positions of a mix of (position, word), finished by a mix with the length:
// lane = fin(sum_i mix(i, words[i]), length). The sum makes the fingerprint incremental: a successor
// that differs from the state being expanded in a few words is fingerprinted from the expanded state's
// sums in the time of those words (explorer/compile/lower/step.ts), not of the whole state. Each mix is
// a bijection of the word for a fixed position (murmur3's and lowbias32's finalisers over the word
// offset by a multiple of the position), so two states that differ in one word never collide, and the
// lanes use different constants so that they fail independently.

/** The offset of position i in lane A: (i + 1) * STEP_A (and in lane B with STEP_B), as int32. */
export const STEP_A = 0x9e3779b1 | 0;
export const STEP_B = 0x632be5ab | 0;

/** Lane A's mix of word k at the position whose offset is o (mixA(k, i) is mixOffA(k, Math.imul(i + 1, STEP_A))). */
export function mixOffA(k: number, o: number): number {
  let x = k ^ o;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Lane B's mix of word k at the position whose offset is o (mixB(k, i) is mixOffB(k, Math.imul(i + 1, STEP_B))). */
export function mixOffB(k: number, o: number): number {
  let x = (k + o) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

/** Lane A's mix of word k at position i. */
export function mixA(k: number, i: number): number {
  return mixOffA(k, Math.imul(i + 1, STEP_A));
}

/** Lane B's mix of word k at position i. */
export function mixB(k: number, i: number): number {
  return mixOffB(k, Math.imul(i + 1, STEP_B));
}

/** The fingerprint from the two lanes' sums and the length (an unsigned 32-bit half per lane). */
export function finishFingerprint(sumA: number, sumB: number, length: number, out: Uint32Array): void {
  let a = sumA ^ Math.imul(length, 0x27d4eb2d);
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  let b = (sumB + Math.imul(length, 0x165667b1)) | 0;
  b ^= b >>> 16;
  b = Math.imul(b, 0x7feb352d);
  b ^= b >>> 15;
  b = Math.imul(b, 0x846ca68b);
  b ^= b >>> 16;
  out[0] = a >>> 0;
  out[1] = b >>> 0;
}

/** The two lanes' sums over the first `length` words, into sums[0] and sums[1] (as int32). */
export function fingerprintSums(words: Int32Array, length: number, sums: Int32Array): void {
  mixSums(words, 0, length, sums);
}

/**
 * The two lanes' sums of the mixes of words[from..to) at their positions, into sums[0] and sums[1] (as int32).
 * The positions' offsets are stepped by one addition per word (not a multiplication each, as mixA and mixB
 * make them): the same sums, in about half the time.
 */
export function mixSums(words: Int32Array, from: number, to: number, sums: Int32Array): void {
  let sa = 0;
  let sb = 0;
  let oa = Math.imul(from + 1, STEP_A);
  let ob = Math.imul(from + 1, STEP_B);
  for (let i = from; i < to; i++) {
    const k = words[i];
    sa = (sa + mixOffA(k, oa)) | 0;
    sb = (sb + mixOffB(k, ob)) | 0;
    oa = (oa + STEP_A) | 0;
    ob = (ob + STEP_B) | 0;
  }
  sums[0] = sa;
  sums[1] = sb;
}

const scratch = new Int32Array(2);

export /** The fingerprint of the first `length` words into out[0] (lane A) and out[1] (lane B). */
function fingerprint(words: Int32Array, out: Uint32Array, length = words.length): void {
  fingerprintSums(words, length, scratch);
  finishFingerprint(scratch[0], scratch[1], length, out);
}
