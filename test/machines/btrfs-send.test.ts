// Verdicts of small btrfs-send instances (issue 9): stale buffers, the pipe/commit deadlock, mutual exclusion, the merged fix.
import { describe, expect, it } from 'vitest';
import model from '../../machines/btrfs-send/index.ts';
import { checkModel, instantiate, resolveParams, selectInvariants } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import { createReferenceStepper, referenceKey, threadLocationsOf } from '../../explorer/reference.ts';
import type { Context, Invariant, ThreadLocations } from '../../explorer/model.ts';
import { pipeFull, rwsemReaders } from '../../machines/kernel/index.ts';
import { rankTransids } from '../../machines/btrfs-send/index.ts';
import { assign } from 'xstate';
import { compileMachine } from '../../explorer/compile/index.ts';
import { crossCheck } from '../../explorer/crosscheck.ts';
import { PackedSystem } from '../../explorer/packed.ts';
import { StateSpace } from '../../explorer/space/index.ts';

type Params = Record<string, number | boolean | string>;
type Check = { deadlock?: boolean; assertions?: boolean; invariants?: boolean | string[] };

const STALE = 'no_stale_extent_buffer';
const SAFE = [STALE, 'bs_p1_freshness', 'bs_p2_changed_cb_unlocked_on_clone', 'bs_p6_no_pipe_sleep_under_commit_root_sem'];

function run(variant: string, params: Params, check: Check) {
  return checkModel({ model, variant, params, check, maxStates: 500_000 });
}

/** Checks one probe invariant on top of the model: a violation means a state where `probe` is false is reachable. */
function reachable(variant: string, params: Params, probe: (ctx: Context, threads: ThreadLocations) => boolean) {
  const probed = { ...model, invariants: { ...model.invariants, probe: ((c, t) => !probe(c, t)) as Invariant } };
  const r = checkModel({ model: probed, variant, params, check: { deadlock: false, assertions: false, invariants: ['probe'] }, maxStates: 500_000 });
  expect(r.verdict.status).not.toBe('incomplete');
  return r.verdict.status === 'violation';
}

/** The counterexample replays on its own variant and is blocked on `fixed`. */
function replays(variant: string, params: Params, check: Check, fixed: string) {
  const r = run(variant, params, check);
  expect(r.trace).toBeDefined();
  const p = resolveParams(model, params);
  expect(replayTrace(instantiate(model, p, variant), model, r.trace!, selectInvariants(model, p, variant, check.invariants)).status).toBe('reproduced');
  const other = replayTrace(instantiate(model, p, fixed), model, r.trace!, selectInvariants(model, p, fixed, check.invariants), { strictLocations: false });
  expect(other.status).not.toBe('reproduced');
  return r;
}

const inWalk = (t: ThreadLocations) => !['ioctl', 'send_header', 'send_end', 'done', 'eagain'].includes(t.send);

describe('btrfs-send: before 5.3 (uncoordinated)', () => {
  it('incremental: send reads node I after relocation committed, unpinned and the allocator reused its extent', () => {
    const r = replays('uncoordinated', { mode: 'incremental', leaves: 1 }, { invariants: [STALE] }, 'merged');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: STALE });
    const events: string[] = r.trace!.steps.map((s: any) => s.event);
    // relocation COWs the tree in its transaction, commits it itself (switch_commit_roots, then C8 unpins)
    expect(events).toContain('relocation.relocate_tree_blocks');
    expect(events).toContain('relocation.reloc_switch_commit_roots');
    expect(events).toContain('relocation.reloc_commit_C8_completed');
    expect(events.at(-1)).toMatch(/^(allocator\.reuse_extent_|send\.)/);
  });

  it('full: changed_cb reads an uncloned leaf whose extent was reused', () => {
    const r = run('uncoordinated', { mode: 'full', leaves: 1 }, { invariants: [STALE] });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: STALE });
    expect(r.trace!.final.locations.send).toBe('changed_cb');
  });

  it('without relocation rounds nothing is ever stale', () => {
    expect(run('uncoordinated', { mode: 'incremental', leaves: 1, rounds: 0 }, { invariants: [STALE] }).verdict.status).toBe('pass');
  });
});

