// A FIFO queue of packed states (breadth-first order: the first violation found has a shortest trace),
// delta-packed into a chunked byte arena: the BFS frontier of a large run holds millions of states.
//
// A record is its difference from the record pushed before it (often a sibling: a successor of the same
// state, equal in all but a few words, and its id one more). A record is a head byte, whose bits say which of
// the id (when it is not the last id plus one), the depth and the length follow as varints, and then one
// token per changed word, ended by a 0 byte. A record of another length may first say how many of the last
// record's last words to move to its own end (a value grew or shrank: the words after it moved); its tokens then
// patch the words that still differ. The changed words of a step sit mostly side by side and differ
// in a few low bits (the leaves and the context's small integers): a word next to the last changed one whose
// XOR with the old word is below 128 is that XOR as one byte; any other word is a byte 0x80 + the gap of
// unchanged words before it (0xff: the gap follows as a varint) and then the XOR as a varint. A queued state
// of W words costs about 2 bytes plus 1 to 2 per changed word, not 12 + 4W. Records are read in the order
// they were written, so the reader rebuilds each one from the one it read before. Chunks are freed as soon as
// they are read: the arena holds the queued bytes plus at most one chunk being filled and one being read,
// with no doubling and no copying.
import type { Frontier, FrontierEntry } from './index.ts';
import { PackedRecords } from './records.ts';
import { viewOf } from '../views.ts';

// A record's head byte: which of the id, the depth and the length differ from the record before.
const NEW_ID = 1;
const NEW_DEPTH = 2;
const NEW_LENGTH = 4;
/**
 * With NEW_LENGTH: the previous record's last words are moved to this record's end before its tokens apply (a
 * value that grew or shrank moved every word after it); how many follows the length as a varint.
 */
const MOVED_TAIL = 8;
/** The fewest moved words for which MOVED_TAIL is written. */
const MIN_TAIL = 4;
/** A gap token at 0x80 + GAP_ESCAPE says the gap follows as a varint. */
const GAP_ESCAPE = 0x7f;

/**
 * The first chunk's size; each new chunk doubles up to MAX_CHUNK (a small search allocates little). Small, so
 * that the first chunks fill within the first pushes: see `chunks`.
 */
const FIRST_CHUNK = 1 << 7;
const MAX_CHUNK = 1 << 20;

export class FifoQueue implements Frontier {
  /** Chunks not yet fully read, oldest first: the reader's chunk is read, the last one filled at `writeAt`. */
  // (The first chunk is empty and the next ones small: the path that makes a chunk runs in the first pushes, before
  // push is optimised (after a dozen or so; V8 keeps no type feedback for the first few). Met first at a later
  // full chunk, it sent the optimised push back to the interpreter mid-search. The reader steps past the empty
  // chunk at the first pop.)
  private chunks: Uint8Array[] = [new Uint8Array(0)];
  /** The length of the record's bytes in each chunk (the rest of a chunk is unused when a record did not fit). */
  private ends: number[] = [0];
  private writeAt = 0;
  private count = 0;
  private bytes = 0;
  private peakBytes = 0;
  // The writer's previous record, and the reader's: equal sequences, so the deltas decode.
  private wWords: Int32Array<ArrayBuffer> = new Int32Array(16);
  private wLen = 0;
  private wId = 0;
  private wDepth = 0;
  private readonly reader: Reader = { chunk: 0, at: 0, words: new Int32Array(16), len: 0, id: 0, depth: 0 };
  private readonly entry: FrontierEntry = { id: 0, depth: 0, words: new Int32Array(0) };
  private readonly views: Int32Array[] = [];

  get size(): number {
    return this.count;
  }

  /** Bytes of the arena's chunks now, and at most so far (for tests and measurements). */
  get arenaBytes(): number {
    return this.bytes;
  }

  get peakArenaBytes(): number {
    return this.peakBytes;
  }

