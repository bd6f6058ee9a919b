// bcachefs btree transaction over six-locked nodes (fs/bcachefs/six.c, btree_locking.c): lock, unlock all, relock or restart.
//
// State at a context path, built by btree({ nodes: ['leaf'], threads: ['fiemap', 'writer'] }):
//   { nodes: { [node]: { readers: sorted threads, intent: thread|null, write: thread|null, writePending: thread|null,
//                        readWaiters: sorted threads, intentWaiters: FIFO threads, granted: sorted threads } },
//     trans: { [thread]: { locked: [{ node, mode }], saved: [{ node, mode, valid }], restarted: bool } } }
// Six lock modes: read/read and read/intent are compatible; intent excludes intent; write needs the
// caller's intent and excludes read. Each thread owns one btree_trans.
// Waiting and wakeup (six_lock_slowpath / six_unlock_type -> six_lock_wakeup -> __six_lock_wakeup):
// - A writer that cannot take write at once sets the write-locking bit (`writePending`, SIX_LOCK_HELD_write in
//   six_lock_slowpath) BEFORE sleeping; read's lock_fail mask includes it, so a pending writer blocks NEW
//   readers, and once the old readers drain only the pending writer can change the node: its wait guard
//   (btree_write_pending_ready) stays true once true. That is the same as the kernel's handoff (the last read unlock
//   calls six_lock_wakeup(write), which does the trylock on the writer's behalf), so a thread that keeps
//   re-taking the read lock cannot starve the writer.
// - A blocking read or intent lock (btree_node_lock, or over two states btree_node_lock_fast +
//   btree_node_lock_wait_state) QUEUES on the node (lock->wait_list) and sleeps; the unlock HANDS the lock
//   over: a write unlock (or a pending writer giving up) grants read to EVERY queued reader
//   (__six_lock_wakeup(read) walks all read waiters), an intent unlock grants intent to the FIRST queued
//   intent waiter (only one for non-read types). The granted lock is recorded in the waiter's btree_trans and
//   the waiter is marked `granted` (w->lock_acquired) until it runs and returns. So a looping updater cannot
//   starve a queued reader, and intent waiters are served in FIFO order (lock.wait_list, by start_time).
//   Approximation: unlock + wakeup are ONE step here. In six.c the state word is released first and the
//   wakeup trylock runs after, so a fast-path locker on another CPU can barge into that window (the waiter
//   stays queued); the model closes the window, as the fiemap model's local six lock does (the barging is a
//   timing window, not a protocol step a model checks).
// - The *_unqueued forms (btree_node_lock_unqueued, btree_node_lock_write_unqueued) leave the wait list out:
//   a blocked guard that is only intermittently true, so under weak fairness such a waiter can starve. They
//   are kept for safety (deadlock) checks of fixed sequences; btree_node_lock is the faithful one.
// Checked against fs/bcachefs/six.c of v6.7 (bcachefs's first release: six_lock_slowpath, __six_lock_wakeup,
// do_six_unlock_type).
// Sequence numbers without counters: six_lock_write bumps the node's seq, which makes every path that saved
// the old seq fail to relock. Here, taking a write lock marks every OTHER transaction's saved (unlocked)
// entry for that node `valid: false` — the same predicate as "seq changed since unlock", but bounded.
// - bch2_trans_unlock(trans): every held lock is dropped and remembered (write is remembered as intent).
// - bch2_trans_relock(trans): if every remembered entry is still valid and its lock can be taken at once,
//   all are re-taken; otherwise nothing is taken, the trans is marked `restarted`
//   (-BCH_ERR_transaction_restart_relock) and the model must go through bch2_trans_begin().
// - bch2_trans_begin(trans): drop everything, clear `restarted`.
// Every release (unlock of a node, of write, of the whole trans, relock failure) runs the wakeup above.
// Not modelled: bcachefs's own cycle detector among btree_trans (a blocking btree lock that would close a
// cycle restarts instead: should_sleep_fn); a queued waiter here waits until it is granted.
// Params: { btree: path, thread, node?, mode?, name? }.
import type { Context } from '../../explorer/model.ts';
import { getIn, insertSorted, ownValue, removeOne, updateIn } from './path.ts';
import { kAssign, withLock, withRelease, type WaitFn } from './types.ts';
import { nextOf, tryBranch, type Next, type Step, type TryTargets } from './locks.ts';