describe('btrfs-send: 5.3/5.14 mutual exclusion', () => {
  for (const mode of ['incremental', 'full']) {
    it(`${mode}: safe and deadlock-free, and no relocation transaction runs while a send is in progress`, () => {
      const r = run('mutex', { mode, leaves: 1 }, { invariants: [STALE, 'no_relocation_during_send'] });
      expect(r.verdict.status).toBe('pass');
    });
  }

  it('the availability cost: relocation gets -EAGAIN while a send runs, and a send gets -EAGAIN while relocation runs', () => {
    const p = { mode: 'incremental', leaves: 1 };
    expect(reachable('mutex', p, (c, t) => t.relocation === 'eagain' && inWalk(t))).toBe(true);
    expect(reachable('mutex', p, (c, t) => t.send === 'eagain')).toBe(true);
    // and relocation never gets past reloc_chunk_start while the send walks its tree
    expect(reachable('mutex', p, (c, t) => inWalk(t) && ['relocate', 'wait_commit', 'chunk_end'].includes(t.relocation))).toBe(false);
    // whereas the merged design lets a whole relocation finish in the middle of a send
    expect(reachable('merged', p, (c, t) => inWalk(t) && c.relocDone && c.lastRelocTrans > 0)).toBe(true);
  });
});

describe('btrfs-send: commit_root_sem held across changed_cb (hold-sem)', () => {
  for (const mode of ['incremental', 'full']) {
    it(`${mode}: deadlock send -> pipe -> receive, whose commit's switch_commit_roots waits for commit_root_sem held by send`, () => {
      const r = replays('hold-sem', { mode, leaves: 2 }, { invariants: [STALE] }, 'merged');
      expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
      const cycle = (r.trace as any).deadlock.cycle as Array<{ thread: string; resource: string; heldBy: string }>;
      // the shortest: receive runs btrfs_commit_transaction() itself (the snapshot / subvolume commit)
      expect(cycle.map((c) => `${c.thread}->${c.heldBy}`)).toEqual(['send->receive', 'receive->send']);
      expect(cycle[0].resource).toMatch(/pipe/);
      expect(cycle[1].resource).toBe('fs_info->commit_root_sem');
      expect(r.trace!.final.locations.receive).toBe('subvol_switch_commit_roots_wait');
    });
  }

  it('also as in the changed_cb comment: receive waits for a commit that relocation runs, blocked on commit_root_sem', () => {
    // C1: relocation won the commit race, receive's btrfs_commit_transaction() ended its handle and sleeps in
    // wait_for_commit(); relocation's switch_commit_roots() waits for send's read hold; send waits on the full pipe
    const stuck = (c: Context, t: ThreadLocations) =>
      t.send === 'kernel_write' && pipeFull(c, 'pipe') && rwsemReaders(c, 'commit_root_sem').includes('send') && t.receive === 'subvol_commit_C1_wait_for_commit' && t.relocation === 'reloc_switch_commit_roots_wait';
    expect(reachable('hold-sem', { mode: 'incremental', leaves: 2 }, stuck)).toBe(true);
    expect(reachable('merged', { mode: 'incremental', leaves: 2 }, stuck)).toBe(false);
  });

  it('breaks BS-P6: send sleeps on a full pipe holding commit_root_sem', () => {
    const r = run('hold-sem', { mode: 'incremental', leaves: 2 }, { deadlock: false, invariants: ['bs_p6_no_pipe_sleep_under_commit_root_sem'] });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'bs_p6_no_pipe_sleep_under_commit_root_sem' });
  });
});

