// Pins btrfs transactions (fs/btrfs/transaction.c, v6.6): the join rules per commit state, wait_current_trans,
// the commit's writer drains, the commit race, and sb_start_intwrite for the freezable join types only.
import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import {
  btrfsCommitTransactionStates, btrfsStartTransactionStates, btrfsTrans, btrfsTransRunning, btrfs_end_transaction,
  BTRFS_TRANS_TYPES, kernelGuards, kernelWaits, sbWriters, sbWritersHeld, TRANS_STATE_COMMIT_DOING, TRANS_STATE_COMMIT_START,
  TRANS_STATE_NAMES, type BtrfsTransType,
} from '../../../machines/kernel/index.ts';
import { createReferenceStepper } from '../../../explorer/reference.ts';
import { explore, tinyModel, where } from './harness.ts';
import { compileMachine } from '../../../explorer/compile/index.ts';
import { crossCheck } from '../../../explorer/crosscheck.ts';
import { checkModel } from '../../../explorer/index.ts';
import { defineModel } from '../../../explorer/model.ts';
import { exploreWords } from '../../helpers/explore-words.ts';
import { withLowering } from '../../helpers/lowering.ts';

/** A thread: start_transaction(type), then end it. */
function user(thread: string, type: BtrfsTransType, o: { sb?: string; before?: any } = {}) {
  const st = btrfsStartTransactionStates({ thread, type, next: 'in_trans', enoent: 'done', sb: o.sb });
  return {
    initial: st.initial,
    states: {
      ...st.states,
      in_trans: { on: { [`${thread}.end`]: { ...btrfs_end_transaction('trans', thread, type, o.sb), target: 'done' } } },
      done: { type: 'final' },
    },
  };
}

/** A committer that already holds a TRANS_START handle (btrfsTransRunning) and commits it. */
function committer(thread = 'committer', o: { sb?: string; commitRoots?: any; extraStates?: any } = {}) {
  const c = btrfsCommitTransactionStates({ thread, type: 'TRANS_START', next: 'done', sb: o.sb, commitRoots: o.commitRoots });
  return { initial: c.initial, states: { ...c.states, ...(o.extraStates ?? {}), done: { type: 'final' } } };
}

const guard = (name: string, ctx: any, type: BtrfsTransType) =>
  (kernelGuards as any)[name]({ context: ctx }, { fs: 'trans', thread: 'x', type });

describe('btrfs join rules (btrfs_blocked_trans_types, v6.6)', () => {
  it('each commit state turns away exactly the types of the kernel table', () => {
    const expected: Record<number, BtrfsTransType[]> = {
      0: [],
      1: [],
      2: ['TRANS_START', 'TRANS_ATTACH'],
      3: ['TRANS_START', 'TRANS_ATTACH', 'TRANS_JOIN', 'TRANS_JOIN_NOSTART'],
    };
    for (const [state, blocked] of Object.entries(expected)) {
      const base = btrfsTransRunning({ committer: 'TRANS_START' });
      const ctx = { trans: { ...base, running: { ...base.running!, state: Number(state), committer: 'committer' } } };
      for (const type of BTRFS_TRANS_TYPES) {
        const busy = blocked.includes(type);
        expect([TRANS_STATE_NAMES[Number(state)], type, guard('btrfs_join_busy', ctx, type)]).toEqual([TRANS_STATE_NAMES[Number(state)], type, busy]);
        expect(guard('btrfs_join_ok', ctx, type)).toBe(!busy);
      }
    }
  });

  it('with nothing running: TRANS_ATTACH / TRANS_JOIN_NOSTART get -ENOENT, TRANS_START / TRANS_JOIN start one', () => {
    const ctx = { trans: btrfsTrans() };
    for (const type of ['TRANS_ATTACH', 'TRANS_JOIN_NOSTART'] as const) {
      expect(guard('btrfs_join_enoent', ctx, type)).toBe(true);
      expect(guard('btrfs_join_ok', ctx, type)).toBe(false);
    }
    const r = explore(tinyModel({ trans: btrfsTrans() }, { a: user('a', 'TRANS_ATTACH'), j: user('j', 'TRANS_JOIN') }));
    expect(r.deadlocks).toEqual([]);
    // the attach either found j's transaction or none: both outcomes are reachable
    const attachJoined = r.all.some((s) => where(s).a === 'in_trans' && s.context.trans.running?.writers.includes('a'));
    const attachNoent = r.all.some((s) => where(s).a === 'done' && where(s).j === 'start_transaction_join_transaction');
    expect([attachJoined, attachNoent]).toEqual([true, true]);
  });

  it('TRANS_JOIN_NOLOCK with nothing running hits the BUG_ON in join_transaction (misuse)', () => {
    expect(() => explore(tinyModel({ trans: btrfsTrans() }, { n: user('n', 'TRANS_JOIN_NOLOCK') }))).toThrow(/BUG_ON\(type == TRANS_JOIN_NOLOCK\)/);
  });
});

