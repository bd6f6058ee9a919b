// Links lowered plans (./plans.ts) to one run's string table: closures that read and write the packed
// state words directly (./words.ts). A linked guard reads the words of the state being expanded; a linked
// action reads and writes the successor's words as they stand after the actions before it (XState runs a
// transition's actions in order, each on the context the previous one left). Each action evaluates every
// value before writing any (assign computes the whole partial from one context).
import type { WordBuffer } from '../../codec.ts';
import { applyBinary, applyUnary, type Expr, type FnPlan } from './js.ts';
import type { AssignPlan, GuardPlan } from './plans.ts';
import { readPath, Segment, writePath, type Strings } from './words.ts';

type Ev = (w: Int32Array, env: unknown[]) => unknown;

export type LinkedGuard = (w: Int32Array) => boolean;
export type LinkedAction = (out: WordBuffer) => void;

export class Linker {
  constructor(
    private readonly strings: Strings,
    /** Where the context record starts in a state's words (after one leaf per thread). */
    private readonly root: number,
  ) {}

  private path(keys: readonly string[]): Segment[] {
    return keys.map((k) => new Segment(k, this.strings));
  }

  expr(e: Expr): Ev {
    switch (e.k) {
      case 'const': {
        const v = e.v;
        return () => v;
      }
      case 'read': {
        const path = this.path(e.path);
        const root = this.root;
        const strings = this.strings;
        return (w) => readPath(w, root, path, strings);
      }
      case 'local': {
        const i = e.i;
        return (_w, env) => env[i];
      }
      case 'bin': {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        switch (e.op) {
          case '===': return (w, env) => a(w, env) === b(w, env);
          case '!==': return (w, env) => a(w, env) !== b(w, env);
          case '<': return (w, env) => (a(w, env) as number) < (b(w, env) as number);
          case '<=': return (w, env) => (a(w, env) as number) <= (b(w, env) as number);
          case '>': return (w, env) => (a(w, env) as number) > (b(w, env) as number);
          case '>=': return (w, env) => (a(w, env) as number) >= (b(w, env) as number);
          case '+': return (w, env) => (a(w, env) as number) + (b(w, env) as number);
          case '-': return (w, env) => (a(w, env) as number) - (b(w, env) as number);
          default: {
            const op = e.op;
            return (w, env) => applyBinary(op, a(w, env), b(w, env));
          }
        }
      }
      case 'logic': {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        if (e.op === '&&') return (w, env) => a(w, env) && b(w, env);
        if (e.op === '||') return (w, env) => a(w, env) || b(w, env);
        return (w, env) => a(w, env) ?? b(w, env);
      }
      case 'unary': {
        const a = this.expr(e.a);
        if (e.op === '!') return (w, env) => !a(w, env);
        const op = e.op;
        return (w, env) => applyUnary(op, a(w, env));
      }
      case 'cond': {
        const t = this.expr(e.t);
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        return (w, env) => (t(w, env) ? a(w, env) : b(w, env));
      }
    }
  }

  /** A function body's value: its `let` ops in order (into `env`), then its result. Element sets are the caller's. */
  private body(fn: FnPlan): { lets: Array<{ i: number; ev: Ev }>; result: Ev } {
    const lets: Array<{ i: number; ev: Ev }> = [];
    for (const op of fn.ops) if (op.k === 'let') lets.push({ i: op.i, ev: this.expr(op.e) });
    return { lets, result: this.expr(fn.result) };
  }

  guard(plan: GuardPlan): LinkedGuard {
    switch (plan.k) {
      case 'fn': {
        const { lets, result } = this.body(plan.fn);
        // One env per guard, refilled per call (guards do not nest).
        const env: unknown[] = new Array(plan.fn.locals);
        if (lets.length === 0) return (w) => !!result(w, env);
        return (w) => {
          for (let k = 0; k < lets.length; k++) env[lets[k].i] = lets[k].ev(w, env);
          return !!result(w, env);
        };
      }
      case 'not': {
        const a = this.guard(plan.a);
        return (w) => !a(w);
      }
      case 'and': {
        const parts = plan.parts.map((p) => this.guard(p));
        return (w) => parts.every((g) => g(w));
      }
      case 'or': {
        const parts = plan.parts.map((p) => this.guard(p));
        return (w) => parts.some((g) => g(w));
      }
    }
  }

  action(plan: AssignPlan): LinkedAction {
    // Every write the action makes, in order: a path and how its value is computed.
    type Write = { path: Segment[]; ev: Ev; element: boolean };
    const steps: Array<{ env: unknown[]; run: Array<{ i: number; ev: Ev } | Write> }> = [];
    for (const { key, fn, value } of plan.keys) {
      if (fn === null) {
        steps.push({ env: [], run: [{ path: this.path([key]), ev: () => value, element: false }] });
        continue;
      }
      const run: Array<{ i: number; ev: Ev } | Write> = [];
      for (const op of fn.ops) {
        if (op.k === 'let') run.push({ i: op.i, ev: this.expr(op.e) });
        else run.push({ path: this.path([key, op.index]), ev: this.expr(op.e), element: true });
      }
      if (!fn.copyOf) run.push({ path: this.path([key]), ev: this.expr(fn.result), element: false });
      steps.push({ env: new Array(fn.locals), run });
    }
    const writes: Write[] = steps.flatMap((s) => s.run.filter((r): r is Write => 'path' in r));
    const values: unknown[] = new Array(writes.length);
    const root = this.root;
    const strings = this.strings;
    return (out) => {
      const w = out.words;
      let n = 0;
      for (let s = 0; s < steps.length; s++) {
        const { env, run } = steps[s];
        for (let k = 0; k < run.length; k++) {
          const r = run[k];
          if ('path' in r) values[n++] = r.ev(w, env);
          else env[r.i] = r.ev(w, env);
        }
      }
      for (let k = 0; k < writes.length; k++) writePath(out, root, writes[k].path, values[k], strings, writes[k].element);
    };
  }
}
