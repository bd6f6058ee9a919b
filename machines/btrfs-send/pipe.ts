// Local bounded pipe (send -> receive) for the btrfs-send model, until machines/kernel exports one.
//
// State: { count, capacity, closed }. kernel_write() into a full pipe sleeps (pipe_write waits on
// pipe->wr_wait until the reader drains a buffer); read() from an empty pipe sleeps until data
// arrives or the writer closes it (then read returns 0 = EOF). Commands are counted, not stored:
// the receiver knows the stream order (subvol command, one command per item, end command).
// Named guards take params { pipe, writer, reader } so the deadlock report can name the other end.
import { assign } from 'xstate';
import type { Context, WaitInfo } from '../../explorer/model.ts';

export interface PipeState {
  count: number;
  capacity: number;
  closed: boolean;
}

export interface PipeParams {
  /** Context key of the pipe slice. */
  pipe: string;
  writer: string;
  reader: string;
}

export const pipe = (capacity: number): PipeState => ({ count: 0, capacity, closed: false });

export const pipeGuards = {
  // pipe_write(): room for one more buffer (else wait_event on pipe->wr_wait)
  local_pipe_can_write: ({ context }: { context: Context }, p: PipeParams) => {
    const s: PipeState = context[p.pipe];
    return s.count < s.capacity;
  },
  // pipe_read(): a buffer is there (else wait_event on pipe->rd_wait)
  local_pipe_can_read: ({ context }: { context: Context }, p: PipeParams) => context[p.pipe].count > 0,
  // pipe_read() returns 0: empty and no writer left
  local_pipe_eof: ({ context }: { context: Context }, p: PipeParams) => {
    const s: PipeState = context[p.pipe];
    return s.count === 0 && s.closed;
  },
};

export const pipeActions = {
  local_pipe_write: assign(({ context }: { context: Context }, p: PipeParams) => {
    const s: PipeState = context[p.pipe];
    if (s.count >= s.capacity) throw new Error(`pipe misuse: ${p.writer} wrote into a full pipe "${p.pipe}"`);
    return { [p.pipe]: { ...s, count: s.count + 1 } };
  }),
  local_pipe_read: assign(({ context }: { context: Context }, p: PipeParams) => {
    const s: PipeState = context[p.pipe];
    if (s.count === 0) throw new Error(`pipe misuse: ${p.reader} read from an empty pipe "${p.pipe}"`);
    return { [p.pipe]: { ...s, count: s.count - 1 } };
  }),
  // the writer's file is closed (fput of the pipe's write end when the sending process exits)
  local_pipe_close: assign(({ context }: { context: Context }, p: PipeParams) => ({ [p.pipe]: { ...context[p.pipe], closed: true } })),
};

export const pipeWaits: Record<string, (context: Context, p: PipeParams) => WaitInfo | null> = {
  local_pipe_can_write: (context, p) => {
    const s: PipeState = context[p.pipe];
    return s.count < s.capacity
      ? null
      : { resource: `pipe (${s.count}/${s.capacity} buffers full)`, kind: 'pipe', mode: 'kernel_write', holders: [p.reader] };
  },
  local_pipe_can_read: (context, p) => {
    const s: PipeState = context[p.pipe];
    return s.count > 0 || s.closed ? null : { resource: 'pipe (empty)', kind: 'pipe', mode: 'read', holders: [p.writer] };
  },
};

/** Transition fragment: kernel_write() of one command into the pipe; blocks while it is full. */
export const pipe_write = (p: PipeParams) => ({
  guard: { type: 'local_pipe_can_write', params: p },
  actions: [{ type: 'local_pipe_write', params: p }],
});