describe('btrfs-send: merged shape without the last_reloc_trans comparison (no-reloc-check)', () => {
  it('incremental: a path node read after re-taking commit_root_sem is stale', () => {
    const r = replays('no-reloc-check', { mode: 'incremental', leaves: 1 }, { invariants: [STALE] }, 'merged');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: STALE });
  });

  it('also through the changed_cb window alone, without any contention release', () => {
    // the stale read at tree_move_next, right after changed_cb's up_read/down_read
    const staleNext = (c: Context, t: ThreadLocations) => t.send === 'move_next' && c.derefs !== null && c.extTag[c.derefs.e] !== c.derefs.tag;
    const probed = { ...model, invariants: { probe: ((c, t) => !staleNext(c, t)) as Invariant } };
    const r = checkModel({ model: probed, variant: 'no-reloc-check', params: { mode: 'incremental', leaves: 1 }, check: { deadlock: false, assertions: false, invariants: ['probe'] } });
    expect(r.verdict.status).toBe('violation');
    const sendSteps = r.trace!.steps.filter((s: any) => s.threads.includes('send')).map((s: any) => s.locations.send);
    expect(sendSteps).toContain('cb_down_read');
    expect(sendSteps).not.toContain('cond_resched');
  });

  it('BS-P1 catches it before the extent is even reused', () => {
    const r = run('no-reloc-check', { mode: 'incremental', leaves: 1 }, { invariants: ['bs_p1_freshness'] });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: 'bs_p1_freshness' });
    expect(r.trace!.steps.length).toBeLessThan(run('no-reloc-check', { mode: 'incremental', leaves: 1 }, { invariants: [STALE] }).trace!.steps.length);
  });

  it('full send: no stale extent buffer (btrfs_next_old_leaf re-searches under the sem and clones the leaf)', () => {
    expect(run('no-reloc-check', { mode: 'full', leaves: 1 }, { invariants: [STALE] }).verdict.status).toBe('pass');
  });
});

describe('btrfs-send: merged (d96b34248c2f)', () => {
  // The walk never goes on with a node I older than the commit root: restart_after_relocation() re-searches it.
  const older = (c: Context, t: ThreadLocations) => t.send === 'move_next' && c.node !== null && c.node.ver < c.commitVer;

  for (const mode of ['incremental', 'full']) {
    it(`${mode}: BS-P1, BS-P2, BS-P6, no stale buffer, the changed_cb ASSERTs, no deadlock`, () => {
      const withFresh = { ...model, invariants: { ...model.invariants, walk_on_current_tree: ((c, t) => !older(c, t)) as Invariant } };
      const r = checkModel({ model: withFresh, variant: 'merged', params: { mode, leaves: 1 }, check: { deadlock: true, assertions: true, invariants: [...SAFE, 'walk_on_current_tree'] } });
      expect(r.verdict.status).toBe('pass');
    });
  }

  it('the restart path is live: send restarts after a relocation commit and then reads the relocated node I', () => {
    expect(reachable('merged', { mode: 'incremental', leaves: 1 }, (c, t) => t.send === 'move_next' && c.sctxLast > 0 && c.node?.ver > 0)).toBe(true);
  });

  it('without the restart (no-reloc-check) the walk goes on with a node I older than the commit root', () => {
    expect(reachable('no-reloc-check', { mode: 'incremental', leaves: 1 }, older)).toBe(true);
  });
});

describe('btrfs-send: clone sources (find_extent_clone, BS-P5)', () => {
  const P5 = 'bs_p5_no_stale_clone_source';
  it('no-reloc-check, full send: a clone command is built from a backref walk over a relocated disk_bytenr', () => {
    const r = replays('no-reloc-check', { mode: 'full', leaves: 1, cloneSources: true }, { invariants: [P5] }, 'merged');
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'invariant', name: P5 });
  });

  it('merged, incremental: no stale clone source, and the write fallback is really taken after a relocation commit', () => {
    const p = { mode: 'incremental', leaves: 1, cloneSources: true };
    expect(run('merged', p, { invariants: [P5] }).verdict.status).toBe('pass');
    expect(reachable('merged', p, (c, t) => t.send === 'kernel_write' && c.walk === 'stale' && !c.cloneCmd)).toBe(true);
  });
});

