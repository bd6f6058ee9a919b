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

/** The offset of position i in lane A: (i + 1) * STEP_A. */
const STEP_A = 0x9e3779b1 | 0;
const STEP_B = 0x632be5ab | 0;

/** Lane A's mix of word k at position i. */
export function mixA(k: number, i: number): number {
  let x = k ^ Math.imul(i + 1, STEP_A);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Lane B's mix of word k at position i. */
export function mixB(k: number, i: number): number {
  let x = (k + Math.imul(i + 1, STEP_B)) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
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
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < length; i++) {
    const k = words[i];
    sa = (sa + mixA(k, i)) | 0;
    sb = (sb + mixB(k, i)) | 0;
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