type Args = { context: Context };
export type SixMode = 'read' | 'intent' | 'write';

export interface SixState {
  readers: string[];
  intent: string | null;
  write: string | null;
  writePending: string | null;
  /** sleeping six_lock_read callers (granted together by the wakeup), sorted */
  readWaiters: string[];
  /** sleeping six_lock_intent callers, FIFO (the wakeup grants the first) */
  intentWaiters: string[];
  /** waiters the wakeup handed the lock to (w->lock_acquired) that have not returned yet, sorted */
  granted: string[];
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

export const six = (): SixState => ({ readers: [], intent: null, write: null, writePending: null, readWaiters: [], intentWaiters: [], granted: [] });
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
const transOf = (s: BtreeState, p: BtreeParams): TransState =>
  ownValue(s.trans, p.thread) ?? misuse(p, `has no btree_trans (threads: ${Object.keys(s.trans).join(', ')})`);
/** The six lock of `node` (inside the primitive, where the node was checked when the lock was taken). */
function sixAt(nodes: Record<string, SixState>, node: string): SixState {
  const n = ownValue(nodes, node);
  if (n === undefined) throw new Error(`kernel primitive misuse: btree node "${node}" does not exist (nodes: ${Object.keys(nodes).join(', ')})`);
  return n;
}
/** The btree_trans of `thread` (inside the primitive). */
function transAt(trans: Record<string, TransState>, thread: string): TransState {
  const t = ownValue(trans, thread);
  if (t === undefined) throw new Error(`kernel primitive misuse: "${thread}" has no btree_trans (threads: ${Object.keys(trans).join(', ')})`);
  return t;
}

/** `thread` is not in the middle of a blocking lock call on the node (queued, handed the lock, or write-pending). */
const notWaiting = (n: SixState, thread: string) =>
  n.writePending !== thread && !n.granted.includes(thread) && !n.readWaiters.includes(thread) && !n.intentWaiters.includes(thread);
/** Can `thread` take `mode` on the node right now? (write: the caller must hold intent.) */
function canTake(n: SixState, mode: SixMode, thread: string): boolean {
  switch (mode) {
    case 'read':
      return n.write === null && n.writePending === null;
    case 'intent':
      return n.intent === null && n.intentWaiters.length === 0;
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
    ...n,
    readers,
    intent: n.intent === thread ? null : n.intent,
    write: n.write === thread ? null : n.write,
    writePending: n.writePending === thread ? null : n.writePending,
  };
}
/**
 * six_lock_wakeup() after a release on `node`: hand read to every queued reader once neither write nor a
 * pending writer is left, and intent to the first queued intent waiter once intent is free; each grant is
 * recorded in the waiter's btree_trans (the waiter's wait state sees the lock held).
 */
function wakeup(nodes: Record<string, SixState>, trans: Record<string, TransState>, node: string): { nodes: Record<string, SixState>; trans: Record<string, TransState> } {
  let n = sixAt(nodes, node);
  const granted: Array<{ thread: string; mode: SixMode }> = [];
  if (n.readWaiters.length > 0 && n.write === null && n.writePending === null) {
    let readers = n.readers;
    for (const r of n.readWaiters) {
      readers = insertSorted(readers, r);
      granted.push({ thread: r, mode: 'read' });
    }
    n = { ...n, readers, readWaiters: [] };
  }
  const [first, ...rest] = n.intentWaiters;
  if (first !== undefined && n.intent === null) {
    n = { ...n, intent: first, intentWaiters: rest };
    granted.push({ thread: first, mode: 'intent' });
  }
  if (granted.length === 0) return { nodes, trans };
  let marked = n.granted;
  for (const g of granted) marked = insertSorted(marked, g.thread);
  n = { ...n, granted: marked };
  const t2 = { ...trans };
  for (const g of granted) {
    const tr = transAt(t2, g.thread);
    t2[g.thread] = { ...tr, locked: [...tr.locked, { node, mode: g.mode }] };
  }
  return { nodes: { ...nodes, [node]: n }, trans: t2 };
}
/** Wakeup on every node in `touched` (after a release of several nodes). */
function wakeupAll(s: BtreeState, touched: Iterable<string>): BtreeState {
  let out = s;
  for (const node of new Set(touched)) out = wakeup(out.nodes, out.trans, node);
  return out;
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
  const tr = transAt(s.trans, thread);
  const nodes = { ...s.nodes };
  for (const l of tr.locked) nodes[l.node] = release(sixAt(nodes, l.node), thread);
  return { nodes, locked: tr.locked };
}
/** Drops every lock of `thread`'s trans, sets its trans to `next(old)`, then wakes the waiters of those nodes. */
function dropAll(s: BtreeState, thread: string, next: (tr: TransState, locked: TransLock[]) => TransState): BtreeState {
  const tr = transAt(s.trans, thread);
  const { nodes, locked } = unlockAll(s, thread);
  return wakeupAll({ nodes, trans: { ...s.trans, [thread]: next(tr, locked) } }, locked.map((l) => l.node));
}
function relockOk(s: BtreeState, thread: string): boolean {
  const tr = transAt(s.trans, thread);
  let nodes = s.nodes;
  for (const e of tr.saved) {
    const n = sixAt(nodes, e.node);
    if (!e.valid || !canTake(n, e.mode, thread)) return false;
    nodes = { ...nodes, [e.node]: take(n, e.mode, thread) };
  }
  return true;
}

export const btreeGuards = {
  // six_lock_{read,intent}() / btree_node_lock(): can take `mode` now
  btree_can_lock: ({ context }: Args, p: BtreeParams) => canTake(nodeOf(getIn(context, p.btree), p), p.mode!, p.thread),
  btree_trylock_ok: ({ context }: Args, p: BtreeParams) => canTake(nodeOf(getIn(context, p.btree), p), p.mode!, p.thread),
  // the queued waiter was handed the lock by six_lock_wakeup (w->lock_acquired)
  btree_lock_granted: ({ context }: Args, p: BtreeParams) => nodeOf(getIn(context, p.btree), p).granted.includes(p.thread),
  // btree_node_lock() on entry: the trylock fast path (read/intent; write: the caller's intent, no readers)
  btree_lock_now: ({ context }: Args, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    return notWaiting(n, p.thread) && canTake(n, p.mode!, p.thread);
  },
  // btree_node_lock() on entry, otherwise: six_lock_slowpath queues (write: sets the write-locking bit)
  btree_lock_must_wait: ({ context }: Args, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    return notWaiting(n, p.thread) && !canTake(n, p.mode!, p.thread);
  },
  // a write locker that set the write-locking bit: the readers drained (the last read unlock's wakeup)
  btree_write_pending_ready: ({ context }: Args, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    return n.writePending === p.thread && n.readers.length === 0 && n.write === null;
  },
  // bch2_trans_relock() would succeed
  btree_relock_ok: ({ context }: Args, p: BtreeParams) => relockOk(getIn(context, p.btree), p.thread),
  btree_trans_restarted: ({ context }: Args, p: BtreeParams) => transOf(getIn(context, p.btree), p).restarted,
  btree_holds: ({ context }: Args, p: BtreeParams) =>
    transOf(getIn(context, p.btree), p).locked.some((l) => l.node === p.node && (p.mode === undefined || l.mode === p.mode)),
};

// lock-order information: a six lock is one node of the btree slice; read is `rlock`, intent and write
// exclusive; a write lock is the upgrade of the thread's own intent lock, so it adds no dependency (nor is it
// checked for might_sleep()). Read and intent may sleep (six_lock_slowpath), without a lockdep wait type: under a
// spinlock or inside rcu_read_lock() they are "sleeping function called from invalid context" (mightSleep)
const sixHolds = (n: SixState | undefined, thread: string) =>
  n?.write === thread || n?.intent === thread ? ('write' as const) : n?.readers?.includes(thread) ? ('read' as const) : null;
const sixEffect = {
  kind: 'six',
  mode: (p: BtreeParams) => (p.mode === 'read' ? ('read' as const) : ('write' as const)),
  path: (p: BtreeParams) => `${p.btree}.nodes.${p.node}`,
  name: (p: BtreeParams) => p.name ?? `${p.btree} node ${p.node}`,
  holds: sixHolds,
  skip: (p: BtreeParams) => p.mode === 'write',
  mightSleep: true,
};
export const btreeActions = {
  btree_lock: withLock(
    kAssign(({ context }, p: BtreeParams) => updateIn(context, p.btree, (s: BtreeState) => lockIn(s, p, p.mode!))),
    sixEffect,
  ),
  // six_lock_slowpath(): the trylock failed, add ourselves to lock->wait_list and sleep (read or intent)
  btree_queue: withLock(kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const n = nodeOf(s, p);
      transOf(s, p);
      if (p.mode !== 'read' && p.mode !== 'intent') misuse(p, `queues for ${p.mode} (only read and intent queue; write uses btree_write_pending)`);
      if (n.readWaiters.includes(p.thread) || n.intentWaiters.includes(p.thread)) misuse(p, 'queues twice');
      const nn = p.mode === 'read' ? { ...n, readWaiters: insertSorted(n.readWaiters, p.thread) } : { ...n, intentWaiters: [...n.intentWaiters, p.thread] };
      return { ...s, nodes: { ...s.nodes, [p.node!]: nn } };
    }),
  ), sixEffect),
  // the handed-over waiter returns from six_lock_slowpath (it saw w->lock_acquired)
  btree_take_grant: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      const n = nodeOf(s, p);
      if (!n.granted.includes(p.thread)) misuse(p, 'returns from a lock it was not handed');
      return { ...s, nodes: { ...s.nodes, [p.node!]: { ...n, granted: removeOne(n.granted, p.thread) ?? n.granted } } };
    }),
  ),
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
      // six_unlock_write -> six_lock_wakeup(read): every queued reader gets the read lock
      return wakeup(
        { ...s.nodes, [p.node!]: { ...n, write: null } },
        { ...s.trans, [p.thread]: { ...tr, locked: tr.locked.map((l) => (l.node === p.node && l.mode === 'write' ? { node: l.node, mode: 'intent' as SixMode } : l)) } },
        p.node!,
      );
    }),
  ),
  // btree_node_unlock(): drop this trans's locks on one node (its hold of the node ends: a release)
  btree_unlock_node: withRelease(
    kAssign(({ context }, p: BtreeParams) =>
      updateIn(context, p.btree, (s: BtreeState) => {
        const tr = transOf(s, p);
        if (!tr.locked.some((l) => l.node === p.node)) misuse(p, 'unlocks a node it does not hold');
        return wakeup(
          { ...s.nodes, [p.node!]: release(nodeOf(s, p), p.thread) },
          { ...s.trans, [p.thread]: { ...tr, locked: tr.locked.filter((l) => l.node !== p.node) } },
          p.node!,
        );
      }),
    ),
    { kind: 'six', holds: sixHolds, path: sixEffect.path, name: sixEffect.name },
  ),
  // bch2_trans_unlock(): drop all, remember them for relock
  btree_trans_unlock: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      transOf(s, p);
      return dropAll(s, p.thread, (tr, locked) => ({
        ...tr,
        locked: [],
        saved: [...tr.saved, ...locked.map((l) => ({ node: l.node, mode: (l.mode === 'write' ? 'intent' : l.mode) as SixMode, valid: true }))],
      }));
    }),
  ),
  // bch2_trans_relock() success: re-take every remembered lock
  btree_relock: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      if (!relockOk(s, p.thread)) misuse(p, 'relocks when relock cannot succeed');
      const tr = transOf(s, p);
      let nodes = s.nodes;
      for (const e of tr.saved) nodes = { ...nodes, [e.node]: take(sixAt(nodes, e.node), e.mode, p.thread) };
      const locked = [...tr.locked, ...tr.saved.map((e) => ({ node: e.node, mode: e.mode }))];
      return { nodes, trans: { ...s.trans, [p.thread]: { ...tr, locked, saved: [] } } };
    }),
  ),
  // bch2_trans_relock() failure: -BCH_ERR_transaction_restart_relock
  btree_relock_fail: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      transOf(s, p);
      return dropAll(s, p.thread, () => ({ locked: [], saved: [], restarted: true }));
    }),
  ),
  // bch2_trans_begin(): start (over) with nothing locked
  btree_trans_begin: kAssign(({ context }, p: BtreeParams) =>
    updateIn(context, p.btree, (s: BtreeState) => {
      transOf(s, p);
      return dropAll(s, p.thread, () => btreeTrans());
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
    else if (p.mode === 'intent') holders = (n.intent !== null ? [n.intent] : n.intentWaiters).slice(0, 1);
    else holders = n.write ? [n.write] : n.readers.filter((r) => r !== p.thread).concat(n.intent !== p.thread && n.intent ? [n.intent] : []);
    return { resource: nname(p), kind: 'six', mode: `six_lock_${p.mode}`, holders: [...new Set(holders)] };
  },
  btree_lock_granted: (context, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    if (!(p.mode === 'read' ? n.readWaiters : n.intentWaiters).includes(p.thread)) return null;
    // read waits for the writer (held or pending); intent for the holder (FIFO: the waiters ahead come next)
    const holders = p.mode === 'read' ? [n.write ?? n.writePending].filter((x): x is string => x !== null) : n.intent !== null ? [n.intent] : [];
    return { resource: nname(p), kind: 'six', mode: `six_lock_${p.mode} (queued)`, holders };
  },
  btree_write_pending_ready: (context, p: BtreeParams) => {
    const n = nodeOf(getIn(context, p.btree), p);
    if (n.writePending !== p.thread || (n.readers.length === 0 && n.write === null)) return null;
    return { resource: nname(p), kind: 'six', mode: 'six_lock_write (wait for readers)', holders: n.write ? [n.write] : [...new Set(n.readers)] };
  },
};

// Call helpers ---------------------------------------------------------------------------------
const P = (btree: string, thread: string, node?: string, mode?: SixMode, name?: string): BtreeParams => ({
  btree, thread, ...(node !== undefined ? { node } : {}), ...(mode ? { mode } : {}), ...(name ? { name } : {}),
});
/** The wakeup side of a blocking six lock call: handed read/intent by six_lock_wakeup, or (write) the readers drained. */
function lockWakeup(btree: string, thread: string, node: string, mode: SixMode, next: { target: string; actions: any[] }, name?: string): any {
  return mode === 'write'
    ? {
        guard: { type: 'btree_write_pending_ready', params: P(btree, thread, node, undefined, name) },
        actions: [{ type: 'btree_lock', params: P(btree, thread, node, 'write') }, ...next.actions],
        target: next.target,
      }
    : {
        guard: { type: 'btree_lock_granted', params: P(btree, thread, node, mode, name) },
        actions: [{ type: 'btree_take_grant', params: P(btree, thread, node, mode) }, ...next.actions],
        target: next.target,
      };
}
/** six_lock_slowpath's first step: read/intent join lock->wait_list; write sets the write-locking bit. */
const slowpath = (btree: string, thread: string, node: string, mode: SixMode, name?: string): any =>
  mode === 'write'
    ? { type: 'btree_write_pending', params: P(btree, thread, node) }
    : { type: 'btree_queue', params: P(btree, thread, node, mode, name) };
/**
 * btree_node_lock(trans, path, node, mode) -> six_lock_ip_waiter, for ONE event of the calling state (the
 * thread stays there while it sleeps): the trylock fast path, else six_lock_slowpath: read and intent
 * queue on lock->wait_list and are handed the lock by six_lock_wakeup (every queued reader at once, the first
 * intent waiter); write (the caller holds intent) sets the write-locking bit, so new readers wait, and takes
 * write once the readers drained. `next` is the target (or { target, actions }).
 *   on: { 'updater.commit': btree_node_lock('bt', 'updater', 'leaf', 'write', 'committed') }
 */
export const btree_node_lock = (btree: string, thread: string, node: string, mode: SixMode, next: Next, name?: string): any[] => {
  const n = nextOf('btree_node_lock', next);
  return [
    lockWakeup(btree, thread, node, mode, n, name),
    { guard: { type: 'btree_lock_now', params: P(btree, thread, node, mode, name) }, actions: [{ type: 'btree_lock', params: P(btree, thread, node, mode) }, ...n.actions], target: n.target },
    { guard: { type: 'btree_lock_must_wait', params: P(btree, thread, node, mode, name) }, actions: [slowpath(btree, thread, node, mode, name)] },
  ];
};
/**
 * btree_node_lock over two states, for a model that wants the sleep in a state of its own: the call, for ONE
 * event of the calling state (the trylock fast path to `next`, else the slow path's first step and go to
 * `wait`); build `wait` with btree_node_lock_wait_state.
 */
export const btree_node_lock_fast = (btree: string, thread: string, node: string, mode: SixMode, t: { next: string; wait: string }, name?: string): any[] => [
  { guard: { type: 'btree_lock_now', params: P(btree, thread, node, mode, name) }, actions: [{ type: 'btree_lock', params: P(btree, thread, node, mode) }], target: t.next },
  { guard: { type: 'btree_lock_must_wait', params: P(btree, thread, node, mode, name) }, actions: [slowpath(btree, thread, node, mode, name)], target: t.wait },
];
/** The wait state of btree_node_lock_fast: asleep until six_lock_wakeup handed the lock over (write: readers drained). */
export const btree_node_lock_wait_state = (event: string, btree: string, thread: string, node: string, mode: SixMode, next: string, name?: string): any => ({
  on: { [event]: lockWakeup(btree, thread, node, mode, { target: next, actions: [] }, name) },
});
/**
 * btree_node_lock without the wait list, for read or intent: blocked on a guard, never handed the lock. It
 * leaves out the queue and the handoff: fine for a safety check of a fixed sequence, starvable under weak
 * fairness. Prefer btree_node_lock.
 */
export const btree_node_lock_unqueued = (btree: string, thread: string, node: string, mode: SixMode, name?: string): Step => ({
  guard: { type: 'btree_can_lock', params: P(btree, thread, node, mode, name) },
  actions: [{ type: 'btree_lock', params: P(btree, thread, node, mode) }],
});
/** Non-blocking btree_node_lock (the *_nowait / trylock form). */
export const btree_node_trylock = (btree: string, thread: string, node: string, mode: SixMode, t: TryTargets): any[] =>
  tryBranch({ guard: { type: 'btree_trylock_ok', params: P(btree, thread, node, mode) }, actions: [{ type: 'btree_lock', params: P(btree, thread, node, mode) }] }, t);
/**
 * Write lock (the caller holds intent) without the write-locking bit: blocked while readers hold the node, so
 * readers that keep re-taking the lock can starve it. Prefer btree_node_lock(..., 'write', next).
 */
export const btree_node_lock_write_unqueued = (btree: string, thread: string, node: string, name?: string): Step =>
  btree_node_lock_unqueued(btree, thread, node, 'write', name);
/** six_lock_write over two states (btree_node_lock_fast with mode 'write'): at once if no readers, else set the bit and go to `wait`. */
export const btree_node_lock_write_fast = (btree: string, thread: string, node: string, t: { next: string; wait: string }): any[] =>
  btree_node_lock_fast(btree, thread, node, 'write', t);
/** The wait state of btree_node_lock_write_fast. */
export const btree_node_lock_write_wait_state = (event: string, btree: string, thread: string, node: string, next: string, name?: string): any =>
  btree_node_lock_wait_state(event, btree, thread, node, 'write', next, name);
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
