// `interleave init DIR`: scaffolds a first model in a new folder: the model, two specs (the buggy variant
// deadlocks, the fixed one passes) and a vitest test. Refuses a folder that already holds any of its files.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../explorer/errors.ts';

const MODEL = `// My first interleave model: two tasks take two mutexes. Variant \`abba\` takes them in opposite orders
// (the lock-order inversion lockdep warns about) and deadlocks; variant \`ordered\` takes them in one order.
// Each state says which kernel call it mirrors. Check it: interleave check .   (from this folder)
// setup comes from interleave (its own xstate): the same under the CLI and under vitest, whatever xstate this folder has.
import { defineModel, setup } from 'interleave';
import { kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock } from 'interleave/kernel';

/** One task: mutex_lock(first); mutex_lock(second); ...; mutex_unlock(second); mutex_unlock(first). */
function task(me: string, first: string, second: string) {
  return {
    initial: 'idle',
    states: {
      // mutex_lock(&first): blocks while another task owns it
      idle: { on: { [\`\${me}.lock_\${first}\`]: { ...mutex_lock(first, me), target: 'holdsFirst' } } },
      // mutex_lock(&second), holding first
      holdsFirst: { on: { [\`\${me}.lock_\${second}\`]: { ...mutex_lock(second, me), target: 'critical' } } },
      // the critical section; then mutex_unlock(&second); mutex_unlock(&first)
      critical: {
        on: {
          [\`\${me}.unlock\`]: {
            actions: [...mutex_unlock(second, me).actions!, ...mutex_unlock(first, me).actions!],
            target: 'done',
          },
        },
      },
      // return 0: a valid end
      done: { type: 'final' as const },
    },
  };
}

export default defineModel({
  name: 'my-model',
  description: 'Two tasks, two mutexes: ABBA deadlocks, one lock order does not',
  params: {},
  variants: {
    abba: { description: 'task1 takes b then a: lock-order inversion' },
    ordered: { description: 'both tasks take a then b' },
  },
  defaultVariant: 'abba',
  create: ({ variant }) =>
    setup({ guards: kernelGuards, actions: kernelActions }).createMachine({
      type: 'parallel', // one region per thread
      context: { a: mutex(), b: mutex() }, // the shared kernel state
      states: {
        task0: task('task0', 'a', 'b'),
        task1: variant === 'abba' ? task('task1', 'b', 'a') : task('task1', 'a', 'b'),
      },
    }),
  // Deadlock reports name each lock and its holder.
  waits: kernelWaits,
});
`;

const SPEC_ABBA = {
  description: 'ABBA: task0 holds a and waits for b, task1 holds b and waits for a',
  model: './model.ts',
  variant: 'abba',
  expect: { status: 'violation', kind: 'deadlock', depth: 2 },
};

const SPEC_ORDERED = {
  description: 'one lock order: no deadlock',
  model: './model.ts',
  variant: 'ordered',
  expect: { status: 'pass' },
};

const TEST = `// The model's tests: run with npx vitest run (vitest and interleave installed in this folder; see interleave's README).
import { describe, expect, it } from 'vitest';
import { check, crossCheck } from 'interleave/testing';
import model from './model.ts';

describe('my-model', () => {
  it('deadlocks when the tasks take the mutexes in opposite orders', async () => {
    expect(await check(model, { variant: 'abba' })).toViolate('deadlock');
  });
  it('is deadlock-free with one lock order', async () => {
    expect(await check(model, { variant: 'ordered' })).toBeDeadlockFree();
  });
  it("agrees with XState's own transition() on every reachable state", async () => {
    expect(await crossCheck(model, { variant: 'abba' })).toAgree();
  });
});
`;

/** Writes the scaffold into `dir` (created if missing); returns the files written, relative to it. */
export function scaffold(dir: string): string[] {
  const files: Record<string, string> = {
    'model.ts': MODEL,
    'abba.json': JSON.stringify(SPEC_ABBA, null, 2) + '\n',
    'ordered.json': JSON.stringify(SPEC_ORDERED, null, 2) + '\n',
    'model.test.ts': TEST,
  };
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new InputError(`init ${dir}: it is a file, not a folder; give a new or empty folder`);
    const clash = Object.keys(files).filter((f) => readdirSync(dir).includes(f));
    if (clash.length) throw new InputError(`init ${dir}: it already holds ${clash.join(', ')}; nothing was written: give a new or empty folder`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`init ${dir}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a path where a folder can be made`);
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`init ${dir}: cannot write in the folder (permission denied); give a folder you can write to`);
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { flag: 'wx' });
  return Object.keys(files);
}