  push(id: number, depth: number, words: Int32Array, length = words.length): void {
    // A record's worst case: a head byte and four 5-byte varints, a token and two varints per word, the end.
    let buf = this.chunks[this.chunks.length - 1];
    if (this.writeAt + 22 + 11 * length > buf.length) buf = this.newChunk(22 + 11 * length);
    let at = this.writeAt + 1;
    let head = 0;
    if (id !== this.wId + 1) {
      head |= NEW_ID;
      at = writeVarint(buf, at, zigzag(id - this.wId));
    }
    if (depth !== this.wDepth) {
      head |= NEW_DEPTH;
      at = writeVarint(buf, at, zigzag(depth - this.wDepth));
    }
    const wLen = this.wLen;
    if (length !== wLen) {
      head |= NEW_LENGTH;
      at = writeVarint(buf, at, length);
      if (this.wWords.length < length) this.wWords = grown(this.wWords, wLen, length);
      // A sibling that grew or shrank a value differs from the record before it in every word after that
      // value, moved, which as tokens cost one or two bytes each. Both sides move the previous record's last
      // words to the new end from a place `split` (moveTail) and the tokens then patch what differs, before it
      // and after: the split is where the fewest words differ, those before it compared in place, those from
      // it on moved by the change of length.
      const tail = length - bestSplit(words, length, this.wWords, wLen);
      if (tail >= MIN_TAIL) {
        head |= MOVED_TAIL;
        at = writeVarint(buf, at, tail);
        moveTail(this.wWords, wLen, length, tail);
      }
    }
    buf[this.writeAt] = head;
    this.wId = id;
    this.wDepth = depth;
    const prev = this.wWords;
    let last = -1;
    for (let i = 0; i < length; i++) {
      // (As int32: the varint writes its 32 bits as unsigned.)
      const x = prev[i] ^ words[i];
      if (x === 0) continue;
      const gap = i - last - 1;
      last = i;
      prev[i] = words[i];
      if (gap === 0 && (x & ~0x7f) === 0) {
        buf[at++] = x;
        continue;
      }
      if (gap < GAP_ESCAPE) buf[at++] = 0x80 + gap;
      else {
        buf[at++] = 0x80 + GAP_ESCAPE;
        at = writeVarint(buf, at, gap);
      }
      at = writeVarint(buf, at, x);
    }
    buf[at++] = 0;
    // Words past this record's length count as 0 for the next one, on both sides.
    if (wLen > length) prev.fill(0, length, wLen);
    this.wLen = length;
    this.ends[this.ends.length - 1] = at;
    this.writeAt = at;
    this.count++;
  }

  /**
   * The waiting states as one record array [id, depth, length, ...words]* (a copy, unpacked: the checkpoint
   * format does not depend on this packing), for a checkpoint. The queue is left as it was.
   */
  save(): { records: Int32Array; count: number } {
    const out = new PackedRecords();
    const r: Reader = { ...this.reader, words: this.reader.words.slice() };
    for (let n = 0; n < this.count; n++) {
      if (r.at >= this.ends[r.chunk]) {
        r.chunk++;
        r.at = 0;
      }
      this.decode(r);
      out.append(r.id, r.depth, r.words, r.len);
    }
    return { records: out.buf.slice(0, out.end), count: this.count };
  }

  /** A queue holding the records save() returned. */
  static restore(records: Int32Array, count: number): FifoQueue {
    const q = new FifoQueue();
    for (let at = 0, n = 0; n < count; n++) {
      const len = records[at + 2];
      q.push(records[at], records[at + 1], records.subarray(at + 3, at + 3 + len), len);
      at += 3 + len;
    }
    return q;
  }

  pop(): FrontierEntry | null {
    if (this.count === 0) return null;
    const r = this.reader;
    if (r.at >= this.ends[r.chunk]) this.nextReadChunk();
    this.decode(r);
    this.count--;
    // The reader's own buffer: valid until the next pop (a push does not touch it).
    this.entry.id = r.id;
    this.entry.depth = r.depth;
    // One view per length of the reader's buffer, kept (no view made per state).
    this.entry.words = viewOf(this.views, r.words, r.len);
    if (this.count === 0) this.reset();
    return this.entry;
  }

  /** Decodes the record at the reader's position into it (the record before it is what it holds), and moves past it. */
  private decode(r: Reader): void {
    const buf = this.chunks[r.chunk];
    const head = buf[r.at++];
    r.id = head & NEW_ID ? r.id + unzigzag(readVarint(buf, r)) : r.id + 1;
    if (head & NEW_DEPTH) r.depth += unzigzag(readVarint(buf, r));
    if (head & NEW_LENGTH) {
      const length = readVarint(buf, r);
      if (r.words.length < length) r.words = grown(r.words, r.len, length);
      if (head & MOVED_TAIL) moveTail(r.words, r.len, length, readVarint(buf, r));
      if (r.len > length) r.words.fill(0, length, r.len);
      r.len = length;
    }
    const words = r.words;
    let i = -1;
    for (;;) {
      const b = buf[r.at++];
      if (b < 0x80) {
        if (b === 0) return;
        words[++i] ^= b;
        continue;
      }
      i += (b === 0x80 + GAP_ESCAPE ? readVarint(buf, r) : b - 0x80) + 1;
      words[i] ^= readVarint(buf, r);
    }
  }

