// mm/page-writeback.c: write_cache_pages() for data integrity (fsync, sync: WB_SYNC_ALL, no nr_to_write bound)
// looked up the pages to write by the DIRTY tag, from its cursor to the end of the range. A process that keeps
// appending to the file keeps making dirty pages ahead of the cursor, so the fsync never reaches the end of its
// range: a livelock ("We try to avoid livelocks of writeback when some steadily creates dirty pages in a mapping
// we are writing out. For memory-cleaning writeback, using nr_to_write works reasonably well but we cannot really
// use it for data integrity writeback").
//
// Source: commit f446daaea9d4 "mm: implement writeback livelock avoidance using page tagging" (Jan Kara, v2.6.35):
// "Tag all pages that should be written back with a special tag (TOWRITE) in the radix tree. This can be done
// rather quickly and thus livelocks should not happen in practice. Then we start doing the hard work of locking
// pages and sending them to disk only for those pages that have TOWRITE tag set." (Follow-ups: 6e6938b6d313 for the
// WB_SYNC_NONE stage of sync(2), 5b41d92437f1 for ext4's own copy of the loop.)
//
// Kernel code mirrored:
//   fsync: write_cache_pages (mm/page-writeback.c, v2.6.34 / v2.6.35), range 0..LLONG_MAX, WB_SYNC_ALL:
//     before: while (!done && index <= end) { nr_pages = pagevec_lookup_tag(&pvec, mapping, &index,
//               PAGECACHE_TAG_DIRTY, ...); if (nr_pages == 0) break; for each page { lock_page; ...;
//               clear_page_dirty_for_io; (*writepage)(page, wbc, data) } }
//     after:  tag = PAGECACHE_TAG_TOWRITE; tag_pages_for_writeback(mapping, index, end) (DIRTY -> also TOWRITE,
//               for the pages dirty now); the same loop looks up TOWRITE; set_page_writeback clears TOWRITE.
//   writer: a process appending to the file: generic_perform_write -> write_end -> __set_page_dirty (the DIRTY tag,
//     not TOWRITE) at an index past every page written so far; balance_dirty_pages_ratelimited throttles it while
//     the file has `limit` dirty pages (the model's dirty limit, param).
// Abstraction: pages are counted, not indexed. `ahead` is the number of dirty pages at or past the cursor (the
// appended pages are always past it); `towrite` the number of them tagged TOWRITE (fixed); one writepage step
// writes the lowest one (lock_page, clear_page_dirty_for_io, writepage, unlock as one step: nobody else locks
// these pages here). `owed` counts the pages dirty when fsync was called and not yet written: fsync's promise.
// Starvation goal: fsync at `done` (write_cache_pages returned). The writer stops once fsync returned (so a
// throttled writer does not wait for a flusher the model has not got).
// Not modelled: the WB_SYNC_ALL wait_on_page_writeback and the waits for I/O, range_cyclic, pagevec batching
// (PAGEVEC_SIZE pages per lookup), truncation, the flusher threads, redirtying of written pages (the ext4 follow-up's
// dd conv=notrunc loop).
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import { folio, folio_lock, folio_lock_unqueued, folio_unlock, kernelActions, kernelGuards, kernelWaits, oneEvent } from '../kernel/index.ts';

const PAGE0 = 'page0';
const PAGE0_NAME = 'page 0';

