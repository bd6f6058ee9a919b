// Pins the lockdep-style scenario: rows in the order the trace took them, and threads that must signal shown as
// who must act (not as lock holders), on real counterexamples of the fast engine.
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../explorer/index.ts';
import { defineModel } from '../../explorer/model.ts';
import { renderScenarioText, scenarioRows } from '../../explorer/scenario.ts';
import type { WaitEdge } from '../../explorer/waitfor.ts';
import { renderTrace } from '../../cli/show.ts';
import {
  complete, completion, down_read, down_write, down_write_acquire, down_write_queue, kernelWaits, mutex, mutex_lock, mutex_unlock, rwsem, up_read, up_write, wait_for_completion,
} from '../../machines/kernel/index.ts';
import { straight, tinyModel } from '../machines/kernel/harness.ts';

const model = (name: string, context: any, threads: any, guards: Record<string, any> = {}) =>
  defineModel({ name, description: name, params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: () => tinyModel(context, threads, { guards }), waits: kernelWaits });

const tableRows = (text: string) => text.split('\n').filter((l) => /^ {7} *[a-z_]+\(.*\);$/.test(l)).map((l) => l.trim());

describe('scenario rows', () => {
  it('orders holds by the step that took them, then the blocking attempts, whatever the cycle order', () => {
    const edge = (thread: string, resource: string, heldBy: string, heldSince: number, waitingSince: number): WaitEdge =>
      ({ thread, resource, kind: 'mutex', mode: 'lock', heldBy, heldSince, waitingSince });
    // the cycle starts at a, but c took its lock first and b blocked first
    const cycle = [edge('a', 'B', 'b', 5, 6), edge('b', 'C', 'c', 1, 5), edge('c', 'A', 'a', 3, 7)];
    expect(scenarioRows(cycle).rows.map((r) => `${r.thread}:${r.text}`)).toEqual([
      'c:lock(C);', 'a:lock(A);', 'b:lock(B);', 'b:lock(C);', 'a:lock(B);', 'c:lock(A);',
    ]);
    // traces saved without the stamps keep the cycle order
    const old = cycle.map(({ heldSince, waitingSince, ...e }) => e);
    expect(scenarioRows(old).rows.map((r) => `${r.thread}:${r.text}`)).toEqual([
      'b:lock(B);', 'c:lock(C);', 'a:lock(A);', 'a:lock(B);', 'b:lock(C);', 'c:lock(A);',
    ]);
  });

  it('a real ABBA trace: each hold row sits at the step that changed its owner', () => {
    // t1 has two steps of its own before it locks, so the trace interleaves the acquisitions
    const m = model('abba-late', { a: mutex(), b: mutex(), n: 0 }, {
      t0: straight('t0', [mutex_lock('a', 't0', 'A'), mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0'), mutex_unlock('a', 't0')]),
      t1: straight('t1', [mutex_lock('b', 't1', 'B'), mutex_lock('a', 't1', 'A'), mutex_unlock('a', 't1'), mutex_unlock('b', 't1')]),
    });
    const r = checkModel({ model: m });
    const trace = r.trace!;
    const cycle = trace.deadlock!.cycle!;
    const stepOf = (path: string) => trace.steps.find((s) => s.changes.some((c) => c.path === path))!.step;
    for (const e of cycle) {
      expect(e.heldSince).toBe(stepOf(e.resource === 'A' ? 'a.owner' : 'b.owner'));
      expect(e.waitingSince).toBe(Math.max(...trace.steps.filter((s) => s.threads.includes(e.thread)).map((s) => s.step)));
    }
    const first = [...cycle].sort((x, y) => x.heldSince! - y.heldSince!)[0];
    expect(tableRows(renderTrace(trace))[0]).toBe(`lock(${first.resource});`);
  });

  it('a thread that must complete a completion is shown as who must act, not as holding it', () => {
    // t0 holds m and waits for done; t1 would complete done but first needs m
    const m = model('must-act', { m: mutex(), done: completion() }, {
      t0: straight('t0', [mutex_lock('m', 't0', 'inode lock'), wait_for_completion('done', 't0', { name: 'ordered extent', by: ['t1'] }), mutex_unlock('m', 't0')]),
      t1: straight('t1', [mutex_lock('m', 't1', 'inode lock'), mutex_unlock('m', 't1'), complete('done')]),
    });
    const trace = checkModel({ model: m }).trace!;
    const cycle = trace.deadlock!.cycle!;
    expect(cycle.find((e) => e.thread === 't0')).toMatchObject({ resource: 'ordered extent', heldBy: 't1', act: 'complete' });
    const text = renderTrace(trace);
    expect(text).not.toContain('lock(ordered extent)');
    expect(tableRows(text)).toEqual(['lock(inode lock);', 'wait_for_completion(ordered extent);', 'lock(inode lock);']);
    expect(text).toContain('t1 must complete(ordered extent) for t0 to go on');
    expect(text).toContain('t0 at s1: waits for ordered extent (completion wait_for_completion), t1 must complete');
    expect(text).toContain('t0 waits for ordered extent: t1 must complete');
    expect(renderScenarioText(cycle)).toContain('*** DEADLOCK ***');
  });

  it('a writer queued on an rwsem ahead of a reader is shown as queued ahead, not as holding it (f2fs dd802406e396)', () => {
    // creat holds cp_rwsem for read and takes it for read again (reclaim -> writepage); checkpoint queued down_write
    // in between: the nested down_read queues behind it. checkpoint holds nothing: it waits for creat's read hold.
    const m = model('queued-writer', { sem: rwsem({ readerSteal: false }) }, {
      creat: straight('creat', [(n: string) => down_read('sem', 'creat', n, 'cp_rwsem'), {}, (n: string) => down_read('sem', 'creat', n, 'cp_rwsem'), up_read('sem', 'creat', 'cp_rwsem'), up_read('sem', 'creat', 'cp_rwsem')]),
      checkpoint: straight('checkpoint', [(n: string) => down_write('sem', 'checkpoint', n, 'cp_rwsem'), up_write('sem', 'checkpoint', 'cp_rwsem')]),
    });
    const trace = checkModel({ model: m }).trace!;
    const cycle = trace.deadlock!.cycle!;
    expect(cycle.find((e) => e.thread === 'creat')).toMatchObject({ resource: 'cp_rwsem', heldBy: 'checkpoint', queued: true });
    expect(cycle.find((e) => e.thread === 'checkpoint')).toMatchObject({ resource: 'cp_rwsem', heldBy: 'creat', heldMode: 'read' });
    expect(cycle.find((e) => e.thread === 'checkpoint')?.queued).toBeUndefined();
    const text = renderTrace(trace);
    // lockdep's order: the read hold, the writer's attempt, then the nested read attempt behind it
    expect(tableRows(text)).toEqual(['rlock(cp_rwsem);', 'lock(cp_rwsem);', 'rlock(cp_rwsem);']);
    expect(text).toMatch(/creat at s2: waits for cp_rwsem \(rwsem down_read \(queued behind a waiting writer\)\), queued behind checkpoint/);
    expect(text).toContain('creat waits for cp_rwsem queued behind checkpoint');
    expect(text).toContain('checkpoint waits for cp_rwsem held by creat');
    expect(text).not.toContain('held by checkpoint');
    // the flag is part of the trace schema (cycle edges and blocked waits), and the trace validates
    const schemaJson = JSON.parse(readFileSync('schemas/trace.schema.json', 'utf8'));
    const valid = new (Ajv as any)({ allErrors: true, strict: false }).compile(schemaJson);
    expect(valid(JSON.parse(JSON.stringify(trace))), JSON.stringify(valid.errors)).toBe(true);
    expect(Object.keys(schemaJson.properties.deadlock.properties.cycle.oneOf[1].items.properties)).toContain('queued');
    expect(Object.keys(schemaJson.definitions.wait.properties)).toContain('queued');
  });

  it("a freezer draining a level's readers shows its lock() once: percpu_down_write is one acquisition, held while it waits", () => {
    // f2fs-gc-freeze-intwrite: the freezer set SB_FREEZE_FS's block (fsync's sb_start_intwrite waits for it) and
    // waits for gc's read hold to drain; lockdep's percpu_down_write takes the class once, before it waits
    const trace = JSON.parse(readFileSync('counterexamples/f2fs-gc-freeze-intwrite.json', 'utf8'));
    const rows = scenarioRows(trace.deadlock.cycle, { calls: 'lockdep' }).rows.map((r) => `${r.thread}:${r.text}`);
    expect(rows).toEqual(['gc:rlock(sb_internal);', 'fsync:lock(gc_mutex);', 'freezer:lock(sb_internal);', 'gc:lock(gc_mutex);', 'fsync:rlock(sb_internal);']);
    expect(tableRows(renderTrace(trace))).toEqual(rows.map((r) => r.slice(r.indexOf(':') + 1)));
    // the same with the calls written as kernel verbs: the held row stands for the acquisition
    expect(scenarioRows(trace.deadlock.cycle, { calls: 'verb' }).rows.filter((r) => r.thread === 'freezer').map((r) => r.text)).toEqual(['lock(sb_internal);']);
    // a thread that holds a lock and takes it again (held by itself) still shows both: lockdep's recursive locking
    const edge = (thread: string, resource: string, heldBy: string): WaitEdge => ({ thread, resource, kind: 'mutex', mode: 'lock', heldBy, heldSince: 1, waitingSince: 1 });
    expect(scenarioRows([edge('t', 'A', 't')]).rows.map((r) => r.text)).toEqual(['lock(A);', 'lock(A);']);
    // and a reader that takes a read hold again behind a writer keeps its second rlock()
    const reread: WaitEdge[] = [
      { thread: 'r', resource: 'S', kind: 'rwsem', mode: 'down_read', heldBy: 'w', queued: true, heldSince: 2, waitingSince: 3 },
      { thread: 'w', resource: 'S', kind: 'rwsem', mode: 'down_write', heldBy: 'r', heldMode: 'read', heldSince: 1, waitingSince: 2 },
    ];
    expect(scenarioRows(reread, { calls: 'lockdep' }).rows.map((r) => `${r.thread}:${r.text}`)).toEqual(['r:rlock(S);', 'w:lock(S);', 'r:rlock(S);']);
  });

  it("a reader queued behind a writer that then blocks on another lock keeps its own time: the writer's wait on that lock is not its attempt on the rwsem", () => {
    // The two-state down_write: w queues on R (step 1), then, before down_write_acquire, needs S, which r took
    // (step 3) before queueing on R behind w (step 4). w's one more step (5) makes its wait on S the later one.
    // r blocked at step 4 because w queued at step 1, not because of w's wait on S (step 5): its row comes first.
    const m = model('queued-then-other', { R: rwsem({ readerSteal: false }), S: mutex() }, {
      w: straight('w', [down_write_queue('R', 'w', 'R'), { guard: 'rQueued' }, mutex_lock('S', 'w', 'S'), down_write_acquire('R', 'w', 'R'), up_write('R', 'w', 'R'), mutex_unlock('S', 'w', 'S')]),
      r: straight('r', [{ guard: 'wQueued' }, mutex_lock('S', 'r', 'S'), (n: string) => down_read('R', 'r', n, 'R'), up_read('R', 'r', 'R'), mutex_unlock('S', 'r', 'S')]),
    }, {
      rQueued: ({ context }: any) => context.R.waiters.includes('r:r'),
      wQueued: ({ context }: any) => context.R.waiters.includes('w:w'),
    });
    const trace = checkModel({ model: m }).trace!;
    expect(trace.steps.map((st) => st.threads.join())).toEqual(['w', 'r', 'r', 'r', 'w']);
    const cycle = trace.deadlock!.cycle!;
    expect(cycle.find((e) => e.thread === 'r')).toMatchObject({ resource: 'R', heldBy: 'w', queued: true, waitingSince: 4 });
    expect(cycle.find((e) => e.thread === 'w')).toMatchObject({ resource: 'S', heldBy: 'r', waitingSince: 5 });
    expect(scenarioRows(cycle, { calls: 'lockdep' }).rows.map((r) => `${r.thread}:${r.text}`)).toEqual(['r:lock(S);', 'r:rlock(R);', 'w:lock(S);']);
  });

  it('a counting semaphore held by two takers that each down() again shows both attempts: neither holds it for write', () => {
    // semaphore(2): a and b each took one (steps 1, 2) and sleep in a second down() (steps 3, 4); each waits for the
    // other's hold ("taken by", no owner): neither is a writer draining readers, whose hold row is its attempt
    const sem = (thread: string, heldBy: string, heldSince: number, waitingSince: number): WaitEdge =>
      ({ thread, resource: 'sem', kind: 'semaphore', mode: 'down (count 0)', heldBy, holdVerb: 'taken', heldSince, waitingSince });
    const cycle = [sem('a', 'b', 2, 3), sem('b', 'a', 1, 4)];
    expect(scenarioRows(cycle, { calls: 'lockdep' }).rows.map((r) => `${r.thread}:${r.text}`)).toEqual(['a:lock(sem);', 'b:lock(sem);', 'a:lock(sem);', 'b:lock(sem);']);
  });
});
