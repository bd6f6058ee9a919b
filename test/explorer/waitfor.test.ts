// Pins the wait-for cycle search and the one deadlock renderer (renderDeadlock) every report uses.
import { describe, expect, it } from 'vitest';
import { buildWaitFor, renderDeadlock, type BlockedThread } from '../../explorer/waitfor.ts';
import { kernelWaits, mutex_lock, mutex_unlock, mutex, type LockParams } from '../../machines/kernel/index.ts';
import { explore, straight, tinyModel, where } from '../machines/kernel/harness.ts';

describe('buildWaitFor', () => {
  it('finds the ABBA cycle of a real deadlocked state, with the kernel describers', () => {
    const m = tinyModel({ a: mutex(), b: mutex() }, {
      fiemap: straight('fiemap', [mutex_lock('a', 'fiemap', 'extent leaf'), mutex_lock('b', 'fiemap', 'folio 0'), mutex_unlock('b', 'fiemap'), mutex_unlock('a', 'fiemap')]),
      writer: straight('writer', [mutex_lock('b', 'writer', 'folio 0'), mutex_lock('a', 'writer', 'extent leaf'), mutex_unlock('a', 'writer'), mutex_unlock('b', 'writer')]),
    });
    const d = explore(m).deadlocks;
    expect(d.length).toBe(1);
    const loc = where(d[0]);
    // what the lead's engine does: the describers of the named guards of each thread's candidate transitions
    const blocked: BlockedThread[] = ['fiemap', 'writer'].map((t) => {
      const node = m.getStateNodeById(`tiny.${t}.${loc[t]}`);
      const waits = [...node.transitions.values()].flat().flatMap((tr: any) => {
        const w = kernelWaits[tr.guard.type]?.(d[0].context, tr.guard.params as LockParams);
        return w ? [w] : [];
      });
      return { thread: t, state: loc[t], waits };
    });
    const r = buildWaitFor(blocked);
    expect(r.cycle).toEqual([
      { thread: 'fiemap', resource: 'folio 0', kind: 'mutex', mode: 'lock', heldBy: 'writer' },
      { thread: 'writer', resource: 'extent leaf', kind: 'mutex', mode: 'lock', heldBy: 'fiemap' },
    ]);
    const text = renderDeadlock(r, { columns: ['fiemap', 'writer'] });
    expect(text).toContain('Possible unsafe locking scenario');
    expect(text).toContain('*** DEADLOCK ***');
    expect(text).toContain('Wait-for cycle:\n  fiemap waits for folio 0 held by writer\n  → writer waits for extent leaf held by fiemap\n  → back to fiemap');
    expect(text).toContain('writer at s1: waits for extent leaf (mutex lock), held by fiemap');
    // one column per thread: fiemap's rows start at the left column, writer's are indented
    const rows: string[] = text.split('\n');
    const start = rows.findIndex((l) => l.includes('Possible unsafe locking scenario'));
    const header = rows.findIndex((l, i) => i > start && l.includes('fiemap') && l.includes('writer'));
    expect(rows[header].indexOf('fiemap')).toBeLessThan(rows[header].indexOf('writer'));
    const col = rows[header].indexOf('writer');
    expect(rows.filter((l) => l.indexOf('lock(') === col).length).toBe(2);
  });

  it('is deterministic, rotates the cycle to the first blocked thread, and skips non-cycle branches', () => {
    const w = (resource: string, ...holders: string[]) => ({ resource, kind: 'mutex', mode: 'lock', holders });
    const blocked: BlockedThread[] = [
      { thread: 'a', state: 's', waits: [w('x', 'done_thread'), w('y', 'b')] },
      { thread: 'b', state: 's', waits: [w('z', 'c')] },
      { thread: 'c', state: 's', waits: [w('q', 'b')] },
    ];
    const r = buildWaitFor(blocked);
    expect(r.cycle?.map((e) => `${e.thread}->${e.heldBy}`)).toEqual(['b->c', 'c->b']);
    expect(buildWaitFor(blocked)).toEqual(r);
  });

  it('reports no cycle when the holder is not blocked, and a self-deadlock as a cycle of one', () => {
    const none = buildWaitFor([{ thread: 'a', state: 's', waits: [{ resource: 'done', kind: 'completion', holders: [] }] }]);
    expect(none.cycle).toBeNull();
    expect(renderDeadlock(none)).toContain('No wait-for cycle');
    // Threads whose wait the model does not describe (no waits: kernelWaits): no claim about what they wait for.
    const undescribed = buildWaitFor([
      { thread: 'a', state: 's', waits: [] },
      { thread: 'b', state: 's', waits: [] },
    ]);
    expect(renderDeadlock(undescribed)).not.toMatch(/waits for something nobody will release/);
    expect(renderDeadlock(undescribed)).toMatch(/No wait-for cycle found: the model does not say what a, b wait for; .*type: 'final'.*waits: kernelWaits/);
    const self = buildWaitFor([{ thread: 'a', state: 's', waits: [{ resource: 'm', kind: 'mutex', mode: 'lock', holders: ['a'] }] }]);
    expect(self.cycle).toEqual([{ thread: 'a', resource: 'm', kind: 'mutex', mode: 'lock', heldBy: 'a' }]);
  });

  it('names a wait once when its mode already is the call of its kind (wait_event(cond), not "wait_event wait_event(cond)")', () => {
    const r = buildWaitFor([
      { thread: 'kworker', state: 'wait_on_inode', waits: [kernelWaits.cond_false({ inode: { i_new: true } }, { path: 'inode.i_new', name: 'inode I_NEW', by: ['creator'] })!] },
      { thread: 'creator', state: 'cancel_wait', waits: [{ resource: 'gl_delete', kind: 'workqueue', mode: 'cancel_work_sync (wait for the running instance)', holders: ['kworker'] }] },
    ]);
    const text = renderDeadlock(r);
    expect(text).toContain('kworker at wait_on_inode: waits for inode I_NEW (wait_event(!inode.i_new)), creator must wake_up');
    expect(text).not.toContain('wait_event wait_event');
    // a mode that is not the kind's own call keeps the kind
    expect(text).toContain('creator at cancel_wait: waits for gl_delete (workqueue cancel_work_sync (wait for the running instance)), held by kworker');
  });

  it('without a cycle, names the holders that have finished: a wake-up or release that will never come (jbd2 9837d8e982b7)', () => {
    // locker sleeps on j_wait_updates for handle's wake_up; handle already woke the empty queue and finished
    const blocked: BlockedThread[] = [
      { thread: 'locker', state: 'sleep', waits: [{ resource: 'j_wait_updates', kind: 'waitqueue', mode: 'schedule (wait for wake_up)', holders: ['handle'], act: 'wake_up' }] },
    ];
    const text = renderDeadlock(buildWaitFor(blocked));
    expect(text).toContain('No wait-for cycle among the blocked threads: locker waits for j_wait_updates from handle, which has finished (a wake_up() it did before locker waited was lost, or it never does one).');
    // a holder idle at a valid end is not finished; nor is a blocked one
    const idle = { ...buildWaitFor(blocked), idle: [{ thread: 'handle', state: 'idle' }] };
    expect(renderDeadlock(idle)).toContain('No wait-for cycle among the blocked threads: a thread waits for something nobody will release or signal.');
    // a lock whose holder finished holding it
    const held = buildWaitFor([{ thread: 'a', state: 's', waits: [{ resource: 'm', kind: 'mutex', mode: 'lock', holders: ['b'] }] }]);
    expect(renderDeadlock(held)).toContain('a waits for m held by b, which has finished (it finished holding it: nothing releases it).');
  });
});

