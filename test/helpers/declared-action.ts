// Test helper: runs a declared action (explorer/compile/lower/declared.ts) on the packed words of a context and
// compares it with the JavaScript it stands for: the same words as the codec gives for the JavaScript result,
// every word changed in place logged for the incremental fingerprint, or a BAIL (where the JavaScript throws: a
// misuse; else a bail the caller counts).
import { expect } from 'vitest';
import { WordBuffer, type ContextCodec } from '../../explorer/codec.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import type { LinkedAction, Linker } from '../../explorer/compile/lower/link.ts';
import { lowerAssign } from '../../explorer/compile/lower/plans.ts';
import { BAIL, WRITES } from '../../explorer/compile/lower/words.ts';

export type DeclaredOp = { name: string; decl: L.ActionDecl; js: (ctx: any, p: any) => any };

/** One run of `op` with params p on `context`: 'agreed' (exact), 'misuse' (BAIL where the JavaScript throws) or 'bailed'. */
export function runDeclaredAction(codec: ContextCodec, linker: Linker, op: DeclaredOp, p: unknown, context: unknown): 'agreed' | 'misuse' | 'bailed' {
  const plan = lowerAssign(Object.assign(() => ({}), { [L.LOWERING]: op.decl }), p);
  expect(plan.plan).not.toBeNull();
  const buf = new WordBuffer(64);
  codec.encode(context, buf);
  const before = buf.view().slice();
  const [ctx] = codec.decode(before, 0);
  let want: number[] | 'throws';
  try {
    const out = new WordBuffer(64);
    codec.encode(op.js(ctx, p), out);
    want = Array.from(out.view());
  } catch {
    want = 'throws';
  }
  linker.newState();
  const out = runOnCopy([linker.action(plan.plan!)], before);
  if (out === null) return want === 'throws' ? 'misuse' : 'bailed';
  expect({ op: op.name, ctx, p, got: Array.from(out.view()) }).toEqual({ op: op.name, ctx, p, got: want });
  expectWritesLogged(op.name, before, out);
  return 'agreed';
}

/**
 * The successor's fingerprint is computed from the logged writes, and from WRITES.from on (where words moved)
 * from every word: a change of length is a move, and every word that changed before the first moved one is logged.
 */
export function expectWritesLogged(name: string, before: Int32Array, out: WordBuffer): void {
  if (WRITES.rehash) return;
  const logged = new Set(Array.from(WRITES.pos.subarray(0, WRITES.count)));
  const moved = Math.min(WRITES.from, before.length, out.length);
  if (out.length !== before.length) expect({ op: name, movedFrom: WRITES.from <= moved }).toEqual({ op: name, movedFrom: true });
  for (let i = 0; i < moved; i++) if (out.words[i] !== before[i]) expect({ op: name, i, logged: logged.has(i) }).toEqual({ op: name, i, logged: true });
}

/** The linked actions run in order on a copy of the words `before`, as the word step makes a successor: the copy, or null where they BAIL. */
export function runOnCopy(actions: LinkedAction[], before: Int32Array): WordBuffer | null {
  const out = new WordBuffer(8);
  out.ensure(before.length);
  out.words.set(before);
  out.length = before.length;
  WRITES.clear();
  try {
    for (const a of actions) a(out);
  } catch (e) {
    if (e !== BAIL) throw e;
    return null;
  }
  return out;
}