describe('btrfs_commit_transaction against joiners', () => {
  it('a TRANS_JOIN during commit start joins the committing transaction; a TRANS_START waits for the next one', () => {
    const m = tinyModel({ trans: btrfsTransRunning({ committer: 'TRANS_START' }) }, {
      committer: committer(),
      joiner: user('joiner', 'TRANS_JOIN'),
      starter: user('starter', 'TRANS_START'),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    // TRANS_JOIN takes a handle on transaction 1 FROM a state where it is in TRANS_STATE_COMMIT_START
    const stepper = createReferenceStepper(m);
    const atStart = (t: string) =>
      r.all.filter((s) => where(s)[t] === 'start_transaction_join_transaction' && s.context.trans.running?.state === TRANS_STATE_COMMIT_START);
    expect(atStart('joiner').length).toBeGreaterThan(0);
    for (const s of atStart('joiner')) {
      expect(stepper.successors(s).some(({ next }) => where(next).joiner === 'in_trans' && next.context.trans.handles.joiner === 1)).toBe(true);
    }
    // ... while a TRANS_START there goes to the -EBUSY wait instead
    expect(atStart('starter').length).toBeGreaterThan(0);
    for (const s of atStart('starter')) {
      expect(stepper.successors(s).some(({ next }) => where(next).starter === 'in_trans')).toBe(false);
    }
    // ... and the commit then waited for it (num_writers == 1) before COMMIT_DOING finished
    expect(r.all.some((s) => where(s).committer === 'commit_C5_wait_writers' && s.context.trans.handles.joiner === 1)).toBe(true);
    // TRANS_START never holds transaction 1 once it is past COMMIT_PREP unless it joined before
    for (const s of r.all) {
      const run = s.context.trans.running;
      if (run?.transid === 1 && run.state >= TRANS_STATE_COMMIT_START && run.writers.includes('starter')) {
        expect(run.extwriters.includes('starter') || run.state > TRANS_STATE_COMMIT_START).toBe(true);
      }
    }
    // a TRANS_START arriving during the commit ends up in transaction 2
    expect(r.all.some((s) => s.context.trans.handles.starter === 2)).toBe(true);
    // the commit completes transaction 1 in every end state
    for (const s of r.all.filter((x) => x.status === 'done')) expect(s.context.trans.committed).toBeGreaterThanOrEqual(1);
  });

  it('TRANS_JOIN waits in COMMIT_DOING: a commit that waits for the joiner deadlocks; TRANS_JOIN_NOLOCK joins and does not', () => {
    // commit_cowonly_roots waits for the free space cache IO, which the joiner finishes inside its transaction
    const roots = (types: BtrfsTransType) => {
      const m = tinyModel({ trans: btrfsTransRunning({ committer: 'TRANS_START' }), io_done: false }, {
        committer: committer('committer', {
          commitRoots: { enter: 'cache_io_wait' },
          extraStates: {
            cache_io_wait: { on: { 'committer.cache_io_wait': { guard: { type: 'cond_true', params: { path: 'io_done', name: 'free space cache io', by: ['endio'] } }, target: 'commit_C6_unblocked' } } },
          },
        }),
        endio: (() => {
          const st = btrfsStartTransactionStates({ thread: 'endio', type: types, next: 'finish' });
          return {
            initial: 'wait_for_commit_doing',
            states: {
              // the endio work runs once the commit is in COMMIT_DOING (it was queued by the cache writeout)
              wait_for_commit_doing: { on: { 'endio.go': { guard: { type: 'in_doing' }, target: st.initial } } },
              ...st.states,
              finish: { on: { 'endio.finish': { actions: [{ type: 'io_done' }, ...btrfs_end_transaction('trans', 'endio', types).actions!], target: 'done' } } },
              done: { type: 'final' },
            },
          };
        })(),
      }, {
        guards: { in_doing: ({ context }: any) => context.trans.running?.state === TRANS_STATE_COMMIT_DOING && context.trans.running.writers.length === 1 },
        actions: { io_done: assign({ io_done: true }) },
      });
      return explore(m);
    };
    const join = roots('TRANS_JOIN');
    expect(join.deadlocks.length).toBe(1);
    const d = join.deadlocks[0];
    expect(where(d)).toEqual({ committer: 'cache_io_wait', endio: 'start_transaction_join_busy_wait' });
    expect(kernelWaits.btrfs_trans_not_blocked(d.context, { fs: 'trans', thread: 'endio', type: 'TRANS_JOIN' })).toEqual({
      resource: 'transaction 1', kind: 'btrfs transaction', mode: 'wait_current_trans (TRANS_STATE_COMMIT_DOING)', holders: ['committer'],
    });
    expect(kernelWaits.cond_true(d.context, { path: 'io_done', name: 'free space cache io', by: ['endio'] })?.act).toBe('wake_up');
    expect(roots('TRANS_JOIN_NOLOCK').deadlocks).toEqual([]);
  });

  it('two committers: the loser ends its handle and waits for the winner (wait_for_commit)', () => {
    const m = tinyModel({ trans: btrfsTransRunning({ c0: 'TRANS_START', c1: 'TRANS_START' }) }, { c0: committer('c0'), c1: committer('c1') });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    const waiting = r.all.find((s) => where(s).c1 === 'commit_C1_wait_for_commit' && s.context.trans.committed === 0);
    expect(waiting).toBeDefined();
    expect(kernelWaits.btrfs_commit_waited(waiting!.context, { fs: 'trans', thread: 'c1' })).toMatchObject({ holders: ['c0'], act: 'commit', mode: 'wait_for_commit' });
    // exactly one commit ran: transaction 1 completed, no second transaction
    for (const s of r.all.filter((x) => x.status === 'done')) expect([s.context.trans.committed, s.context.trans.generation]).toEqual([1, 1]);
  });
});

describe('btrfs_finish_extent_commit hook', () => {
  it('runs in C8 while the transaction is still the committing one, once, before TRANS_STATE_COMPLETED', () => {
    const c = btrfsCommitTransactionStates({ thread: 'c', type: 'TRANS_START', next: 'done', finishExtentCommit: [{ type: 'unpin' }] });
    const m = tinyModel({ trans: btrfsTransRunning({ c: 'TRANS_START' }), unpinned: [] as number[] }, {
      c: { initial: c.initial, states: { ...c.states, done: { type: 'final' } } },
    }, {
      // records the transid that btrfs_finish_extent_commit() saw as committing, and the last committed one
      actions: { unpin: assign(({ context }: any) => ({ unpinned: [...context.unpinned, context.trans.committing.transid, context.trans.committed] })) },
    });
    const r = explore(m);
    const done = r.all.filter((s) => s.status === 'done');
    expect(done.length).toBe(1);
    expect(done[0]!.context.unpinned).toEqual([1, 0]);
    expect(done[0]!.context.trans.committed).toBe(1);
  });
});

describe('freeze protection', () => {
  it('the committer keeps its sb_start_intwrite until TRANS_STATE_COMPLETED; a losing committer drops it before wait_for_commit', () => {
    const sb = sbWritersHeld({ intwrite: ['c0', 'c1'] });
    const m = tinyModel({ trans: btrfsTransRunning({ c0: 'TRANS_START', c1: 'TRANS_START' }), s_writers: sb }, {
      c0: committer('c0', { sb: 's_writers' }),
      c1: committer('c1', { sb: 's_writers' }),
    });
    const r = explore(m);
    expect(r.deadlocks).toEqual([]);
    for (const s of r.all) {
      const readers: string[] = s.context.trans.running === null && s.context.trans.committing === null ? [] : s.context.s_writers.rw_sem[2].readers;
      for (const t of ['c0', 'c1']) {
        const winner = s.context.trans.running?.committer === t || s.context.trans.committing?.committer === t;
        if (winner) expect(readers).toContain(t);
        if (where(s)[t] === 'commit_C1_wait_for_commit') expect(readers).not.toContain(t);
      }
    }
    for (const s of r.all.filter((x) => x.status === 'done')) expect(s.context.s_writers.rw_sem[2].readers).toEqual([]);
  });

  it('TRANS_START / TRANS_JOIN take sb_start_intwrite until the handle ends; TRANS_JOIN_NOLOCK and TRANS_ATTACH never do', () => {
    for (const type of BTRFS_TRANS_TYPES) {
      const m = tinyModel({ trans: btrfsTransRunning({ other: 'TRANS_JOIN' }), s_writers: sbWriters() }, { t: user('t', type, { sb: 's_writers' }) });
      const r = explore(m);
      const held = r.all.filter((s) => where(s).t === 'in_trans').map((s) => s.context.s_writers.rw_sem[2].readers);
      const freezable = type === 'TRANS_START' || type === 'TRANS_JOIN';
      expect([type, held.every((x) => x.includes('t'))]).toEqual([type, freezable]);
      for (const s of r.all.filter((x) => where(x).t === 'done')) expect(s.context.s_writers.rw_sem[2].readers).toEqual([]);
    }
  });
});

describe('btrfs transactions on the packed words (declared lowerings)', () => {

  it('joiners of every type against a committer: every state on the words, the successors of the decoded step, and XState agrees', () => {
    const m = tinyModel({ trans: btrfsTransRunning({ committer: 'TRANS_START' }) }, {
      committer: committer(),
      joiner: user('joiner', 'TRANS_JOIN'),
      starter: user('starter', 'TRANS_START'),
      attacher: user('attacher', 'TRANS_ATTACH'),
    });
    const on = exploreWords(compileMachine(m), true);
    const off = exploreWords(compileMachine(m), false);
    expect(on.edges).toEqual(off.edges);
    expect(on.states.length).toBeGreaterThan(100);
    // every step on the words but those into the all-final state (the compiled step runs the exits there)
    expect(on.counts.lowered + on.counts.fallback).toBe(on.edges.length);
    expect(on.counts.lowered).toBeGreaterThan(on.edges.length * 0.9);
    const r = crossCheck(m, { lowered: true });
    expect(r.difference).toBeUndefined();
    expect(r.status).toBe('agree');
  });

  it('a misuse BAILs on the words and the function reports it, as with lowering off', () => {
    // t ends a handle it never started: __btrfs_end_transaction's check fails
    const bad = tinyModel({ trans: btrfsTrans() }, {
      t: { initial: 'a', states: { a: { on: { 't.end': { ...btrfs_end_transaction('trans', 't', 'TRANS_START'), target: 'done' } } }, done: { type: 'final' } } },
    });
    const model = defineModel({ name: 'misuse', description: 'end without a handle', params: {}, defaultVariant: 'v', variants: { v: { description: 'bad' } }, create: () => bad });
    const messages = [true, false].map((on) =>
      withLowering(on, () => {
        try {
          checkModel({ model, params: {} });
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      }),
    );
    expect(messages[0]).toMatch(/kernel primitive misuse: t ended a transaction handle it does not hold/);
    expect(messages[0]).toBe(messages[1]);
  });
});