export default defineModel({
  name: 'writeback-tagging',
  description:
    'mm: write_cache_pages() for fsync looked up DIRTY pages up to the end of the range: a process appending to the file keeps fsync from returning (livelock); TOWRITE tagging bounds it (f446daaea9d4)',
  source:
    'commit f446daaea9d4 (mm: implement writeback livelock avoidance using page tagging, v2.6.35); mm/page-writeback.c write_cache_pages, tag_pages_for_writeback; balance_dirty_pages_ratelimited',
  params: {
    dirty: { default: 1, min: 0, max: 3, description: 'pages dirty when fsync is called' },
    limit: { default: 2, min: 1, max: 3, description: "the writer's dirty limit: balance_dirty_pages throttles it at this many dirty pages" },
    appends: { default: -1, min: -1, max: 3, description: 'pages the writer appends; -1: forever' },
    rewrite: { default: false, description: 'a second process rewrites page 0 (dirty at the call) in a loop: lock_page, copy, set_page_dirty, unlock_page' },
    pageLock: {
      default: 'folio',
      choices: ['folio', 'unqueued'],
      description: "the page lock: folio (v6.6 folio_lock: FIFO wait queue, bounded stealing, then handoff) or unqueued (2.6.35's __lock_page: a woken waiter retries test_and_set_bit and can lose to a new locker, unboundedly)",
    },
  },
  variants: {
    'dirty-tag': { description: 'before f446daaea9d4: WB_SYNC_ALL looks up PAGECACHE_TAG_DIRTY to the end of the range' },
    fixed: { description: 'f446daaea9d4: tag_pages_for_writeback() first, then look up PAGECACHE_TAG_TOWRITE only' },
  },
  defaultVariant: 'dirty-tag',
  create({ params, variant }) {
    const fixed = variant === 'fixed';
    const rewrite = params.rewrite === true;
    const dirty = params.dirty as number;
    const limit = params.limit as number;
    // lock_page(page 0) by thread t, then `next`
    const pageLock = (t: string, next: string): any[] =>
      params.pageLock === 'unqueued' ? [{ ...folio_lock_unqueued(PAGE0, t, PAGE0_NAME), target: next }] : folio_lock(PAGE0, t, next, PAGE0_NAME);
    const f = 'fsync';
    const fsync = {
      initial: fixed ? 'tag' : 'lookup',
      states: {
        // fixed: tag_pages_for_writeback(mapping, index, end): every DIRTY page in the range gets TOWRITE
        ...(fixed ? { tag: oneEvent(f, 'tag_pages_for_writeback', { actions: [{ type: 'tag_towrite' }], target: 'lookup' }) } : {}),
        // nr_pages = pagevec_lookup_tag(&pvec, mapping, &index, tag, ...); if (nr_pages == 0) break;
        // (with the rewriter: the first page found is page 0, which fsync must lock_page against it)
        lookup: {
          on: {
            [`${f}.pagevec_lookup_tag`]: [
              ...(rewrite ? [{ guard: { type: fixed ? 'has_towrite_page0' : 'has_dirty_page0' }, target: 'lock_page' }] : []),
              { guard: { type: fixed ? 'has_towrite' : 'has_dirty_ahead' }, target: 'writepage' },
              { target: 'done', actions: [{ type: 'mark_fsync_done' }] },
            ],
          },
        },
        ...(rewrite
          ? {
              // lock_page(page) on page 0, which the rewriter locks in a loop
              lock_page: { on: { [`${f}.lock_page`]: pageLock(f, 'writepage0') } },
              // clear_page_dirty_for_io; (*writepage)(); unlock_page(page 0)
              writepage0: oneEvent(f, 'writepage', {
                actions: [{ type: 'write_one' }, ...folio_unlock(PAGE0, f, PAGE0_NAME).actions!],
                target: 'lookup',
                meta: { progress: true },
              }),
            }
          : {}),
        // lock_page; clear_page_dirty_for_io; (*writepage)() (set_page_writeback clears TOWRITE); unlock_page, as
        // one step: nobody else locks these pages
        writepage: oneEvent(f, 'writepage', { actions: [{ type: 'write_one' }], target: 'lookup', meta: { progress: true } }),
        // write_cache_pages returned: fsync goes on to wait for the I/O and the metadata
        done: { type: 'final' as const, meta: { assert: 'synced_dirty_at_call', progress: true } },
      },
    };
    const r = 'rewriter';
    const rewriter = {
      initial: 'lock_page',
      states: {
        // generic_perform_write -> write_begin: grab_cache_page_write_begin -> lock_page(page 0)
        lock_page: { on: { [`${r}.lock_page`]: pageLock(r, 'copy') } },
        // copy into the page; write_end: set_page_dirty (page 0 is DIRTY, and TOWRITE if fsync tagged it); unlock_page
        copy: oneEvent(r, 'write_end', { ...folio_unlock(PAGE0, r, PAGE0_NAME), target: 'next' }),
        // the next write(2) of the loop, unless fsync returned
        next: {
          on: { [`${r}.write`]: [{ guard: { type: 'fsync_returned' }, target: 'done' }, { target: 'lock_page' }] },
        },
        done: { type: 'final' as const },
      },
    };
    const w = 'writer';
    const writer = {
      initial: 'append',
      states: {
        append: {
          on: {
            [`${w}.write_end`]: [
              // fsync returned: the writer's part of the scenario is over
              { guard: { type: 'fsync_returned' }, target: 'done' },
              { guard: { type: 'appends_done' }, target: 'done' },
              // balance_dirty_pages_ratelimited lets it dirty one more page: __set_page_dirty (DIRTY tag only)
              { guard: { type: 'below_dirty_limit' }, actions: [{ type: 'append_page' }] },
            ],
          },
        },
        done: { type: 'final' as const },
      },
    };
    return setup({
      guards: {
        ...kernelGuards,
        has_dirty_ahead: ({ context }: any) => context.ahead > 0,
        has_towrite: ({ context }: any) => context.towrite > 0,
        // the lowest page to write is page 0 (dirty at the call, not yet written): owed is all of `dirty`
        has_dirty_page0: ({ context }: any) => context.ahead > 0 && dirty > 0 && context.owed === dirty,
        has_towrite_page0: ({ context }: any) => context.towrite > 0 && dirty > 0 && context.owed === dirty,
        fsync_returned: ({ context }: any) => context.fsync_done,
        appends_done: ({ context }: any) => context.appends_left === 0,
        below_dirty_limit: ({ context }: any) => context.ahead < limit,
      } as any,
      actions: {
        ...kernelActions,
        tag_towrite: assign({ towrite: ({ context }: any) => context.ahead }),
        write_one: assign(({ context }: any) => ({
          ahead: context.ahead - 1,
          towrite: Math.max(0, context.towrite - 1),
          owed: Math.max(0, context.owed - 1),
        })),
        mark_fsync_done: assign({ fsync_done: () => true }),
        append_page: assign(({ context }: any) => ({
          ahead: context.ahead + 1,
          appends_left: context.appends_left > 0 ? context.appends_left - 1 : context.appends_left,
        })),
      } as any,
    }).createMachine({
      id: 'writeback-tagging',
      type: 'parallel',
      // ahead: dirty pages at or past fsync's cursor; towrite: those tagged TOWRITE; owed: pages dirty at the call
      // not yet written (the lowest ones); fsync_done: write_cache_pages returned
      context: {
        ahead: dirty,
        towrite: 0,
        owed: dirty,
        appends_left: params.appends,
        fsync_done: false,
        ...(rewrite ? { [PAGE0]: folio() } : {}),
      },
      states: { fsync, writer, ...(rewrite ? { rewriter } : {}) } as any,
    });
  },
  assertions: {
    // fsync's promise: every page dirty when it was called has been written when write_cache_pages returns
    synced_dirty_at_call: (ctx: Context) => ctx.owed === 0,
  },
  footprints: {
    has_dirty_ahead: { reads: ['ahead'] },
    has_towrite: { reads: ['towrite'] },
    has_dirty_page0: { reads: ['ahead', 'owed'] },
    has_towrite_page0: { reads: ['towrite', 'owed'] },
    fsync_returned: { reads: ['fsync_done'] },
    appends_done: { reads: ['appends_left'] },
    below_dirty_limit: { reads: ['ahead'] },
    tag_towrite: { reads: ['ahead'], writes: ['towrite'] },
    write_one: { reads: ['ahead', 'towrite', 'owed'], writes: ['ahead', 'towrite', 'owed'] },
    append_page: { reads: ['ahead', 'appends_left'], writes: ['ahead', 'appends_left'] },
    mark_fsync_done: { writes: ['fsync_done'] },
  },
  propertyFootprints: { synced_dirty_at_call: { context: ['owed'] } },
  waits: kernelWaits,
});
