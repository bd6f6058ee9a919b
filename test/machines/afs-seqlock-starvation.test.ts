// Verdicts of afs-seqlock-starvation (1702e0654ca9): with seq = 0 read_seqbegin_or_lock() never takes
// net->fs_lock and an endless writer starves afs_find_server_by_uuid() in its retry loop; with seq = 1; seq++
// the retry is a locking reader on the queued spinlock and returns; on the owner-only spinlock the writer
// barges in front of it (the control for machines/kernel qspinlock).
import { describe, expect, it } from 'vitest';
import model from '../../machines/afs-seqlock-starvation/index.ts';
import { checkModel } from '../../explorer/index.ts';

const starvation = (variant: string, params: Record<string, number | boolean> = {}) =>
  checkModel({ model, variant, params, check: { deadlock: true, invariants: true, starvation: { thread: 'reader', goal: 'found' }, fairness: 'weak' } });
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
});