  /** A fresh chunk to write to, big enough for `need` bytes. */
  private newChunk(need: number): Uint8Array {
    const last = this.chunks[this.chunks.length - 1];
    const size = Math.max(need, FIRST_CHUNK, Math.min(MAX_CHUNK, last.length * 2));
    const c = new Uint8Array(size);
    this.chunks.push(c);
    this.ends.push(0);
    this.writeAt = 0;
    this.bytes += size;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    return c;
  }

  /** The reader's chunk is read: drop it (its memory goes back to the heap) and read the next. */
  private nextReadChunk(): void {
    const r = this.reader;
    this.bytes -= this.chunks[r.chunk].length;
    (this.chunks as Array<Uint8Array | null>)[r.chunk] = null;
    r.chunk++;
    r.at = 0;
    if (r.chunk > 64 && r.chunk * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(r.chunk);
      this.ends = this.ends.slice(r.chunk);
      r.chunk = 0;
    }
  }

  /** Empty: keep only the chunk being written, from its start (the deltas' previous records stay as they are). */
  private reset(): void {
    const r = this.reader;
    const last = this.chunks[this.chunks.length - 1];
    for (let c = r.chunk; c < this.chunks.length - 1; c++) this.bytes -= this.chunks[c].length;
    this.chunks = [last];
    this.ends = [0];
    r.chunk = 0;
    r.at = 0;
    this.writeAt = 0;
  }
}

/** Where a reader is (chunk, byte) and the record it read last (the base of the next one's deltas). */
interface Reader {
  chunk: number;
  at: number;
  words: Int32Array<ArrayBuffer>;
  len: number;
  id: number;
  depth: number;
}

// Varints carry 32 bits (the words' XORs, the zigzagged differences of ids and depths, lengths and gaps) and are
// written and read with int32 operations only: a value past the small integers, or a division speculated to stay
// integral ("lost precision"), would send the optimised push and pop back to the interpreter mid-search. Each
// loop runs all of its operations for a one-byte varint too: the first longer one, often met only after push and
// pop were optimised, then takes no path the optimised code has not seen.

/** Reads a varint of `buf` at the reader's byte (its 32 bits, as an int32), and moves past it. */
function readVarint(buf: Uint8Array, r: Reader): number {
  let at = r.at;
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++];
    v |= (b & 0x7f) << shift;
    shift += 7;
    if (b < 0x80) break;
  }
  r.at = at;
  return v;
}

/** An int32 difference as the 32 bits of its zigzag code (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...), and back. */
const zigzag = (n: number) => (n << 1) ^ (n >> 31);
const unzigzag = (z: number) => (z >>> 1) ^ -(z & 1);

/** Writes 32 bits (an int32, read as unsigned) as a little-endian base-128 varint; returns the next offset. */
function writeVarint(buf: Uint8Array, at: number, v: number): number {
  for (;;) {
    const low = v & 0x7f;
    v >>>= 7;
    const more = v !== 0 ? 0x80 : 0;
    buf[at++] = low | more;
    if (more === 0) return at;
  }
}

/**
 * Where to split a record of `length` words against the previous one of `prevLength` (another length) so that
 * the fewest words differ when those before the split are compared in place and those from it on with the
 * previous record's words moved by the change of length; `length` when moving none is as good.
 */
function bestSplit(words: Int32Array, length: number, prev: Int32Array, prevLength: number): number {
  const d = length - prevLength;
  // A word from the split on is compared with prev[i - d]: the split is at d or later when the record grew.
  const lo = d > 0 ? d : 0;
  // Splitting at s costs the in-place differences before s plus the moved ones from s on: the moved ones in
  // all, plus (in place - moved) before s. One pass keeps that running difference and its least value.
  let diff = 0;
  let least = 0;
  let best = lo;
  for (let s = lo; s < length; s++) {
    const k = words[s];
    diff += (k !== prev[s] ? 1 : 0) - (k !== prev[s - d] ? 1 : 0);
    if (diff < least) {
      least = diff;
      best = s + 1;
    }
  }
  // Moving none is the split at the end (its running difference is `diff`).
  return least < diff ? best : length;
}

/**
 * The last `tail` of a record's `from` words moved to end at `to` (the previous record as the next one's base,
 * the same on the writer's side and the reader's). The words before them stay as they were: the tokens patch
 * them. (Room for `to` words is there; the words past `to` are zeroed by the caller.)
 */
function moveTail(words: Int32Array, from: number, to: number, tail: number): void {
  words.copyWithin(to - tail, from - tail, from);
}

function grown(a: Int32Array, used: number, need: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a.subarray(0, used));
  return b;
}
