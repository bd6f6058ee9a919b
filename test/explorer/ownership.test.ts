// Events belong to their thread: a name shared by two threads, or prefixed with another thread's name, is a
// compile error naming both threads and the fix, unless the machine declares the joint step.
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compileMachine } from '../../explorer/compile/index.ts';
import { ModelError } from '../../explorer/errors.ts';

const thread = (events: string[]) => ({
  initial: 's0',
  states: { s0: { on: Object.fromEntries(events.map((e) => [e, { target: 's1' }])) }, s1: { type: 'final' as const } },
});
const machine = (states: Record<string, unknown>, meta?: object) => setup({}).createMachine({ type: 'parallel', context: {}, ...(meta ? { meta } : {}), states: states as any });

describe('event ownership', () => {
  it('two threads handling one event name: an error naming both threads, their states and the fix', () => {
    expect(() => compileMachine(machine({ reader: thread(['down_read']), writer: thread(['down_read']) }))).toThrow(
      /event 'down_read' is handled by thread reader \(state reader\.s0\) and thread writer \(state writer\.s0\).*hides their interleavings\. Give each thread its own event \(reader\.down_read, writer\.down_read\); if they really step together, declare it on the machine's root: meta: \{ joint: \['down_read'\] \}/,
    );
  });

  it('a declared joint step compiles and moves both threads in one step', () => {
    const sys = compileMachine(machine({ a: thread(['sync']), b: thread(['sync']) }, { joint: ['sync'] }));
    const r = sys.step(sys.initialLeaves, sys.initialContext, sys.events.indexOf('sync'))!;
    expect(r.taken.map((t) => sys.threads[t.thread].name)).toEqual(['a', 'b']);
  });

  it("an event prefixed with another thread's name is rejected", () => {
    let err: unknown;
    try {
      compileMachine(machine({ a: thread(['a.go']), b: thread(['a.stop']) }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/thread b handles event 'a\.stop' \(state b\.s0\), but its prefix names thread a: .*rename it b\.stop/);
  });

  it('unprefixed events of one thread and prefixes that are not thread names are fine', () => {
    expect(() => compileMachine(machine({ a: thread(['go', 'mutex.lock']), b: thread(['b.go']) }))).not.toThrow();
  });

  it('a malformed joint declaration is an error', () => {
    expect(() => compileMachine(machine({ a: thread(['x']) }, { joint: 'x' }))).toThrow(/meta\.joint must be a list of event names/);
  });
});
