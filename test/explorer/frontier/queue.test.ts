// The delta-packed FIFO queue (explorer/frontier/queue.ts): pops exactly what was pushed, in order, whatever
// the words (negative, full 32-bit, lengths changing), the ids and depths (gaps, going back); and a frontier of
// sibling states costs a few bytes per state, freed as it is read.
import { describe, expect, it } from 'vitest';
import { FifoQueue } from '../../../explorer/frontier/queue.ts';
import { rng } from '../../helpers/rng.ts';


describe('FifoQueue', () => {
  it('pops every record as pushed, interleaved with pushes, across chunks and length changes', () => {
    const r = rng(7);
    const q = new FifoQueue();
    const expected: Array<{ id: number; depth: number; words: number[] }> = [];
    const popped: Array<{ id: number; depth: number; words: number[] } | null> = [];
    const sizes: number[] = [];
    let head = 0;
    let words = [0, 0, 0, 0, 0, 0];
    const special = [0, -1, 1, 0x7fffffff, -0x80000000, 127, 128, 16383, 16384];
    for (let step = 0; step < 60000; step++) {
      if (r() < 0.55) {
        // A record like the last with a few words changed, sometimes a new length, sometimes all new.
        if (r() < 0.05) words = Array.from({ length: 1 + Math.floor(r() * 40) }, () => (r() * 2 ** 32) | 0);
        else {
          if (r() < 0.05) words = words.slice(0, Math.max(1, Math.floor(r() * 40))).concat(Array(Math.floor(r() * 4)).fill(3));
          words = [...words];
          for (let k = Math.floor(r() * 4); k > 0; k--) {
            const i = Math.floor(r() * words.length);
            words[i] = r() < 0.3 ? special[Math.floor(r() * special.length)] : (r() * 2 ** 32) | 0;
          }
        }
        const id = r() < 0.9 ? step : Math.floor(r() * 2 ** 31);
        const depth = Math.floor(r() * 1000);
        // Pushed from a longer buffer: only the first `length` words count.
        const buf = Int32Array.from([...words, 99, 98]);
        q.push(id, depth, buf, words.length);
        expected.push({ id, depth, words: [...Int32Array.from(words)] });
      } else {
        const e = q.pop();
        popped.push(e && { id: e.id, depth: e.depth, words: [...e.words] });
        if (head < expected.length) head++;
      }
      sizes.push(q.size - (expected.length - head));
    }
    for (let e = q.pop(); e; e = q.pop()) popped.push({ id: e.id, depth: e.depth, words: [...e.words] });
    expect(sizes.every((d) => d === 0)).toBe(true);
    expect(popped.filter((e) => e !== null)).toEqual(expected);
    expect(q.pop()).toBeNull();
  });

  it('pops long records whose changed words lie far apart (gaps past a one-byte token) and whose ids repeat or go back', () => {
    const r = rng(11);
    const q = new FifoQueue();
    const words = new Int32Array(700);
    const expected: number[][] = [];
    for (let n = 0; n < 400; n++) {
      const length = n % 50 === 0 ? 1 + Math.floor(r() * 700) : 700;
      for (let k = 0; k < 3; k++) words[Math.floor(r() * length)] ^= r() < 0.5 ? 1 + Math.floor(r() * 127) : (r() * 2 ** 32) | 0;
      const id = n % 7 === 0 ? n - 3 : n;
      q.push(id, n >> 5, words, length);
      expected.push([id, n >> 5, ...words.subarray(0, length)]);
    }
    const popped: number[][] = [];
    for (let e = q.pop(); e; e = q.pop()) popped.push([e.id, e.depth, ...e.words]);
    expect(popped).toEqual(expected);
  });

  it('a frontier of siblings (ids in order, a few words changed) costs a few bytes per state, and its chunks are freed as they are read', () => {
    const q = new FifoQueue();
    const W = 12;
    const words = new Int32Array(W);
    const n = 200000;
    for (let id = 0; id < n; id++) {
      words[id % W] = id;
      words[(id * 7) % W] ^= 0x100;
      q.push(id, 1 + (id >> 16), words);
    }
    // Unpacked: (3 + 12) * 4 = 60 bytes per state.
    const perState = q.arenaBytes / n;
    expect(perState).toBeLessThan(12);
    let inOrder = true;
    for (let id = 0; id < n - 10; id++) inOrder &&= q.pop()!.id === id;
    expect(inOrder).toBe(true);
    expect(q.arenaBytes).toBeLessThanOrEqual(2 * (1 << 20));
    expect(q.peakArenaBytes / n).toBeLessThan(12);
  });

  it('siblings that grew or shrank a value cost bytes for the words before it, not for the moved words after it', () => {
    // A state of 300 words; each successor inserts or removes 1-3 words at a random place (a list pushed to, a
    // null made a record) and changes a word before it, as a step that moves words does. Pushed in turn, each
    // differs from the one before it in every word after the place: about 2 bytes a word as tokens.
    const r = rng(5);
    const base = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? 4 : (r() * 50) | 0));
    const q = new FifoQueue();
    const expected: number[][] = [];
    const n = 20000;
    for (let id = 0; id < n; id++) {
      const words = [...base];
      const at = Math.floor(r() * 250);
      const k = 1 + Math.floor(r() * 3);
      if (r() < 0.5) words.splice(at, 0, ...Array.from({ length: k }, () => (r() * 2 ** 32) | 0));
      else words.splice(at, k);
      words[Math.floor(r() * at)] ^= 1 + Math.floor(r() * 100);
      q.push(id, 3, Int32Array.from(words));
      if (id < 2000) expected.push(words);
    }
    // About 2 + (bytes for the words between the first change and the place) per state: at most ~1.3 KB as
    // tokens for the moved words.
    expect(q.peakArenaBytes / n).toBeLessThan(150);
    const popped: number[][] = [];
    for (let e = q.pop(); e; e = q.pop()) if (popped.length < 2000) popped.push([...e.words]);
    expect(popped).toEqual(expected);
  });

  it('save() gives the waiting records unpacked and leaves the queue as it was; restore() gives a queue that pops the same', () => {
    const q = new FifoQueue();
    const words = new Int32Array([5, -1, 0x7fffffff, 9]);
    for (let id = 0; id < 5000; id++) {
      words[id % 4] = id * 31;
      q.push(id, id >> 8, words, 1 + (id % 4));
    }
    for (let n = 0; n < 1234; n++) q.pop();
    const { records, count } = q.save();
    expect(count).toBe(5000 - 1234);
    const drain = (f: FifoQueue) => {
      const out: number[] = [];
      for (let e = f.pop(); e; e = f.pop()) out.push(e.id, e.depth, e.words.length, ...e.words);
      return out;
    };
    expect([...records]).toEqual(drain(FifoQueue.restore(records, count)));
    expect(drain(q)).toEqual([...records]);
  });
});
