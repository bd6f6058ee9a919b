// Feature rejection: what interleave does not support in a machine, rejected up front with a ModelError
// naming the state, the event, the feature and the fix.
import { ModelError } from '../errors.ts';
import { nodePath } from './nodes.ts';
import type { StateNode } from './types.ts';

/** XState's built-in actions other than assign and log, by type: threads talk only through the context. */
export const UNSUPPORTED_ACTIONS: Record<string, string> = {
  'xstate.raise': 'raise',
  'xstate.sendTo': 'sendTo',
  'xstate.sendParent': 'sendParent',
  'xstate.emit': 'emit',
  'xstate.enqueueActions': 'enqueueActions',
  'xstate.spawnChild': 'spawnChild',
  'xstate.stopChild': 'stopChild',
  'xstate.cancel': 'cancel',
};

export function checkNodeFeatures(node: StateNode, isRoot: boolean): void {
  const where = nodePath(node);
  const cfg = node.config ?? {};
  const reject = (feature: string, fix: string) => {
    throw new ModelError(`state ${where} uses ${feature}, which interleave does not support: ${fix}`, { state: where, feature });
  };
  if (node.type === 'history') reject('a history state', 'model the remembered state in the context instead');
  if (!isRoot && node.type === 'parallel') {
    reject('a parallel state inside a thread', 'make each concurrent activity its own top-level region (thread)');
  }
  if (node.invoke?.length || cfg.invoke) reject('invoke', 'model the invoked activity as its own thread');
  if (cfg.after) reject("'after' (delayed transitions)", 'model time as an explicit thread or event');
  if (cfg.always) reject("'always' (eventless transitions)", 'give the step its own thread-qualified event');
  if (cfg.onDone) reject("'onDone'", 'add an explicit event from the final state instead');
  if (cfg.onError) reject("'onError'", 'remove it; errors are modelled in the context');
  checkNearMisses(where, undefined, cfg, cfg.meta, isRoot ? ROOT_META_KEYS : META_KEYS);
  for (const key of Object.keys(cfg.on ?? {})) {
    checkTransitionKeys(where, key, cfg.on[key]);
    if (key.includes('*')) {
      throw new ModelError(`state ${where} has a wildcard event '${key}', which interleave does not support: name each event`, {
        state: where,
        event: key,
        feature: 'wildcard event',
      });
    }
  }
}

/** The meta keys interleave reads on a state or transition; `joint` is read on the root only. */
const META_KEYS = ['assert', 'progress', 'end', 'waitsFor'];
const ROOT_META_KEYS = [...META_KEYS, 'joint'];
/** The meta keys read on a state only: on a transition (where only `progress` is read) they would never be checked. */
const STATE_ONLY_META_KEYS = ['assert', 'end', 'waitsFor'];
/** XState's state node keys a model is likely to misspell (the short on and id are left out: too many near misses). */
const STATE_KEYS = ['entry', 'exit', 'initial', 'states', 'type', 'meta', 'always', 'after', 'invoke', 'onDone', 'tags', 'description', 'output', 'history'];

/** XState's other config keys (the root's too), never taken for a misspelling (types is one letter from type). */
const OTHER_STATE_KEYS = new Set(['on', 'id', 'context', 'types', 'version', 'schemas', 'target', 'onError', 'order', 'key', 'parent']);

/**
 * Edit distance counting a letter inserted, deleted or replaced, or two neighbours swapped, as one slip
 * (optimal string alignment), at most `cap + 1` (enough to tell a near miss).
 */
function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = row;
  }
  return Math.min(prev[b.length]!, cap + 1);
}

/**
 * The known key `key` misspells, or undefined: the same key in another case, or, for a known key of five letters
 * or more, one slip away; `slips` is how many slips a long key may be off (state keys 2, meta keys 1: a meta
 * key is the model's own word, and ordinary words sit two slips from assert or joint: insert, count, hint; a meta
 * key with only its first letter replaced is another word, not a slip: point beside joint).
 */
