// Two tasks, two mutexes: the ABBA lock-order inversion lockdep warns about, and the fixed lock order.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';

type Ctx = { owner: { A: string; B: string }; inCritical: number };

/**
 * task0 takes A then B; task1 takes B then A (variant `abba`) or A then B (variant `ordered`).
 * Each mutex records its owner thread, or '' when free. Both tasks finish (a final state).
 */
export default defineModel({
  name: 'abba',
  description: 'Two tasks taking two mutexes in opposite orders (ABBA) deadlock; one global lock order does not',
  params: {},
  variants: {
    abba: { description: 'task1 locks B then A: lock-order inversion, deadlock' },
    ordered: { description: 'both tasks lock A then B: no deadlock' },
  },
  defaultVariant: 'abba',
  create({ variant }) {
    const task = (name: string, first: 'A' | 'B', second: 'A' | 'B'): any => ({
      initial: 'idle',
      states: {
        idle: {
          on: {
            [`${name}.lock_${first}`]: {
              guard: { type: 'mutexFree', params: { lock: first } },
              actions: { type: 'lock', params: { lock: first, thread: name } },
              target: 'holdsFirst',
            },
          },
        },
        holdsFirst: {
          on: {
            [`${name}.lock_${second}`]: {
              guard: { type: 'mutexFree', params: { lock: second } },
              actions: [{ type: 'lock', params: { lock: second, thread: name } }, 'enter'],
              target: 'critical',
            },
          },
        },
        critical: {
          meta: { assert: 'mutualExclusion', progress: true },
          on: {
            [`${name}.unlock`]: {
              actions: [{ type: 'unlock', params: { lock: second } }, { type: 'unlock', params: { lock: first } }, 'leave'],
              target: 'done',
            },
          },
        },
        done: { type: 'final' as const },
      },
    });
    const [f1, s1] = variant === 'ordered' ? (['A', 'B'] as const) : (['B', 'A'] as const);
    return setup({
      types: {} as { context: Ctx },
      guards: {
        mutexFree: ({ context }, p: { lock: 'A' | 'B' }) => context.owner[p.lock] === '',
      },
      actions: {
        lock: assign({ owner: ({ context }, p: { lock: 'A' | 'B'; thread: string }) => ({ ...context.owner, [p.lock]: p.thread }) }),
        unlock: assign({ owner: ({ context }, p: { lock: 'A' | 'B' }) => ({ ...context.owner, [p.lock]: '' }) }),
        enter: assign({ inCritical: ({ context }) => context.inCritical + 1 }),
        leave: assign({ inCritical: ({ context }) => context.inCritical - 1 }),
      },
    }).createMachine({
      id: 'abba',
      type: 'parallel',
      context: { owner: { A: '', B: '' }, inCritical: 0 },
      states: { task0: task('task0', 'A', 'B'), task1: task('task1', f1, s1) },
    });
  },
  assertions: {
    mutualExclusion: (ctx: Context) => ctx.inCritical <= 1,
  },
  waits: {
    mutexFree: (ctx, p: { lock: 'A' | 'B' }) =>
      ctx.owner[p.lock] === '' ? null : { resource: `mutex ${p.lock}`, kind: 'mutex', mode: 'lock', holders: [ctx.owner[p.lock]] },
  },
});
