// Trylock retry loops, the livelock demo: an ABBA back-off loop that livelocks even under weak fairness,
// and a spin on mutex_trylock that only livelocks when the scheduler is unfair to the lock holder.
import { setup } from 'xstate';
import { defineModel } from '../../explorer/model.ts';
import { kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_trylock, mutex_unlock } from '../kernel/index.ts';

/**
 * Variant `backoff` (the classic trylock back-off livelock): task0 does
 *     mutex_lock(&A); if (!mutex_trylock(&B)) { mutex_unlock(&A); goto retry; }  ... critical ... unlock both
 * and task1 the same with B and A swapped. In lockstep both take their first lock, both trylocks fail, both
 * back off, forever: a fair non-progress cycle. Success (the trylock that gets the second lock) is progress.
 *
 * Variant `spin`: `holder` takes mutex m `rounds` times (mutex_lock ... mutex_unlock) and returns;
 * `spinner` loops forever on `while (!mutex_trylock(&m)) cpu_relax();` ... mutex_unlock(&m). A successful
 * trylock is progress. Under weak fairness the holder must eventually unlock, and finishes after `rounds`
 * critical sections, so the spin ends: no livelock. With no fairness, the spinner can spin forever while
 * the holder, runnable in its critical section, never runs.
 */
export default defineModel({
  name: 'retry-loop',
  description: 'Trylock retry loops: ABBA back-off livelocks under weak fairness; a trylock spin livelocks only without fairness',
  params: {
    rounds: { default: 1, description: 'spin variant: critical sections the holder runs before it returns', min: 1, max: 4 },
  },
  variants: {
    backoff: { description: 'mutex_lock(A); trylock(B) or unlock(A) and retry, and the mirror image: livelock in lockstep' },
    spin: { description: 'a thread spins on mutex_trylock(m) against a holder that runs `rounds` critical sections' },
  },
  defaultVariant: 'backoff',
  create({ params, variant }) {
    const threads: Record<string, any> = {};
    if (variant === 'backoff') {
      const task = (t: string, first: string, second: string) => ({
        initial: 'lock_first',
        states: {
          // mutex_lock(first)
          lock_first: { on: { [`${t}.mutex_lock`]: { ...mutex_lock(first, t), target: 'trylock_second' } } },
          // if (!mutex_trylock(second)) back off; success is progress
          trylock_second: {
            on: {
              [`${t}.mutex_trylock`]: mutex_trylock(second, t, { ok: 'critical', fail: 'backoff' }).map((tr, i) =>
                i === 0 ? { ...tr, meta: { progress: true } } : tr,
              ),
            },
          },
          // mutex_unlock(first); goto retry
          backoff: { on: { [`${t}.mutex_unlock`]: { ...mutex_unlock(first, t), target: 'lock_first' } } },
          critical: {
            on: { [`${t}.unlock_both`]: { actions: [...mutex_unlock(second, t).actions!, ...mutex_unlock(first, t).actions!], target: 'done' } },
          },
          done: { type: 'final' },
        },
      });
      threads.task0 = task('task0', 'A', 'B');
      threads.task1 = task('task1', 'B', 'A');
    } else {
      const rounds = Number(params.rounds);
      const holder: Record<string, any> = {};
      for (let i = 0; i < rounds; i++) {
        const next = i + 1 < rounds ? `lock${i + 1}` : 'done';
        holder[`lock${i}`] = { on: { 'holder.mutex_lock': { ...mutex_lock('m', 'holder'), target: `critical${i}` } } };
        holder[`critical${i}`] = { on: { 'holder.mutex_unlock': { ...mutex_unlock('m', 'holder'), target: next } } };
      }
      holder.done = { type: 'final' };
      threads.holder = { initial: 'lock0', states: holder };
      threads.spinner = {
        initial: 'trylock',
        states: {
          // while (!mutex_trylock(&m)) cpu_relax(); a failed trylock leaves everything as it was (a self-loop)
          trylock: {
            on: {
              'spinner.mutex_trylock': mutex_trylock('m', 'spinner', { ok: 'critical', fail: 'trylock' }).map((tr, i) =>
                i === 0 ? { ...tr, meta: { progress: true } } : tr,
              ),
            },
          },
          critical: { on: { 'spinner.mutex_unlock': { ...mutex_unlock('m', 'spinner'), target: 'trylock' } } },
        },
      };
    }
    return setup({
      guards: kernelGuards as any,
      actions: kernelActions as any,
    }).createMachine({
      id: 'retry-loop',
      type: 'parallel',
      context: variant === 'backoff' ? { A: mutex(), B: mutex() } : { m: mutex() },
      states: threads,
    });
  },
  waits: kernelWaits,
});
