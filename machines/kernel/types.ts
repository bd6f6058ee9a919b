// Shared types for kernel primitives: typed assign wrapper so registries keep literal names in setup() inference.
import { assign, type ActionFunction } from 'xstate';
import type { Context, WaitInfo } from '../../explorer/model.ts';

/** A kernel assign action with params P, typed loosely enough to spread into any model's setup({ actions }). */
export type KAction<P> = ActionFunction<any, any, any, P, any, any, any, any, any>;
/** A kernel guard with params P. */
export type KGuard<P> = (args: { context: Context }, params: P) => boolean;
export type WaitFn = (context: Context, params: any) => WaitInfo | null;

/** assign() whose function gets ({ context }, params) and returns the context patch. */
export function kAssign<P>(fn: (args: { context: Context }, params: P) => Context): KAction<P> {
  return assign(fn as any) as unknown as KAction<P>;
}
