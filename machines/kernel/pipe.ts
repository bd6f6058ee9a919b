// Bounded pipe (fs/pipe.c): pipe_write sleeps while full, pipe_read sleeps while empty, EOF once the writer closed it.
//
// State at a context path: { count, capacity, closed } (buffers are counted, not stored).
// Params: { pipe: path, thread, peers?: string[], name? }; `peers` = the threads at the other end
// (readers for a writer, writers for a reader), reported as the holders of a blocked pipe.
import type { Context } from '../../explorer/model.ts';
import { getIn, updateIn } from './path.ts';
import { kAssign, type WaitFn } from './types.ts';
import { declareFootprints } from '../../explorer/reduce/declare.ts';
import * as L from '../../explorer/compile/lower/declared.ts';
import { declareLowerings } from '../../explorer/compile/lower/declared.ts';
import type { Step } from './locks.ts';

type Args = { context: Context };

export interface PipeState {
  count: number;
  capacity: number;
  closed: boolean;
}
export interface PipeParams {
  pipe: string;
  thread: string;
  peers?: string[];
  name?: string;
}
export const pipe = (capacity: number): PipeState => ({ count: 0, capacity, closed: false });

const misuse = (p: PipeParams, what: string): never => {
  throw new Error(`kernel primitive misuse: ${p.thread} ${what} on pipe ${p.pipe}`);
};

export const pipeGuards = {
  // pipe_write(): room for one more buffer (else wait_event on pipe->wr_wait)
  pipe_can_write: ({ context }: Args, p: PipeParams) => {
    const s: PipeState = getIn(context, p.pipe);
    return s.count < s.capacity;
  },
  // pipe_read(): a buffer is there (else wait_event on pipe->rd_wait)
  pipe_has_data: ({ context }: Args, p: PipeParams) => getIn(context, p.pipe).count > 0,
  // pipe_read() returns 0: empty and the write end is closed
  pipe_eof: ({ context }: Args, p: PipeParams) => {
    const s: PipeState = getIn(context, p.pipe);
    return s.count === 0 && s.closed;
  },
  pipe_is_full: ({ context }: Args, p: PipeParams) => {
    const s: PipeState = getIn(context, p.pipe);
    return s.count >= s.capacity;
  },
};

export const pipeActions = {
  pipe_write: kAssign(({ context }, p: PipeParams) =>
    updateIn(context, p.pipe, (s: PipeState) => {
      if (s.count >= s.capacity) misuse(p, 'wrote into a full pipe');
      if (s.closed) misuse(p, 'wrote after closing the write end');
      return { ...s, count: s.count + 1 };
    }),
  ),
  pipe_read: kAssign(({ context }, p: PipeParams) =>
    updateIn(context, p.pipe, (s: PipeState) => {
      if (s.count === 0) misuse(p, 'read from an empty pipe');
      return { ...s, count: s.count - 1 };
    }),
  ),
  pipe_close: kAssign(({ context }, p: PipeParams) => updateIn(context, p.pipe, (s: PipeState) => ({ ...s, closed: true }))),
};

export const pipeWaits: Record<string, WaitFn> = {
  pipe_can_write: (context, p: PipeParams) => {
    const s: PipeState = getIn(context, p.pipe);
    return s.count < s.capacity
      ? null
      : { resource: p.name ?? p.pipe, kind: 'pipe', mode: `pipe_write (full, ${s.count}/${s.capacity})`, holders: p.peers ?? [], ...(p.peers?.length ? { act: 'pipe_read' } : {}) };
  },
  pipe_has_data: (context, p: PipeParams) => {
    const s: PipeState = getIn(context, p.pipe);
    return s.count > 0 || s.closed ? null : { resource: p.name ?? p.pipe, kind: 'pipe', mode: 'pipe_read (empty)', holders: p.peers ?? [], ...(p.peers?.length ? { act: 'pipe_write' } : {}) };
  },
};

const P = (pipe: string, thread: string, peers?: string[], name?: string): PipeParams => ({
  pipe, thread, ...(peers ? { peers } : {}), ...(name ? { name } : {}),
});
/** pipe_write() of one buffer: blocked while full. `readers` = reader threads (report holders). */
export const pipe_write = (pipe: string, thread: string, readers?: string[], name?: string): Step => ({
  guard: { type: 'pipe_can_write', params: P(pipe, thread, readers, name) },
  actions: [{ type: 'pipe_write', params: P(pipe, thread) }],
});
/** pipe_read() of one buffer: [data -> `data`, EOF -> `eof`], blocked while empty and open. */
export const pipe_read = (pipe: string, thread: string, t: { data: string; eof: string }, writers?: string[], name?: string): any[] => [
  { guard: { type: 'pipe_has_data', params: P(pipe, thread, writers, name) }, actions: [{ type: 'pipe_read', params: P(pipe, thread) }], target: t.data },
  { guard: { type: 'pipe_eof', params: P(pipe, thread) }, target: t.eof },
];
/** The writer closes its end (readers then see EOF once it is empty). */
export const pipe_close = (pipe: string, thread: string): Step => ({ actions: [{ type: 'pipe_close', params: P(pipe, thread) }] });

// Footprints (explorer/reduce/declare.ts), for --reduce por: the pipe slice at `{pipe}`.
declareFootprints(pipeGuards, Object.fromEntries(Object.keys(pipeGuards).map((n) => [n, { reads: ['{pipe}'] }])));
declareFootprints(pipeActions, Object.fromEntries(Object.keys(pipeActions).map((n) => [n, { writes: ['{pipe}'] }])));

/** View: the pipe is full (pipe_write() would sleep). */
export const pipeFull = (context: Context, pipe: string): boolean => {
  const s = getIn(context, pipe) as PipeState;
  return s.count >= s.capacity;
};

// Declared lowerings (explorer/compile/lower/declared.ts): the same guards and actions as word operations;
// a misuse check that fails BAILs, and the function above reports it.
const cnt = (p: PipeParams) => L.read(p.pipe, 'count');
const cap = (p: PipeParams) => L.read(p.pipe, 'capacity');
declareLowerings(pipeGuards, {
  pipe_can_write: (p: PipeParams) => L.lt(cnt(p), cap(p)),
  pipe_has_data: (p: PipeParams) => L.lt(L.lit(0), cnt(p)),
  pipe_eof: (p: PipeParams) => L.and(L.eq(cnt(p), L.lit(0)), L.read(p.pipe, 'closed')),
  pipe_is_full: (p: PipeParams) => L.ge(cnt(p), cap(p)),
});
declareLowerings(pipeActions, {
  pipe_write: (p: PipeParams) => [L.check(L.and(L.lt(cnt(p), cap(p)), L.not(L.read(p.pipe, 'closed')))), L.set(L.path(p.pipe, 'count'), L.plus(cnt(p), 1))],
  // (count - 1, as the function computes it: count + -1 would concatenate a count that is a string)
  pipe_read: (p: PipeParams) => [L.check(L.ne(cnt(p), L.lit(0))), L.set(L.path(p.pipe, 'count'), L.minus(cnt(p), 1))],
  pipe_close: (p: PipeParams) => [L.set(L.path(p.pipe, 'closed'), true)],
});
