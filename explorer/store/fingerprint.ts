// 64-bit fingerprints of packed states: two 32-bit murmur-style hashes. Two different states collide
// with probability about n^2 / 2^65 (below 1e-7 for 10^6 states), the same trade SPIN's hash-compact
// and TLC make.

export /** Two independent 32-bit hashes of an int32 sequence (murmur3-style mixing with two seeds). */
function fingerprint(words: Int32Array, out: Uint32Array, length = words.length): void {
  let h1 = 0x9747b28c | 0;
  let h2 = 0x2545f491 | 0;
  for (let i = 0; i < length; i++) {
    let k = words[i];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let j = words[i] ^ 0x5bd1e995;
    j = Math.imul(j, 0x85ebca6b);
    j = (j << 13) | (j >>> 19);
    h2 = Math.imul(h2 ^ j, 0xc2b2ae35);
    h2 = (h2 + (h1 >>> 7)) | 0;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= length * 31;
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0x2c1b3c6d);
  h2 ^= h2 >>> 12;
  h2 = Math.imul(h2, 0x297a2d39);
  h2 ^= h2 >>> 15;
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}