function nearMiss(key: string, known: string[], slips: number): string | undefined {
  if (known.includes(key)) return undefined;
  const k0 = key.toLowerCase();
  return known.find((k) => {
    const k1 = k.toLowerCase();
    if (k1 === k0) return true;
    if (k.length < 5) return slips > 1 && distance(k0, k1, 1) <= 1;
    // one slip that replaces the first letter makes another word (point for joint), not a misspelling
    if (slips === 1 && k0.length === k1.length && k0[0] !== k1[0] && k0.slice(1) === k1.slice(1)) return false;
    return distance(k0, k1, slips) <= slips;
  });
}

/**
 * Refuses a state key or meta key that misspells one XState or interleave reads (meta: { asert }, enter: ...): the
 * assertion, progress mark or action would be left out without a word. Keys far from every known one are the model's own.
 */
function checkNearMisses(where: string, event: string | undefined, state: Record<string, unknown> | undefined, meta: unknown, metaKeys: string[]): void {
  const at = event === undefined ? `state ${where}` : `state ${where} on event ${event}`;
  const refuse = (what: string, key: string, known: string, lost: string) => {
    throw new ModelError(`${at}: ${what} '${key}' looks like a misspelling of '${known}', which ${lost}; fix its spelling (or rename the key if it is the model's own)`, {
      state: where,
      ...(event === undefined ? {} : { event }),
      feature: what,
    });
  };
  for (const key of Object.keys(state ?? {})) {
    if (OTHER_STATE_KEYS.has(key)) continue;
    const known = nearMiss(key, STATE_KEYS, 2);
    if (known) refuse('key', key, known, 'XState reads and this state would go without');
  }
  if (!meta || typeof meta !== 'object') return;
  for (const key of Object.keys(meta)) {
    if (event !== undefined && STATE_ONLY_META_KEYS.includes(key)) {
      throw new ModelError(`${at}: meta key '${key}' on a transition is read on states only, so it would never be checked here; move it to the meta of a state (e.g. the target's)`, {
        state: where,
        event,
        feature: 'meta key',
      });
    }
    const known = nearMiss(key, metaKeys, 1);
    if (known) refuse('meta key', key, known, 'interleave reads and would not check here');
  }
}

/** The keys of an XState v5 transition: XState ignores any other, so a misspelt or misplaced one would drop silently. */
const TRANSITION_KEYS = new Set(['target', 'guard', 'actions', 'reenter', 'description', 'meta']);

/**
 * Refuses a transition object with a key XState ignores: a list of transitions spread into an object (the kernel's
 * blocking calls and trylocks return one: `{ ...down_read(...), target }` leaves keys '0', '1' and drops the lock),
 * XState v4's `internal`, a misspelling. Each would run the step without its guard or actions.
 */
function checkTransitionKeys(where: string, event: string, value: unknown): void {
  for (const t of Array.isArray(value) ? value : [value]) {
    if (!t || typeof t !== 'object') continue;
    checkNearMisses(where, event, undefined, (t as { meta?: unknown }).meta, META_KEYS);
    for (const k of Object.keys(t)) {
      if (TRANSITION_KEYS.has(k)) continue;
      const fix = /^\d+$/.test(k)
        ? `a list of transitions (what down_read, down_write, the trylocks and other blocking calls return) was spread into an object; give the list as the event's value: '${event}': down_read(lock, thread, next), not { ...down_read(...), target }`
        : `a transition takes only ${[...TRANSITION_KEYS].join(', ')}; fix its spelling or remove it`;
      throw new ModelError(`state ${where} on event ${event}: the transition has key '${k}', which XState ignores (the step would run without it): ${fix}`, {
        state: where,
        event,
        feature: 'transition key',
      });
    }
  }
}

/** The machine's root: a parallel state (one region per thread) with no transitions of its own. */
export function checkRoot(root: StateNode): void {
  if (root.type !== 'parallel') {
    throw new ModelError(
      `the machine's root is '${root.type}', but interleave needs type: 'parallel' at the root, ` +
        `with one top-level region per thread`,
      { state: '(root)', feature: 'root type' },
    );
  }
  checkNodeFeatures(root, true);
  if (root.config.on && Object.keys(root.config.on).length) {
    const ev = Object.keys(root.config.on)[0];
    throw new ModelError(`the root declares 'on' (event ${ev}); events belong to threads: move the transition into a thread`, {
      state: '(root)',
      event: ev,
      feature: 'root transition',
    });
  }
}
