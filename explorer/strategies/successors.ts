// All successors of one expanded state, kept (event, fingerprint, packed words copied) for strategies
// that choose among them after seeing them all: random walks pick one, the preemption-bounded search
// needs to know whether the thread that ran last is among them before it can price each switch.
import type { Visit } from '../space/index.ts';

export class Successors {
  readonly events: number[] = [];
  private readonly fps: number[] = [];
  private readonly starts: number[] = [0];
  private words = new Int32Array(1 << 12);

  /** Pass to space.expand after clear(): records each successor. */
  readonly visit: Visit = (e, w, len, hi, lo) => {
    const used = this.starts[this.starts.length - 1];
    if (used + len > this.words.length) {
      const grown = new Int32Array(Math.max(this.words.length * 2, used + len));
      grown.set(this.words.subarray(0, used));
      this.words = grown;
    }
    this.words.set(w.subarray(0, len), used);
    this.events.push(e);
    this.fps.push(hi, lo);
    this.starts.push(used + len);
    return false;
  };

  clear(): void {
    this.events.length = 0;
    this.fps.length = 0;
    this.starts.length = 1;
  }

  get count(): number {
    return this.events.length;
  }

  /** The k-th successor's words: a view, valid until the next clear() and expand. */
  wordsOf(k: number): Int32Array {
    return this.words.subarray(this.starts[k], this.starts[k + 1]);
  }

  hi(k: number): number {
    return this.fps[2 * k];
  }

  lo(k: number): number {
    return this.fps[2 * k + 1];
  }
}
