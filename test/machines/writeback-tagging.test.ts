// Verdicts of writeback-tagging (f446daaea9d4): write_cache_pages() for fsync looked up DIRTY pages to the end of the
// range, so a process appending to the file kept it from returning, under any fairness (which page the lookup finds
// is data, not scheduling); TOWRITE tagging bounds fsync to the pages dirty at the call, with no fairness at all.
// Against a process rewriting a page fsync must lock, the fix still needs the page lock to make progress: weak
// fairness with the v6.6 folio lock (bounded stealing, handoff), strong fairness with an unqueued (barging) lock.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import model from '../../machines/writeback-tagging/index.ts';
import { checkModel, instantiate, resolveParams } from '../../explorer/index.ts';
import type { Fairness } from '../../explorer/properties/liveness.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { explore, where } from './kernel/harness.ts';

const run = (variant: string, params: Record<string, number | boolean | string> = {}, fairness: Fairness = 'weak') =>
  checkModel({ model, variant, params, check: { deadlock: true, assertions: true, starvation: { thread: 'fsync', goal: 'done' }, fairness } });
const loopOf = (r: ReturnType<typeof run>) => r.trace!.steps.slice(r.trace!.loopStart! - 1).map((s) => s.event);

describe('writeback-tagging', () => {
  it('dirty-tag: fsync writes a page, the writer appends one, forever: starvation under weak and strong fairness', () => {
    for (const fairness of ['weak', 'strong'] as const) {
      const r = run('dirty-tag', {}, fairness);
      expect(r.verdict, fairness).toMatchObject({ status: 'violation', kind: 'starvation', name: 'fsync' });
      expect(loopOf(r)).toEqual(expect.arrayContaining(['fsync.pagevec_lookup_tag', 'fsync.writepage', 'writer.write_end']));
    }
  });

  it('dirty-tag against a writer that stops: fsync returns, and writes every page dirty at the call', () => {
    expect(run('dirty-tag', { appends: 3 }).verdict).toEqual({ status: 'pass' });
  });

  it('fixed: fsync returns under no fairness at all (bounded by the tagged pages), and the assertion is met with appended pages left dirty', () => {
    for (const fairness of ['none', 'weak', 'strong'] as const) expect(run('fixed', {}, fairness).verdict, fairness).toEqual({ status: 'pass' });
    const all = explore(model.create({ params: { dirty: 1, limit: 2, appends: -1, rewrite: false, pageLock: 'folio' }, variant: 'fixed' }) as any).all;
    expect(all.some((s) => where(s).fsync === 'done' && s.context.owed === 0 && s.context.ahead > 0)).toBe(true);
  });

  it('fixed with a page-0 rewriter: weak fairness suffices on the folio lock; on an unqueued lock fsync starves in lock_page under weak fairness and not under strong', () => {
    expect(run('fixed', { rewrite: true, pageLock: 'folio' }, 'weak').verdict).toEqual({ status: 'pass' });
    expect(run('fixed', { rewrite: true, pageLock: 'folio' }, 'none').verdict).toMatchObject({ status: 'violation', kind: 'starvation' });
    const weak = run('fixed', { rewrite: true, pageLock: 'unqueued' }, 'weak');
    expect(weak.verdict).toMatchObject({ status: 'violation', kind: 'starvation', name: 'fsync' });
    expect(weak.trace!.final.locations.fsync).toBe('lock_page');
    expect(loopOf(weak).every((e) => e.startsWith('rewriter.'))).toBe(true);
    expect(run('fixed', { rewrite: true, pageLock: 'unqueued' }, 'strong').verdict).toEqual({ status: 'pass' });
    // the bug does not depend on the lock: dirty-tag with the rewriter still starves under strong fairness
    expect(run('dirty-tag', { rewrite: true, pageLock: 'folio' }, 'strong').verdict).toMatchObject({ status: 'violation', kind: 'starvation' });
  });

  it('the saved counterexamples replay; the dirty-tag lasso diverges on fixed at step 1 (tag_pages_for_writeback comes first)', () => {
    for (const name of ['writeback-tagging-dirty-tag', 'writeback-tagging-dirty-tag-strong', 'writeback-tagging-fixed-rewrite-barging']) {
      const trace = JSON.parse(readFileSync(new URL(`../../counterexamples/${name}.json`, import.meta.url), 'utf8'));
      const params = resolveParams(model, trace.params);
      expect(replayTrace(instantiate(model, params, trace.variant), model, trace, {}), name).toMatchObject({ status: 'reproduced' });
      if (name === 'writeback-tagging-dirty-tag') {
        expect(replayTrace(instantiate(model, params, 'fixed'), model, trace, {}, { strictLocations: false })).toMatchObject({ status: 'diverged', step: 1 });
      }
    }
  });
});
