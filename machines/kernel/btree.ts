// bcachefs btree transaction over six-locked nodes (fs/bcachefs/six.c, btree_locking.c): lock, unlock all, relock or restart.
//
// State at a context path, built by btree({ nodes: ['leaf'], threads: ['fiemap', 'writer'] }):
//   { nodes: { [node]: { readers: sorted threads, intent: thread|null, write: thread|null, writePending: thread|null } },
//     trans: { [thread]: { locked: [{ node, mode }], saved: [{ node, mode, valid }], restarted: bool } } }
// Six lock modes: read/read and read/intent are compatible; intent excludes intent; write needs the
// caller's intent and excludes read. A pending writer (six_lock_write waiting for readers) blocks NEW
// readers. Each thread owns one btree_trans.
// Sequence numbers without counters: six_lock_write bumps the node's seq, which makes every path that saved
// the old seq fail to relock. Here, taking a write lock marks every OTHER transaction's saved (unlocked)
// entry for that node `valid: false` — the same predicate as "seq changed since unlock", but bounded.
// - bch2_trans_unlock(trans): every held lock is dropped and remembered (write is remembered as intent).
// - bch2_trans_relock(trans): if every remembered entry is still valid and its lock can be taken at once,
//   all are re-taken; otherwise nothing is taken, the trans is marked `restarted`
//   (-BCH_ERR_transaction_restart_relock) and the model must go through bch2_trans_begin().
// - bch2_trans_begin(trans): drop everything, clear `restarted`.
// Not modelled: bcachefs's own cycle detector among btree_trans (a blocking btree lock that would close a
// cycle restarts instead); models that need it use the trylock helpers and restart.
// Params: { btree: path, thread, node?, mode?, name? }.
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, removeOne, updateIn } from './path.ts';
import { kAssign, type WaitFn } from './types.ts';
import { tryBranch, type Step, type TryTargets } from './locks.ts';

type Args = { context: Context };
export type SixMode = 'read' | 'intent' | 'write';

export interface SixState {
  readers: string[];
  intent: string | null;
  write: string | null;
  writePending: string | null;
}
export interface TransLock {
  node: string;
  mode: SixMode;
}
export interface TransState {
  locked: TransLock[];
  saved: Array<TransLock & { valid: boolean }>;
  restarted: boolean;
}
export interface BtreeState {
  nodes: Record<string, SixState>;
  trans: Record<string, TransState>;
}
export interface BtreeParams {
  btree: string;
  thread: string;
  node?: string;
  mode?: SixMode;
  name?: string;
}

export const six = (): SixState => ({ readers: [], intent: null, write: null, writePending: null });
export const btreeTrans = (): TransState => ({ locked: [], saved: [], restarted: false });
export const btree = (o: { nodes: string[]; threads: string[] }): BtreeState => ({
  nodes: Object.fromEntries(o.nodes.map((n) => [n, six()])),
  trans: Object.fromEntries(o.threads.map((t) => [t, btreeTrans()])),
});