/**
 * Runs a periodic-backup schedule (sendRepeat) with XState's own stepper: relocation gets one step
 * after every step of the others, but only while a send is in progress; send, receive and the committer
 * run in a fixed order. Returns the lasso: the events of the repeating cycle and where relocation is.
 */
function backupLasso(variant: string) {
  const params = resolveParams(model, { mode: 'incremental', leaves: 1, sendRepeat: true });
  const stepper = createReferenceStepper(model.create({ params, variant }));
  let snap = stepper.initial();
  const seen = new Map<string, number>();
  const events: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const last = events.at(-1) ?? '';
    const key = referenceKey(snap) + (last.startsWith('relocation.') ? '#r' : '');
    const start = seen.get(key);
    if (start !== undefined) return { cycle: events.slice(start), relocation: threadLocationsOf(snap).relocation };
    seen.set(key, i);
    const succ = stepper.successors(snap);
    const relocTurn = last !== '' && !last.startsWith('relocation.') && (snap.context as Context).sendActive;
    const pick =
      (relocTurn ? succ.find((x) => x.event.startsWith('relocation.')) : undefined) ??
      succ.find((x) => !x.event.startsWith('relocation.') && !x.event.startsWith('allocator.') && x.event !== 'committer.exit');
    if (!pick) throw new Error(`schedule stuck at ${JSON.stringify(threadLocationsOf(snap))}`);
    events.push(pick.event);
    snap = pick.next;
  }
  throw new Error('no cycle within 1000 steps');
}

describe('btrfs-send: periodic sends (sendRepeat)', () => {
  it('mutex: a fair schedule in which relocation retries forever and never relocates (starvation witness)', () => {
    const { cycle, relocation } = backupLasso('mutex');
    expect(cycle).toContain('send.write_end_cmd'); // sends keep completing
    expect(cycle).toContain('relocation.reloc_chunk_start'); // relocation keeps trying ...
    expect(cycle).toContain('relocation.requeue'); // ... and gets -EAGAIN every time
    expect(cycle).not.toContain('relocation.relocate_tree_blocks');
    expect(['chunk_start', 'eagain']).toContain(relocation);
  });

  it('merged: under the same schedule relocation finishes while the sends go on', () => {
    const { cycle, relocation } = backupLasso('merged');
    expect(relocation).toBe('done');
    expect(cycle).toContain('send.write_end_cmd');
  });

  it('merged: repeated sends stay safe and deadlock-free (finite thanks to transaction renumbering)', () => {
    const r = run('merged', { mode: 'incremental', leaves: 1, sendRepeat: true }, { deadlock: true, assertions: true, invariants: SAFE });
    expect(r.verdict.status).toBe('pass');
  });
});


