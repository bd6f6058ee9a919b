// The clock of a search: the timeout bound and the periodic progress report, checked every 1024
// states by every strategy's loop.
import type { Bound, Progress } from '../outcome.ts';
import type { SearchTask } from './index.ts';

/**
 * Milliseconds on a monotonic clock, the same in every thread of the process (a deadline set by the parallel
 * search's coordinator is compared in its workers). process.hrtime, not performance.now(): the global
 * `performance` loads node:perf_hooks at its first use, about 2 ms (5 in a profile) spent inside the first
 * search's time, a tenth of a small spec's search. (performance.now() where there is no process.)
 */
export const monotonicMs: () => number =
  typeof (globalThis as any).process?.hrtime === 'function'
    ? () => {
        const t = process.hrtime();
        return t[0] * 1e3 + t[1] / 1e6;
      }
    : () => performance.now();
const now = monotonicMs;

export class SearchClock {
  readonly start: number;
  private lastProgress = now();
  private readonly timeoutMs: number;
  private readonly progressMs: number;

  /** `earlierSeconds`: time a resumed search spent before (counted against the timeout too). */
  constructor(
    private readonly task: SearchTask,
    earlierSeconds = 0,
  ) {
    this.start = now() - earlierSeconds * 1000;
    this.timeoutMs = task.bounds.timeoutSeconds ? task.bounds.timeoutSeconds * 1000 : Infinity;
    this.progressMs = (task.progressInterval ?? 1) * 1000;
  }

  /**
   * Call once per expanded state with a running count: every 1024th call (and each of the first 1024) reads
   * the time, reports progress when due, and returns the timeout bound once it has passed (else null).
   * (The first ones too, so that this path has run before the search loop is optimised: code compiled while
   * it had never run was thrown away at the 1024th state, and the whole loop compiled again.)
   */
  tick(count: number, progress: () => Omit<Progress, 'seconds'>): Bound | null {
    if ((count & 1023) !== 0 && count > 1024) return null;
    const t = now();
    if (t - this.start > this.timeoutMs) return { name: 'timeout', limit: this.task.bounds.timeoutSeconds ?? 0 };
    if (this.task.onProgress && t - this.lastProgress >= this.progressMs) {
      this.lastProgress = t;
      this.task.onProgress({ ...progress(), seconds: (t - this.start) / 1000 });
    }
    return null;
  }

  /** Seconds since the search started. */
  seconds(): number {
    return (now() - this.start) / 1000;
  }
}
