// Pins replay across variants: it follows the events, not the state names, and says at which event the
// other variant diverges, where each thread of that event is, and why (no such transition, or what it waits for).
import { describe, expect, it } from 'vitest';
import { checkModel, instantiate, resolveParams } from '../../explorer/index.ts';
import { replayTrace } from '../../explorer/replay.ts';
import philosophers from '../../machines/philosophers/index.ts';
import sbFreeze from '../../machines/sb-freeze/index.ts';

const crossReplay = (model: typeof philosophers, variant: string, fixed: string, params: Record<string, unknown> = {}) => {
  const r = checkModel({ model, variant, params: params as any });
  expect(r.verdict.status).toBe('violation');
  const p = resolveParams(model, params);
  return replayTrace(instantiate(model, p, fixed), model, r.trace!, {}, { strictLocations: false });
};

describe('replay on another variant', () => {
  it('reports the first event the fixed variant does not allow, with what the thread waits for', () => {
    const r = crossReplay(philosophers, 'naive', 'ordered', { n: 4 });
    expect(r.status).toBe('diverged');
    expect(r.step).toBe(4);
    expect(r.reason).toMatch(/^event p3\.takeFirst is not enabled: p3 is at thinking: it waits for fork 0 \(fork, take, held by p0\)$/);
  });

  it('a variant whose thread has no such transition where it stands says so, with the events it has there', () => {
    const r = crossReplay(sbFreeze, 'umount-held', 'generic');
    expect(r.status).toBe('diverged');
    expect(r.reason).toMatch(/freezer is at freeze_super\.F6_up_write_s_umount, which has no transition on it \(its events there: freezer\.F6_up_write_s_umount\)/);
  });
});