const misuse = (p: BtreeParams, what: string): never => {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} (btree ${p.btree}${p.node ? `, node ${p.node}` : ''})`);
};
const nodeOf = (s: BtreeState, p: BtreeParams): SixState => {
  const n = p.node !== undefined ? s.nodes[p.node] : undefined;
  if (!n) misuse(p, `names an unknown node (nodes: ${Object.keys(s.nodes).join(', ')})`);
  return n!;
};
const transOf = (s: BtreeState, p: BtreeParams): TransState => {
  const t = s.trans[p.thread];
  if (!t) misuse(p, `has no btree_trans (threads: ${Object.keys(s.trans).join(', ')})`);
  return t;
};

/** Can `thread` take `mode` on the node right now? (write: the caller must hold intent.) */
function canTake(n: SixState, mode: SixMode, thread: string): boolean {
  switch (mode) {
    case 'read':
      return n.write === null && n.writePending === null;
    case 'intent':
      return n.intent === null;
    case 'write':
      return n.intent === thread && n.write === null && n.readers.length === 0;
  }
}
function take(n: SixState, mode: SixMode, thread: string): SixState {
  switch (mode) {
    case 'read':
      return { ...n, readers: insertSorted(n.readers, thread) };
    case 'intent':
      return { ...n, intent: thread };
    case 'write':
      return { ...n, write: thread, writePending: null };
  }
}
/** Drops every mode `thread` holds on the node. */
function release(n: SixState, thread: string): SixState {
  let readers = n.readers;
  let r: string[] | null;
  while ((r = removeOne(readers, thread)) !== null) readers = r;
  return {
    readers,
    intent: n.intent === thread ? null : n.intent,
    write: n.write === thread ? null : n.write,
    writePending: n.writePending === thread ? null : n.writePending,
  };
}
/** A write lock on `node` by `thread`: every other transaction's saved entry for it no longer relocks. */
function invalidate(trans: Record<string, TransState>, node: string, thread: string): Record<string, TransState> {
  const out: Record<string, TransState> = {};
  for (const [t, tr] of Object.entries(trans)) {
    out[t] =
      t !== thread && tr.saved.some((e) => e.node === node && e.valid)
        ? { ...tr, saved: tr.saved.map((e) => (e.node === node ? { ...e, valid: false } : e)) }
        : tr;
  }
  return out;
}
function lockIn(s: BtreeState, p: BtreeParams, mode: SixMode): BtreeState {
  const node = p.node!;
  const n = nodeOf(s, p);
  if (!canTake(n, mode, p.thread) && !(mode === 'write' && n.writePending === p.thread && n.readers.length === 0)) {
    misuse(p, `takes ${mode} on a node it cannot lock now`);
  }
  const tr = transOf(s, p);
  const locked: TransLock[] =
    mode === 'write'
      ? tr.locked.map((l) => (l.node === node && l.mode === 'intent' ? { node, mode: 'write' as SixMode } : l))
      : [...tr.locked, { node, mode }];
  const trans = { ...s.trans, [p.thread]: { ...tr, locked } };
  return {
    nodes: { ...s.nodes, [node]: take(n, mode, p.thread) },
    trans: mode === 'write' ? invalidate(trans, node, p.thread) : trans,
  };
}
function unlockAll(s: BtreeState, thread: string): { nodes: Record<string, SixState>; locked: TransLock[] } {
  const tr = s.trans[thread];
  const nodes = { ...s.nodes };
  for (const l of tr.locked) nodes[l.node] = release(nodes[l.node], thread);
  return { nodes, locked: tr.locked };
}
function relockOk(s: BtreeState, thread: string): boolean {
  const tr = s.trans[thread];
  let nodes = s.nodes;
  for (const e of tr.saved) {
    if (!e.valid || !canTake(nodes[e.node], e.mode, thread)) return false;
    nodes = { ...nodes, [e.node]: take(nodes[e.node], e.mode, thread) };
  }
  return true;
}

export const btreeGuards = {
  // six_lock_{read,intent}() / btree_node_lock(): can take `mode` now
  btree_can_lock: ({ context }: Args, p: BtreeParams) => canTake(nodeOf(getIn(context, p.btree), p), p.mode!, p.thread),
  btree_trylock_ok: ({ context }: Args, p: BtreeParams) => canTake(nodeOf(getIn(context, p.btree), p), p.mode!, p.thread),
  // six_lock_write() second half: the old readers drained
  btree_write_ready: ({ context }: Args, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    return n.readers.length === 0 && n.write === null;
  },
  // bch2_trans_relock() would succeed
  btree_relock_ok: ({ context }: Args, p: BtreeParams) => relockOk(getIn(context, p.btree), p.thread),
  btree_trans_restarted: ({ context }: Args, p: BtreeParams) => transOf(getIn(context, p.btree), p).restarted,
  btree_holds: ({ context }: Args, p: BtreeParams) =>
    transOf(getIn(context, p.btree), p).locked.some((l) => l.node === p.node && (p.mode === undefined || l.mode === p.mode)),
};

export const btreeActions = {
  btree_lock: kAssign(({ context }, p: BtreeParams) => updateIn(context, p.btree, (s: BtreeState) => lockIn(s, p, p.mode!))),
  // six_lock_write() first half: announce (new readers now wait), requires intent
  btree_write_pending: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const n = nodeOf(s, p);
      if (n.intent !== p.thread) misuse(p, 'write-locks a node without holding intent');
      return { ...s, nodes: { ...s.nodes, [p.node!]: { ...n, writePending: p.thread } } };
    }),
  ),
  // six_unlock_write(): back to intent
  btree_unlock_write: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const n = nodeOf(s, p);
      if (n.write !== p.thread) misuse(p, 'unlocks write it does not hold');
      const tr = transOf(s, p);
      return {
        nodes: { ...s.nodes, [p.node!]: { ...n, write: null } },
        trans: { ...s.trans, [p.thread]: { ...tr, locked: tr.locked.map((l) => (l.node === p.node && l.mode === 'write' ? { node: l.node, mode: 'intent' as SixMode } : l)) } },
      };
    }),
  ),
  // btree_node_unlock(): drop this trans's locks on one node
  btree_unlock_node: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const tr = transOf(s, p);
      if (!tr.locked.some((l) => l.node === p.node)) misuse(p, 'unlocks a node it does not hold');
      return {
        nodes: { ...s.nodes, [p.node!]: release(nodeOf(s, p), p.thread) },
        trans: { ...s.trans, [p.thread]: { ...tr, locked: tr.locked.filter((l) => l.node !== p.node) } },
      };
    }),
  ),
  // bch2_trans_unlock(): drop all, remember them for relock
  btree_trans_unlock: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const tr = transOf(s, p);
      const { nodes, locked } = unlockAll(s, p.thread);
      const saved = [...tr.saved, ...locked.map((l) => ({ node: l.node, mode: (l.mode === 'write' ? 'intent' : l.mode) as SixMode, valid: true }))];
      return { nodes, trans: { ...s.trans, [p.thread]: { ...tr, locked: [], saved } } };
    }),
  ),
  // bch2_trans_relock() success: re-take every remembered lock
  btree_relock: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      if (!relockOk(s, p.thread)) misuse(p, 'relocks when relock cannot succeed');
      const tr = transOf(s, p);
      let nodes = s.nodes;
      for (const e of tr.saved) nodes = { ...nodes, [e.node]: take(nodes[e.node], e.mode, p.thread) };
      const locked = [...tr.locked, ...tr.saved.map((e) => ({ node: e.node, mode: e.mode }))];
      return { nodes, trans: { ...s.trans, [p.thread]: { ...tr, locked, saved: [] } } };
    }),
  ),
  // bch2_trans_relock() failure: -BCH_ERR_transaction_restart_relock
  btree_relock_fail: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const tr = transOf(s, p);
      const { nodes } = unlockAll(s, p.thread);
      return { nodes, trans: { ...s.trans, [p.thread]: { locked: [], saved: [], restarted: true } } };
    }),
  ),
  // bch2_trans_begin(): start (over) with nothing locked
  btree_trans_begin: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      transOf(s, p);
      const { nodes } = unlockAll(s, p.thread);
      return { nodes, trans: { ...s.trans, [p.thread]: btreeTrans() } };
    }),
  ),
};

const nname = (p: BtreeParams) => p.name ?? `btree node ${p.node}`;
export const btreeWaits: Record<string, WaitFn> = {
  btree_can_lock: (context, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    if (canTake(n, p.mode!, p.thread)) return null;
    let holders: string[];
    if (p.mode === 'read') holders = [n.write ?? n.writePending!];
    else if (p.mode === 'intent') holders = [n.intent!];
    else holders = n.write ? [n.write] : n.readers.filter((r) => r !== p.thread).concat(n.intent !== p.thread && n.intent ? [n.intent] : []);
    return { resource: nname(p), kind: 'six', mode: `six_lock_${p.mode}`, holders: [...new Set(holders)] };
  },
  btree_write_ready: (context, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    if (n.readers.length === 0 && n.write === null) return null;
    return { resource: nname(p), kind: 'six', mode: 'six_lock_write (wait for readers)', holders: n.write ? [n.write] : [...new Set(n.readers)] };
  },
};

// Call helpers ---------------------------------------------------------------------------------
const P = (btree: string, thread: string, node?: string, mode?: SixMode, name?: string): BtreeParams => ({
  btree, thread, ...(node !== undefined ? { node } : {}), ...(mode ? { mode } : {}), ...(name ? { name } : {}),
});
/** btree_node_lock(trans, node, mode) for read or intent (write: see btree_node_lock_write). Blocks. */
export const btree_node_lock = (btree: string, thread: string, node: string, mode: SixMode, name?: string): Step => ({
  guard: { type: 'btree_can_lock', params: P(btree, thread, node, mode, name) },
  actions: [{ type: 'btree_lock', params: P(btree, thread, node, mode) }],
});
/** Non-blocking btree_node_lock (the *_nowait / trylock form). */
export const btree_node_trylock = (btree: string, thread: string, node: string, mode: SixMode, t: TryTargets): any[] =>
  tryBranch({ guard: { type: 'btree_trylock_ok', params: P(btree, thread, node, mode) }, actions: [{ type: 'btree_lock', params: P(btree, thread, node, mode) }] }, t);
/** One-step write lock (caller holds intent): blocked while readers hold the node. */
export const btree_node_lock_write = (btree: string, thread: string, node: string, name?: string): Step =>
  btree_node_lock(btree, thread, node, 'write', name);
/** six_lock_write with the pending bit, for ONE event: at once if no readers, else announce and go to `wait`. */
export const btree_node_lock_write_fast = (btree: string, thread: string, node: string, t: { next: string; wait: string }): any[] => [
  { guard: { type: 'btree_can_lock', params: P(btree, thread, node, 'write') }, actions: [{ type: 'btree_lock', params: P(btree, thread, node, 'write') }], target: t.next },
  { actions: [{ type: 'btree_write_pending', params: P(btree, thread, node) }], target: t.wait },
];
export const btree_node_lock_write_wait_state = (event: string, btree: string, thread: string, node: string, next: string, name?: string): any => ({
  on: { [event]: { guard: { type: 'btree_write_ready', params: P(btree, thread, node, undefined, name) }, actions: [{ type: 'btree_lock', params: P(btree, thread, node, 'write') }], target: next } },
});
export const btree_node_unlock_write = (btree: string, thread: string, node: string): Step => ({
  actions: [{ type: 'btree_unlock_write', params: P(btree, thread, node) }],
});
export const btree_node_unlock = (btree: string, thread: string, node: string): Step => ({
  actions: [{ type: 'btree_unlock_node', params: P(btree, thread, node) }],
});
export const bch2_trans_unlock = (btree: string, thread: string): Step => ({ actions: [{ type: 'btree_trans_unlock', params: P(btree, thread) }] });
/** bch2_trans_relock(): [relocked -> ok, restart -> restart]; always enabled. */
export const bch2_trans_relock = (btree: string, thread: string, t: { ok: string; restart: string }): any[] => [
  { guard: { type: 'btree_relock_ok', params: P(btree, thread) }, actions: [{ type: 'btree_relock', params: P(btree, thread) }], target: t.ok },
  { actions: [{ type: 'btree_relock_fail', params: P(btree, thread) }], target: t.restart },
];
export const bch2_trans_begin = (btree: string, thread: string): Step => ({ actions: [{ type: 'btree_trans_begin', params: P(btree, thread) }] });
/** Guard ref: the transaction was restarted. */
export const trans_restarted = (btree: string, thread: string): any => ({ type: 'btree_trans_restarted', params: P(btree, thread) });
