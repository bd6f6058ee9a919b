// Dining philosophers: the classic deadlock demo, used to cross-check state counts with SPIN and rumur.
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';

/**
 * N philosophers around a table, fork i between philosopher i-1 and philosopher i.
 * Each philosopher: thinking -> takes its left fork (fork i) when free -> hasLeft
 * -> takes its right fork (fork (i+1) mod N) when free -> eating -> releases both -> thinking.
 * `forks[k]` holds the owning philosopher's index, or -1.
 * Variant `ordered` breaks the cycle: the last philosopher picks up its right fork first.
 */
export default defineModel({
  name: 'philosophers',
  description: 'Dining philosophers; every philosopher takes the left fork first and deadlocks with all holding one fork',
  params: {
    n: { default: 4, description: 'number of philosophers', min: 2, max: 32 },
  },
  variants: {
    naive: { description: 'everyone takes the left fork first: deadlock when all hold one fork' },
    ordered: { description: 'the last philosopher takes its right fork first: no deadlock' },
  },
  defaultVariant: 'naive',
  create({ params, variant }) {
    const n = Number(params.n);
    const threads: Record<string, any> = {};
    for (let i = 0; i < n; i++) {
      const left = i;
      const right = (i + 1) % n;
      const [first, second] = variant === 'ordered' && i === n - 1 ? [right, left] : [left, right];
      threads[`p${i}`] = {
        initial: 'thinking',
        states: {
          thinking: {
            on: {
              [`p${i}.takeFirst`]: {
                guard: { type: 'forkFree', params: { fork: first } },
                actions: { type: 'take', params: { fork: first, who: i } },
                target: 'hasOne',
              },
            },
          },
          hasOne: {
            on: {
              [`p${i}.takeSecond`]: {
                guard: { type: 'forkFree', params: { fork: second } },
                actions: { type: 'take', params: { fork: second, who: i } },
                target: 'eating',
              },
            },
          },
          eating: {
            meta: { progress: true },
            on: {
              [`p${i}.release`]: {
                actions: [
                  { type: 'put', params: { fork: first } },
                  { type: 'put', params: { fork: second } },
                ],
                target: 'thinking',
              },
            },
          },
        },
      };
    }
    return setup({
      types: {} as { context: { forks: number[] } },
      guards: {
        forkFree: ({ context }, p: { fork: number }) => context.forks[p.fork] === -1,
      },
      actions: {
        take: assign({
          forks: ({ context }, p: { fork: number; who: number }) => {
            const forks = context.forks.slice();
            forks[p.fork] = p.who;
            return forks;
          },
        }),
        put: assign({
          forks: ({ context }, p: { fork: number }) => {
            const forks = context.forks.slice();
            forks[p.fork] = -1;
            return forks;
          },
        }),
      },
    }).createMachine({
      id: 'philosophers',
      type: 'parallel',
      context: { forks: Array.from({ length: n }, () => -1) },
      states: threads,
    });
  },
  invariants: {
    // A fork has at most one owner and the owner is one of its two neighbours.
    forkOwnedByNeighbour: (ctx: Context) =>
      ctx.forks.every((o: number, k: number) => o === -1 || o === k || (o + 1) % ctx.forks.length === k),
  },
  waits: {
    forkFree: (ctx, p: { fork: number }) =>
      ctx.forks[p.fork] === -1
        ? null
        : { resource: `fork ${p.fork}`, kind: 'fork', mode: 'take', holders: [`p${ctx.forks[p.fork]}`] },
  },
});
