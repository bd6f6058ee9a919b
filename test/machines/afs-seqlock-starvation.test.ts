// Verdicts of afs-seqlock-starvation (1702e0654ca9): with seq = 0 read_seqbegin_or_lock() never takes
// net->fs_lock and an endless writer starves afs_find_server_by_uuid() in its retry loop; with seq = 1; seq++
// the retry is a locking reader on the queued spinlock and returns; on the owner-only spinlock the writer
// barges in front of it (the control for machines/kernel qspinlock).
import { describe, expect, it } from 'vitest';
import model from '../../machines/afs-seqlock-starvation/index.ts';
import { checkModel, instantiate, type CheckResult } from '../../explorer/index.ts';
import type { Fairness } from '../../explorer/properties/liveness.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { PathWalker } from '../../explorer/space/walk.ts';

const starvation = (variant: string, params: Record<string, number | boolean> = {}, fairness: Fairness = 'weak') =>
  checkModel({ model, variant, params, check: { deadlock: true, invariants: true, starvation: { thread: 'reader', goal: 'found' }, fairness } });

/**
 * The (thread, event) pairs enabled in some state of a lasso's loop and never taken in it, read off the model
 * (every event stepped in every loop state), not off the search's graph: empty for a strongly fair loop.
 */
function untakenInLoop(r: CheckResult): string[] {
  const space = instantiate(model, r.params, r.variant);
  const system = space.system;
  const walker = new PathWalker(space);
  const enabled = new Set<string>();
  const taken = new Set<string>();
  const label = (thread: number, event: number) => `${system.threads[thread].name}:${system.events[event]}`;
  const loopStart = r.trace!.loopStart!;
  r.trace!.steps.forEach((s, i) => {
    if (i + 1 >= loopStart) {
      for (let e = 0; e < system.events.length; e++) space.step(walker, e)?.taken.forEach((tr) => enabled.add(label(tr.thread, e)));
    }
    const e = system.events.indexOf(s.event);
    const moved = walker.advance(e)!;
    if (i + 1 >= loopStart) moved.forEach((tr) => taken.add(label(tr.thread, e)));
  });
  return [...enabled].filter((l) => !taken.has(l));
}
const loopOf = (r: ReturnType<typeof starvation>) => r.trace!.steps.slice(r.trace!.loopStart! - 1).map((s) => s.event);

describe('afs-seqlock-starvation', () => {
  it('even-seq: the reader retries lockless passes forever, each invalidated by a write section during its walk', () => {
    const r = starvation('even-seq');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'reader' });
    const loop = loopOf(r);
    // the reader moves in the loop (not merely blocked): begin, walk, retry
    expect(loop).toEqual(expect.arrayContaining(['reader.read_seqbegin_or_lock', 'reader.rb_walk', 'reader.need_seqretry', 'writer.write_seqlock']));
    expect(loop).not.toContain('reader.read_seqlock_excl');
  });

  it('even-seq against a writer that stops: the reader returns (the starvation needs an endless writer)', () => {
    expect(starvation('even-seq', { writes: 2 }).verdict.status).toBe('pass');
  });

  it('fixed: the second pass takes the queued spinlock, the writer queues behind it: no starvation', () => {
    expect(starvation('fixed').verdict.status).toBe('pass');
    expect(starvation('fixed', { writes: 2 }).verdict.status).toBe('pass');
    // without fairness the writer can simply never let go: starvation, as for any lock
    const none = checkModel({ model, variant: 'fixed', check: { starvation: { thread: 'reader', goal: 'found' }, fairness: 'none' } });
    expect(none.verdict.status).toBe('violation');
  });

  it('fixed on the owner-only spinlock: the reader starves at read_seqlock_excl while the writer re-locks', () => {
    const r = starvation('fixed-barging');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation' });
    expect(r.trace!.final.locations.reader).toBe('read_seqlock_excl');
    expect(loopOf(r).every((e) => e.startsWith('writer.'))).toBe(true);
  });

  it('without the even-read assumption the fixed reader starves in read_seqbegin: weak fairness alone', () => {
    const r = starvation('fixed', { readerSeesEven: false });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation' });
    expect(r.trace!.final.locations.reader).toBe('read_seqbegin_or_lock');
  });

  describe('strong fairness (per thread and event): no assumption needed about the spinning reader', () => {
    it('fixed without the even-read assumption: the reader returns under strong fairness (its read_seqbegin_or_lock is enabled whenever the count is even); weak fairness still starves it', () => {
      const strong = starvation('fixed', { readerSeesEven: false }, 'strong');
      expect(strong.verdict.status).toBe('pass');
      const weak = starvation('fixed', { readerSeesEven: false }, 'weak');
      expect(weak.verdict).toMatchObject({ status: 'violation', kind: 'starvation' });
      expect(strong.stats.states).toBe(weak.stats.states);
      // the weak lasso is not strongly fair: the reader's read_seqbegin_or_lock is enabled in the writer's gap
      expect(untakenInLoop(weak)).toContain('reader:reader.read_seqbegin_or_lock');
    });

    it('even-seq (the bug) still starves under strong fairness, with or without the assumption: the lasso is strongly fair and replays so', () => {
      for (const readerSeesEven of [true, false]) {
        const r = starvation('even-seq', { readerSeesEven }, 'strong');
        expect(r.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'reader' });
        expect(r.verdict.message).toMatch(/under strong fairness \(/);
        expect(untakenInLoop(r)).toEqual([]);
        expect(loopOf(r)).toEqual(expect.arrayContaining(['reader.read_seqbegin_or_lock', 'reader.rb_walk', 'reader.need_seqretry', 'writer.write_seqlock']));
        const rep = replayTrace(instantiate(model, r.params, r.variant), model, r.trace!, {});
        expect(rep).toMatchObject({ status: 'reproduced' });
        expect(rep.reason).toMatch(/strongly fair/);
      }
    });
  });
});