const WALK = 60;
describe('btrfs-send: the transaction-id window of sendRepeat (rankTransids)', () => {
  // XState's own stepper on the model as built (ids ranked after each COMPLETED commit) and on the same model whose
  // renumber_transids does nothing (the kernel's ever-growing ids): both follow the same `walk` first steps (the
  // first enabled event each time), then go breadth-first for `depth` steps. Seen through the ranking, both reach
  // the same states, each first at the same depth: the window loses no behaviour. (A bounded check: it fails when
  // the action leaves the transaction slice or last_reloc_trans unranked; a wrong sctx->last_reloc_trans would need
  // a relocation commit after a send's snapshot inside the window, which this one does not reach.)
  function firstDepths(renumber: boolean, walk: number, depth: number) {
    const params = resolveParams(model, { mode: 'incremental', leaves: 1, reuses: 0, sendRepeat: true });
    const built = model.create({ params, variant: 'merged' });
    const machine = renumber ? built : built.provide({ actions: { renumber_transids: assign({}) as any } });
    const stepper = createReferenceStepper(machine);
    const form = (s: any) => JSON.stringify([s.value, { ...s.context, ...rankTransids(s.context) }]);
    let start = stepper.initial();
    for (let i = 0; i < walk; i++) start = stepper.successors(start)[0]!.next;
    let frontier = [start];
    const seen = new Set<string>([referenceKey(start)]);
    const first = new Map<string, number>([[form(start), 0]]);
    let renamed = false; // some state's ids had a gap the ranking closes
    for (let d = 1; d <= depth; d++) {
      const next: any[] = [];
      for (const s of frontier) {
        for (const { next: n } of stepper.successors(s)) {
          const k = referenceKey(n);
          if (seen.has(k)) continue;
          seen.add(k);
          next.push(n);
          const f = form(n);
          if (!first.has(f)) first.set(f, d);
          renamed ||= JSON.stringify(rankTransids(n.context).trans) !== JSON.stringify(n.context.trans);
        }
      }
      frontier = next;
    }
    return { first: [...first.entries()].sort(), renamed };
  }

  it('ranked, the model with and without renumbering reach the same states at the same depths', () => {
    const a = firstDepths(true, WALK, 18);
    const b = firstDepths(false, WALK, 18);
    // the unranked run got far enough for ids to have gaps, so the ranking had something to rename
    expect(b.renamed).toBe(true);
    expect(a.first.length).toBe(b.first.length);
    expect(a.first).toEqual(b.first);
  }, 120_000);
});

describe('btrfs-send on the packed words (declared lowerings)', () => {
  // Beyond smallParams (which the differential test covers for every variant): the allocator's reuses, the
  // receive's flush commit (TRANS_ATTACH), clone sources, a full send, repeated sends (renumber_transids runs
  // its own function on the keys it reads). The first states of each, breadth first.
  const cases: Array<[string, Params]> = [
    ['merged', { leaves: 1, reuses: 1, rounds: 2, writeCommits: true }],
    ['merged', { mode: 'full', leaves: 2, reuses: 1, cloneSources: true }],
    ['no-reloc-check', { leaves: 1, reuses: 1, cloneSources: true }],
    ['mutex', { leaves: 1, reuses: 1, sendRepeat: true }],
    ['merged', { leaves: 1, reuses: 0, sendRepeat: true }],
  ];
  for (const [variant, params] of cases) {
    it(`${variant} ${JSON.stringify(params)}: the word step agrees with XState transition()`, () => {
      const machine = model.create({ params: resolveParams(model, params), variant });
      const r = crossCheck(machine, { lowered: true, limit: 1500 });
      expect(r.difference).toBeUndefined();
      expect(r.states).toBeGreaterThan(1000);
    }, 120_000);
  }

  it('relocate on the words: the second relocation (a third tree version) agrees with XState transition() too', () => {
    // Breadth first, the first state after a second relocate_tree_blocks is past state 2,300.
    const machine = model.create({ params: resolveParams(model, { leaves: 1, rounds: 2, writeCommits: true }), variant: 'merged' });
    const r = crossCheck(machine, { lowered: true, limit: 3000 });
    expect(r.difference).toBeUndefined();
  }, 120_000);

  it('the largest spec (merged, two rounds, receive commits) steps its transitions on the words', () => {
    const machine = model.create({ params: resolveParams(model, { leaves: 1, rounds: 2, writeCommits: true }), variant: 'merged' });
    const space = new StateSpace(new PackedSystem(compileMachine(machine), { lowered: true }));
    const seen = new Set<string>();
    const queue: Int32Array[] = [space.initial().words];
    for (let head = 0; head < queue.length && head < 3000; head++) {
      space.expand(queue[head], (_e, next, len) => {
        const w = next.slice(0, len);
        const k = w.join(',');
        if (!seen.has(k)) {
          seen.add(k);
          queue.push(w);
        }
      });
    }
    space.endExpansions();
    expect(space.words.counts.lowered).toBeGreaterThan(5000);
    expect(space.words.counts.fallback).toBe(0);
  });
});
