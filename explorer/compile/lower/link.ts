// Links lowered plans (./plans.ts) to one run's string table: closures that read and write the packed
// state words directly (./words.ts). A linked guard reads the words of the state being expanded; a linked
// action reads and writes the successor's words as they stand after the actions before it (XState runs a
// transition's actions in order, each on the context the previous one left). Each action evaluates every
// value before writing any (assign computes the whole partial from one context).
import { anyValues, ContextCodec, T_NULL, WordBuffer, type StringTable } from '../../codec.ts';
import { applyBinary, applyUnary, type Expr, type FnPlan } from './js.ts';
import type { AssignPlan, GuardPlan } from './plans.ts';
import { isIndexKey, type PathOp, type RecListEdit } from './declared.ts';
import { T_ARR, T_IARR, T_OBJ, T_STR } from '../../codec.ts';
import { BAIL, elementAt, endOf, insertAt, listIncludes, locate, locateIn, readList, removeAt, readPath, scalarAt, Segment, sizeAt, WRITES, writeAt, writeList, writeValue, type Strings } from './words.ts';
import { isContainer, recDeleteField, recFieldAt, recPutField, recScalarAt, recValueStarts } from './words.ts';
import { deleteRecordKey, elementPlace, replaceValue, setRecordKey } from './words.ts';

type Ev = (w: Int32Array, env: unknown[]) => unknown;

export type LinkedGuard = (w: Int32Array) => boolean;
export type LinkedAction = (out: WordBuffer) => void;

/** A thread as a `threads` expression sees it: its name, and its locations by leaf (ThreadLocations' strings). */
export interface LinkThread {
  name: string;
  leafPaths: readonly string[];
}

export class Linker {
  constructor(
    private readonly strings: Strings,
    /** Where the context record starts in a state's words (after one leaf per thread). */
    private readonly root: number,
    /** The threads, in leaf order (for `threads` expressions; without them those are refused). */
    private readonly threads: readonly LinkThread[] = [],
  ) {}

  /**
   * The state whose words the guards read: the word step bumps it per expanded state. Guards read the
   * expanded state's words only, so where a record or list lies in them is found once per state and kept
   * (one slot per container path, shared by every guard that reads below it).
   */
  private stamp = 0;

  /** The guards will read other words from now on (a new state to expand): forget the locations found. */
  newState(): void {
    this.stamp++;
  }

  /** Linking a guard: its reads may use the per-state locations. */
  private inGuard = false;
  /** The places kept per state, by path (pathKey; the context record's own slot under the empty path's). */
  private readonly slots = new Map<string, Slot>([[pathKey([]), newSlot(null)]]);

  /** The slot of a path, made (and listed under its container's) on first use. */
  private slotOf(path: Segment[]): Slot {
    const key = pathKey(path);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      const last = path[path.length - 1];
      this.slots.set(key, (slot = newSlot(last)));
      const container = this.slotOf(path.slice(0, -1));
      container.children.push(slot);
      container.fields = null;
      container.elements = null;
    }
    return slot;
  }

  /**
   * Where the value at `path` lies in the words (the record or list a guard or action reads or writes in,
   * or a record's field), found once per state. A guard reads the expanded state's words. An action works
   * on the successor's, where a place found in the expanded state's words is mapped past the words the step
   * moved so far (WRITES.moved). A record is walked once per state for all the fields some path reads in
   * it (`fill`), not once per field.
   */
  private located(path: Segment[]): (w: Int32Array) => number {
    // One closure per path and kind (a guard's or an action's), shared by every expression that reads there: the
    // plans name the same paths many times (about 2,000 calls for some 300 paths per model), and linking is done
    // before the search, where less work also leaves the optimising compiler to the search's own functions.
    const key = (this.inGuard ? 'g' : 'a') + pathKey(path);
    let done = this.locatedOf.get(key);
    if (done === undefined) this.locatedOf.set(key, (done = this.locate(path)));
    return done;
  }

  private readonly locatedOf = new Map<string, (w: Int32Array) => number>();

  private locate(path: Segment[]): (w: Int32Array) => number {
    const root = this.root;
    if (path.length === 0) return () => root;
    const s = this.slotOf(path);
    // From the place of the path's container (found once per state too: paths share their prefixes).
    const container = this.located(path.slice(0, -1));
    const last = path[path.length - 1];
    const top = this.slots.get(pathKey([]))!;
    /** Found in the expanded state's words (the guards', or an action's before any word moved): kept. */
    const find = (w: Int32Array) => {
      if (top.filled !== this.stamp) {
        fill(w, root, top, this.stamp);
        if (s.stamp === this.stamp) return s.at;
      }
      // Not found by the walk (a key the record lacks: locateIn BAILs; the slot is filled again next state).
      const at = locateIn(w, container(w), last);
      s.at = at;
      s.stamp = this.stamp;
      return at;
    };
    if (this.inGuard) return (w) => (s.stamp === this.stamp ? s.at : find(w));
    return (w) => {
      if (WRITES.moves === 0) return s.stamp === this.stamp ? s.at : find(w);
      if (s.stamp === this.stamp) {
        const p = WRITES.moved(s.at);
        if (p >= 0) return p;
      }
      return locateIn(w, container(w), last);
    };
  }

  private path(keys: readonly string[]): Segment[] {
    return keys.map((k) => this.segment(k));
  }

  /** The segment of a key, one per key (a segment keeps the key's interned id once asked). */
  private segment(key: string): Segment {
    let seg = this.segments.get(key);
    if (seg === undefined) this.segments.set(key, (seg = new Segment(key, this.strings)));
    return seg;
  }

  private readonly segments = new Map<string, Segment>();

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
        if (e.opt && (e.path.length === 0 || e.path[e.path.length - 1] in Object.prototype)) throw new Error(`optional read of ${e.path.join('.')}: an Object.prototype name`);
        const opt = e.opt === true;
        const lastKey = path[path.length - 1];
        if (!opt && lastKey.index < 0 && !lastKey.isLength) {
          // A record's field: its place once per state (locate BAILs where readPath would: a missing key,
          // a path through a scalar or past an array's end), then the scalar there.
          const at = this.located(path);
          return (w) => scalarAt(w, at(w), strings);
        }
        if (path.length >= 2) {
          // The container's place once per state, then the last key from there.
          const container = this.located(path.slice(0, -1));
          const last = path.slice(-1);
          return (w) => readPath(w, container(w), last, strings, opt);
        }
        return (w) => readPath(w, root, path, strings, opt);
      }
      case 'startsWith': {
        const a = this.expr(e.a);
        const prefix = e.s;
        return (w, env) => {
          const v = a(w, env);
          return typeof v === 'string' && v.startsWith(prefix);
        };
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
      case 'includes': {
        const list = this.located(this.path(e.path));
        const x = this.expr(e.x);
        const strings = this.strings;
        return (w, env) => listIncludes(w, list(w), x(w, env), strings);
      }
      case 'index': {
        const list = this.located(this.path(e.path));
        const i = this.expr(e.i);
        const strings = this.strings;
        return (w, env) => elementAt(w, list(w), i(w, env), strings);
      }
      case 'threads': {
        if (this.threads.length !== this.root) throw new Error('a threads expression needs the threads (Linker built without them)');
        // Per thread, per leaf: the linked expression, or its constant.
        const table = this.threads.map((t) => t.leafPaths.map((loc) => {
          const x = e.f(t.name, loc);
          return typeof x === 'boolean' ? x : this.expr(x);
        }));
        const some = e.some;
        const T = table.length;
        return (w, env) => {
          for (let t = 0; t < T; t++) {
            const x = table[t][w[t]];
            const v = typeof x === 'boolean' ? x : !!x(w, env);
            if (v === some) return some;
          }
          return !some;
        };
      }
      case 'cond': {
        const t = this.expr(e.t);
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        return (w, env) => (t(w, env) ? a(w, env) : b(w, env));
      }
      case 'isNull':
      case 'obj':
      case 'arr':
      case 'readAt':
        return this.nestedExpr(e);
      case 'recHasKey':
      case 'recSize':
      case 'recKeyOf':
      case 'recListAt':
      case 'recKeys':
        return this.recExpr(e);
      // List and entry reads (declared plans only): each reads the array's scalars as decode gives them.
      case 'listEvery': {
        const list = this.located(this.path(e.path));
        const x = this.expr(e.x);
        const strings = this.strings;
        const eqTest = e.test === 'eq';
        const xs = anyValues(0);
        return (w, env) => {
          readList(w, list(w), strings, xs);
          // xs.every(...) as loops: no callback made per call
          if (!eqTest) {
            for (let i = 0; i < xs.length; i++) if (xs[i]) return false;
            return true;
          }
          const v = x(w, env);
          for (let i = 0; i < xs.length; i++) if (xs[i] !== v) return false;
          return true;
        };
      }
      case 'entryOf': {
        const list = this.located(this.path(e.path));
        const x = this.expr(e.x);
        const strings = this.strings;
        const sep = e.sep;
        return (w, env) => {
          // The elements straight from the words (every one a string: a tagged array of T_STR, or empty).
          const p = list(w);
          const tag = w[p];
          const n = w[p + 1];
          if (tag !== T_ARR && !(tag === T_IARR && n === 0)) throw BAIL;
          const v = x(w, env);
          // y.slice(at + sep.length) === v, without making the slice (no other value equals a string)
          const vs = typeof v === 'string' ? v : null;
          for (let i = 0, q = p + 2; i < n; i++, q += 2) {
            if (w[q] !== T_STR) throw BAIL;
            const y = strings.stringOf(w[q + 1]);
            const at = y.indexOf(sep) + sep.length;
            if (at < sep.length) throw BAIL;
            if (vs !== null && y.length - at === vs.length && y.startsWith(vs, at)) return y;
          }
          return undefined;
        };
      }
      case 'strPart': {
        const a = this.expr(e.a);
        const sep = e.sep;
        const before = e.side === 'before';
        return (w, env) => {
          const v = a(w, env);
          if (typeof v !== 'string') throw BAIL;
          const at = v.indexOf(sep);
          if (at < 0) throw BAIL;
          return before ? v.slice(0, at) : v.slice(at + sep.length);
        };
      }
      case 'toNumber': {
        const a = this.expr(e.a);
        return (w, env) => Number(a(w, env));
      }
    }
  }

  // Record operations (./declared.ts PathOp rec*, Expr rec*): reads of records and lists, and the ops on them.

  private recExpr(e: Extract<Expr, { k: 'recHasKey' | 'recSize' | 'recKeyOf' | 'recListAt' | 'recKeys' }>): Ev {
    const at = this.located(this.path(e.path));
    const strings = this.strings;
    switch (e.k) {
      case 'recHasKey': {
        const key = new Segment(e.key, strings);
        return (w) => recFieldAt(w, at(w), key.keyId()) >= 0;
      }
      case 'recSize':
        return (w) => {
          const p = at(w);
          if (w[p] !== T_OBJ) throw BAIL;
          return w[p + 1];
        };
      case 'recKeyOf': {
        const x = this.expr(e.x);
        const starts: number[] = [];
        return (w, env) => {
          const v = x(w, env);
          const p = at(w);
          recValueStarts(w, p, starts);
          let found: string | undefined;
          for (const q of starts) {
            const key = strings.stringOf(w[q - 1]);
            if (isIndexKey(key)) throw BAIL; // Object.keys would put it first
            if (found === undefined && !isContainer(w[q]) && recScalarAt(w, q, strings) === v) found = key;
          }
          return found;
        };
      }
      case 'recListAt':
        return (w) => readList(w, at(w), strings, []);
      case 'recKeys': {
        const starts: number[] = [];
        // the codec writes a record's keys sorted as Array.prototype.sort does: the keys in their words' order
        return (w) => recValueStarts(w, at(w), starts).map((q) => strings.stringOf(w[q - 1]));
      }
    }
  }

  /** A record operation, linked: its values evaluated on the words before the action (pre), then applied. */
  private recOp(op: PathOp): { pre: Ev; apply: (out: WordBuffer, v: unknown) => void } | null {
    const root = this.root;
    const strings = this.strings;
    switch (op.k) {
      case 'recPut':
      case 'recDelete': {
        const path = this.path(op.path);
        const key = new Segment(op.key, strings);
        const name = op.key;
        const e = this.expr(op.e);
        if (op.k === 'recDelete') return { pre: e, apply: (out) => recDeleteField(out, locate(out.words, root, path), key.keyId()) };
        return { pre: e, apply: (out, v) => recPutField(out, locate(out.words, root, path), name, key.keyId(), v, strings) };
      }
      case 'recSetList': {
        const path = this.path(op.path);
        const e = this.expr(op.e);
        return {
          pre: e,
          apply: (out, v) => {
            if (!Array.isArray(v)) throw BAIL;
            writeList(out, locate(out.words, root, path), v, strings);
          },
        };
      }
      case 'recSetKeyOf': {
        const path = this.path(op.path);
        const x = this.expr(op.e);
        const to = this.expr(op.to);
        const pair: unknown[] = [undefined, undefined];
        const starts: number[] = [];
        return {
          pre: (w, env) => {
            pair[0] = x(w, env);
            pair[1] = to(w, env);
            return pair;
          },
          apply: (out, v) => {
            const match = (v as unknown[])[0];
            const value = (v as unknown[])[1];
            const w = out.words;
            recValueStarts(w, locate(w, root, path), starts);
            for (const q of starts) if (isIndexKey(strings.stringOf(w[q - 1]))) throw BAIL;
            for (const q of starts) {
              if (isContainer(w[q])) continue;
              if (recScalarAt(w, q, strings) === match) return writeValue(out, q, value, strings);
            }
            throw BAIL;
          },
        };
      }
      case 'recSetEach': {
        const path = this.path(op.path);
        return {
          pre: this.expr(op.e),
          apply: (out, v) => {
            const p = locate(out.words, root, path);
            if (out.words[p] !== T_OBJ) throw BAIL;
            const n = out.words[p + 1];
            let q = p + 2;
            for (let f = 0; f < n; f++) {
              // field f's value at q + 1 (a scalar: a width change moves only the words after it)
              if (isContainer(out.words[q + 1])) throw BAIL;
              writeValue(out, q + 1, v, strings);
              q += 1 + sizeAt(out.words, q + 1);
            }
          },
        };
      }
      case 'recEachValue': {
        const path = this.path(op.path);
        const edits = op.edits.map((d) => ({ k: d.k, x: this.expr(d.x), y: this.expr(d.k === 'replaceAll' ? d.to : d.k === 'removeOneIfMore' ? d.n : d.x) }));
        const vals = anyValues(edits.length * 2);
        const list = anyValues(0);
        return {
          pre: (w, env) => {
            for (let i = 0; i < edits.length; i++) {
              vals[2 * i] = edits[i].x(w, env);
              vals[2 * i + 1] = edits[i].y(w, env);
            }
            return vals;
          },
          apply: (out) => {
            const p = locate(out.words, root, path);
            if (out.words[p] !== T_OBJ) throw BAIL;
            const n = out.words[p + 1];
            let q = p + 2;
            for (let f = 0; f < n; f++) {
              // field f's value at q + 1; a list rewritten there moves only the words after it
              const xs = readList(out.words, q + 1, strings, list);
              let changed = false;
              for (let i = 0; i < edits.length; i++) if (editList(xs, edits[i].k, vals[2 * i], vals[2 * i + 1])) changed = true;
              if (changed) writeList(out, q + 1, xs, strings);
              q += 1 + sizeAt(out.words, q + 1);
            }
          },
        };
      }
      default:
        return null;
    }
  }

  /** A function body's value: its `let` ops in order (into `env`), then its result. Element sets are the caller's. */
  private body(fn: FnPlan): { lets: Array<{ i: number; ev: Ev }>; result: Ev } {
    const lets: Array<{ i: number; ev: Ev }> = [];
    for (const op of fn.ops) if (op.k === 'let') lets.push({ i: op.i, ev: this.expr(op.e) });
    return { lets, result: this.expr(fn.result) };
  }

  /** An expression over a state's words as a predicate (its truth, as `!!`), reading them as a guard does. */
  predicate(e: Expr): LinkedGuard {
    const outer = this.inGuard;
    this.inGuard = true;
    try {
      const ev = this.expr(e);
      const env = anyValues(0);
      return (w) => !!ev(w, env);
    } finally {
      this.inGuard = outer;
    }
  }

  guard(plan: GuardPlan): LinkedGuard {
    const outer = this.inGuard;
    this.inGuard = true;
    try {
      return this.guardOf(plan);
    } finally {
      this.inGuard = outer;
    }
  }

  private guardOf(plan: GuardPlan): LinkedGuard {
    switch (plan.k) {
      case 'fn': {
        const { lets, result } = this.body(plan.fn);
        // One env per guard, refilled per call (guards do not nest).
        const env = anyValues(plan.fn.locals);
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
        // A loop, not parts.every(callback): no closure made per guard evaluation.
        return (w) => {
          for (let i = 0; i < parts.length; i++) if (!parts[i](w)) return false;
          return true;
        };
      }
      case 'or': {
        const parts = plan.parts.map((p) => this.guard(p));
        return (w) => {
          for (let i = 0; i < parts.length; i++) if (parts[i](w)) return true;
          return false;
        };
      }
    }
  }

  action(plan: AssignPlan): LinkedAction {
    if (plan.ops !== undefined) return this.ops(plan.ops);
    // The action's statements in order, flattened: a local bound (write < 0) or a value for write k; all
    // values are computed (from the context before the action) before any is written.
    const evs: Ev[] = [];
    const locals: number[] = [];
    const writeOf: number[] = [];
    const paths: Segment[][] = [];
    const element: boolean[] = [];
    let envSize = 0;
    const write = (path: Segment[], ev: Ev, el: boolean) => {
      evs.push(ev);
      locals.push(-1);
      writeOf.push(paths.length);
      paths.push(path);
      element.push(el);
    };
    for (const { key, fn, value } of plan.keys) {
      if (fn === null) {
        write(this.path([key]), () => value, false);
        continue;
      }
      // Each value function's locals get their own slots in one env.
      const base = envSize;
      envSize += fn.locals;
      const shift = (e: Expr): Expr => shiftLocals(e, base);
      for (const op of fn.ops) {
        if (op.k === 'let') {
          evs.push(this.expr(shift(op.e)));
          locals.push(base + op.i);
          writeOf.push(-1);
        } else write(this.path([key, op.index]), this.expr(shift(op.e)), true);
      }
      if (!fn.copyOf) write(this.path([key]), this.expr(shift(fn.result)), false);
    }
    const env = anyValues(envSize);
    const values = anyValues(paths.length);
    const writes = paths.map((p, k) => this.writer(p, element[k]));
    const n = evs.length;
    const root = this.root;
    return (out) => {
      const w = out.words;
      // assign makes a record of the context and its keys ({ ...context, key }): of an array too, whose element
      // a key write would otherwise set in place (an int32 array's, writeAt).
      if (w[root] !== T_OBJ) throw BAIL;
      for (let k = 0; k < n; k++) {
        const v = evs[k](w, env);
        const at = writeOf[k];
        if (at >= 0) values[at] = v;
        else env[locals[k]] = v;
      }
      for (let k = 0; k < writes.length; k++) writes[k](out, values[k]);
    };
  }

  /**
   * The write of a scalar at `path` (writeAt's): a record's field found once per state, or the last key
   * (an array index) of the container found once per state.
   */
  private writer(path: Segment[], element: boolean): (out: WordBuffer, v: unknown) => void {
    const strings = this.strings;
    const last = path[path.length - 1];
    if (!element && last.index < 0) {
      const at = this.located(path);
      return (out, v) => writeValue(out, at(out.words), v, strings);
    }
    const container = this.located(path.slice(0, -1));
    return (out, v) => writeAt(out, container(out.words), last, v, strings, element);
  }

  /**
   * A declared action (./declared.ts): every value and check evaluated on the words before the action, then
   * the operations in order, each locating its path afresh (an earlier one may have moved the words).
   */
  private ops(declared: PathOp[]): LinkedAction {
    if (declared.some((op) => op.k === 'choose' || op.k === 'compute')) return this.wholeOp(declared);
    const strings = this.strings;
    // recWhen flattened: each op with the condition under which it runs (null: always)
    const flat = recFlatten(declared, null);
    const ops = flat.map((f) => f.op);
    const whens = flat.map((f) => (f.when === null ? null : this.expr(f.when)));
    const recs = ops.map((op) => this.recOp(op));
    const skip = new Uint8Array(ops.length);
    const n = ops.length;
    const evs: Ev[] = ops.map((op, k) => recs[k]?.pre ?? this.expr(op.e));
    const paths: Segment[][] = ops.map((op) => ('path' in op ? this.path(op.path) : []));
    // A list operation rewrites the list at the path.
    const places = ops.map((op, k) => (op.k === 'check' || op.k === 'set' || recs[k] !== null ? null : this.located(paths[k])));
    const sets = ops.map((op, k) => (op.k === 'set' ? this.writer(paths[k], false) : null));
    const wakes = ops.map((op) =>
      // The woken go into both lists, the waker itself not into the second (the pairs made once, not per wake).
      op.k === 'wake'
        ? { prefix: op.prefix, into: [[this.located(this.path(op.into[0])), false], [this.located(this.path(op.into[1])), true]] as Array<[(w: Int32Array) => number, boolean]> }
        : null,
    );
    const woken = anyValues(0) as string[];
    const other = anyValues(0);
    const kinds = ops.map((op) => op.k);
    const intos = ops.map((op) => (op.k === 'moveSorted' ? this.located(this.path(op.into)) : null));
    const nesteds = ops.map((op) => this.nestedOp(op));
    const keepAbsent = ops.map((op) => op.k === 'removeOne' && op.absent === 'keep');
    const indexes = ops.map((op) => (op.k === 'setAt' ? op.index : -1));
    const values = anyValues(n);
    const env = anyValues(0);
    const list = anyValues(0);
    return (out) => {
      const w0 = out.words;
      for (let k = 0; k < n; k++) {
        const when = whens[k];
        skip[k] = when !== null && !when(w0, env) ? 1 : 0;
        if (skip[k] === 1) continue;
        const v = evs[k](w0, env);
        if (kinds[k] === 'check' && !v) throw BAIL;
        values[k] = v;
      }
      for (let k = 0; k < n; k++) {
        const kind = kinds[k];
        if (kind === 'check' || skip[k] === 1) continue;
        const rec = recs[k];
        if (rec !== null) {
          rec.apply(out, values[k]);
          continue;
        }
        if (kind === 'set') {
          sets[k]!(out, values[k]);
          continue;
        }
        const nested = nesteds[k];
        if (nested !== null) {
          nested(out, places[k]!(out.words), values[k]);
          continue;
        }
        const p = places[k]!(out.words);
        const xs = readList(out.words, p, strings, list);
        const x = values[k];
        if (kind === 'wake') {
          const wk = wakes[k]!;
          woken.length = 0;
          let j = 0;
          for (let i = 0; i < xs.length; i++) {
            const y = xs[i];
            if (typeof y === 'string' && y.startsWith(wk.prefix)) woken.push(y.slice(wk.prefix.length));
            else xs[j++] = y;
          }
          if (woken.length === 0) continue;
          xs.length = j;
          writeList(out, p, xs, strings);
          for (const [into, skipSelf] of wk.into) {
            const q = into(out.words);
            const ys = readList(out.words, q, strings, other);
            let changed = false;
            for (const t of woken) {
              if (skipSelf && t === x) continue;
              let i = ys.length;
              while (i > 0 && (ys[i - 1] as string) > t) i--;
              insertAt(ys, i, t);
              changed = true;
            }
            if (changed) writeList(out, q, ys, strings);
          }
          continue;
        }
        // List moves: clear, insertSortedOpt, moveSorted.
        if (kind === 'clear' || kind === 'insertSortedOpt' || kind === 'moveSorted') {
          if (kind === 'insertSortedOpt') {
            if (x === undefined) continue;
            sortedInsert(xs, x);
            writeList(out, p, xs, strings);
          } else if (kind === 'clear') writeList(out, p, NONE, strings);
          else {
            writeList(out, p, NONE, strings);
            if (xs.length === 0) continue;
            const q = intos[k]!(out.words);
            const ys = readList(out.words, q, strings, other);
            for (let i = 0; i < xs.length; i++) sortedInsert(ys, xs[i]);
            writeList(out, q, ys, strings);
          }
          continue;
        }
        switch (kind) {
          case 'insertSorted': {
            sortedInsert(xs, x);
            break;
          }
          case 'removeOne': {
            const i = xs.indexOf(x);
            if (i < 0) {
              if (keepAbsent[k]) continue;
              throw BAIL;
            }
            removeAt(xs, i);
            break;
          }
          case 'append':
            xs.push(x);
            break;
          case 'setAt':
            if (indexes[k] >= xs.length) throw BAIL;
            xs[indexes[k]] = x;
            break;
          case 'removeAll': {
            let j = 0;
            for (let i = 0; i < xs.length; i++) if (xs[i] !== x) xs[j++] = xs[i];
            if (j === xs.length) continue;
            xs.length = j;
            break;
          }
        }
        writeList(out, p, xs, strings);
      }
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Nested values (./declared.ts "nested values"): isNull / obj / arr / readAt expressions; put / setKey /
  // deleteKey operations (values encoded by a codec on the run's string table, so their words are the
  // codec's); choose and compute, each an action's one operation.

  private nestedCodec: { codec: ContextCodec; scratch: WordBuffer } | null = null;

  /** A codec of its own (its decode cache and record shapes apart from the run's) on the run's string table. */
  private valueCodec(): { codec: ContextCodec; scratch: WordBuffer } {
    return (this.nestedCodec ??= { codec: new ContextCodec(true, this.strings as StringTable), scratch: new WordBuffer(64) });
  }

  private nestedExpr(e: Expr): Ev {
    const strings = this.strings;
    switch (e.k) {
      case 'isNull': {
        const at = this.located(this.path(e.path));
        return (w) => w[at(w)] === T_NULL;
      }
      case 'obj': {
        const keys = e.fields.map(([k]) => k);
        const evs = e.fields.map(([, x]) => this.expr(x));
        return (w, env) => {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < keys.length; i++) o[keys[i]] = evs[i](w, env);
          return o;
        };
      }
      case 'arr': {
        const evs = e.items.map((x) => this.expr(x));
        return (w, env) => evs.map((ev) => ev(w, env));
      }
      case 'readAt': {
        const list = this.located(this.path(e.path));
        const idx = e.idx.map((x) => this.expr(x));
        const last = idx.length - 1;
        return (w, env) => {
          let p = list(w);
          for (let k = 0; k < last; k++) p = elementPlace(w, p, idx[k](w, env));
          return elementAt(w, p, idx[last](w, env), strings);
        };
      }
      default:
        throw new Error(`not a nested-value expression: ${e.k}`);
    }
  }

  /** A put / setKey / deleteKey operation, given the place of its path and its value; null for the other kinds. */
  private nestedOp(op: PathOp): ((out: WordBuffer, p: number, v: unknown) => void) | null {
    if (op.k !== 'put' && op.k !== 'setKey' && op.k !== 'deleteKey') return null;
    const strings = this.strings;
    const c = this.valueCodec();
    if (op.k === 'put') {
      return (out, p, v) => {
        const b = encodeNested(c, v);
        replaceValue(out, p, b.words, b.length);
      };
    }
    const key = op.key;
    if (op.k === 'setKey') {
      return (out, p, v) => {
        const b = encodeNested(c, v);
        setRecordKey(out, p, key, b.words, b.length, strings);
      };
    }
    return (out, p) => deleteRecordKey(out, p, key, strings);
  }

  /** An action whose one operation is a choose or a compute. */
  private wholeOp(ops: PathOp[]): LinkedAction {
    const op = ops[0];
    if (ops.length !== 1) throw new Error(`a declared ${ops.find((o) => o.k === 'choose' || o.k === 'compute')!.k} must be its action's one operation`);
    if (op.k === 'choose') {
      const t = this.expr(op.e);
      const a = this.ops(op.then);
      const b = this.ops(op.else);
      const env: unknown[] = [];
      return (out) => (t(out.words, env) ? a(out) : b(out));
    }
    if (op.k !== 'compute') throw new Error(`not a whole operation: ${op.k}`);
    const keys = op.reads;
    const places = keys.map((k) => this.located(this.path([k])));
    const fn = op.fn;
    const c = this.valueCodec();
    const placeOf = new Map<string, (w: Int32Array) => number>();
    return (out) => {
      // Only the listed keys are decoded; reading another one throws (UNREAD), it is not a BAIL.
      const ctx: Record<string, unknown> = Object.create(UNREAD);
      for (let i = 0; i < keys.length; i++) ctx[keys[i]] = c.codec.decode(out.words, places[i](out.words))[0];
      let patch: Record<string, unknown>;
      try {
        patch = fn(ctx);
      } catch (e) {
        if (e instanceof UnreadKey) throw e;
        throw BAIL;
      }
      for (const key of Object.keys(patch)) {
        let place = placeOf.get(key);
        if (place === undefined) placeOf.set(key, (place = this.located(this.path([key]))));
        const b = encodeNested(c, patch[key]);
        replaceValue(out, place(out.words), b.words, b.length);
      }
    };
  }
}

// Nested values, continued: the helpers of the Linker's block above.

/** A context key a compute operation did not list in its reads: a bug of the declaration, not a BAIL. */
class UnreadKey extends Error {}
const UNREAD = new Proxy(Object.create(null), {
  get(_t, key) {
    throw new UnreadKey(`declared compute read context.${String(key)}, which is not in its reads list: add it`);
  },
});

/** The words of a plain value, encoded as the codec encodes it (BAIL for a value the codec refuses). */
function encodeNested(c: { codec: ContextCodec; scratch: WordBuffer }, v: unknown): WordBuffer {
  c.scratch.reset();
  try {
    c.codec.encode(v, c.scratch);
  } catch {
    throw BAIL;
  }
  return c.scratch;
}

/**
 * A path's key in the linker's maps, one per path: keys joined with a separator made a key holding it one path
 * with two keys (context['a\0b'] and context.a.b), and the empty key the context record's.
 */
const pathKey = (path: readonly Segment[]): string => JSON.stringify(path.map((s) => s.key));

/** A place kept per state: where the value at a path starts (valid while `stamp` is the linker's). */
interface Slot {
  stamp: number;
  at: number;
  /** The last key of its path (null: the context record). */
  seg: Segment | null;
  /** The slots of the paths one key longer. */
  children: Slot[];
  /**
   * Those children by key id (record fields) and by index (array elements), made on first fill (null: to
   * make again). Arrays, not maps: a key id is a small integer (the string table's), read per field walked.
   */
  fields: Array<Slot | undefined> | null;
  elements: Array<Slot | undefined> | null;
  /** How many children fields and elements hold (the walk of a value stops when it has found them all). */
  fieldCount: number;
  elementCount: number;
  /** The stamp at which the walk from the context record last ran (on the context record's slot). */
  filled: number;
}

const newSlot = (seg: Segment | null): Slot => ({ stamp: -1, at: 0, seg, children: [], fields: null, elements: null, fieldCount: 0, elementCount: 0, filled: -1 });

/** The largest key id or index + 1 fill's tables hold. */
const TABLE_LIMIT = 1 << 16;

/** The slot's children by key id and by index (fill's tables). */
function indexChildren(slot: Slot): void {
  // Ids and indexes past TABLE_LIMIT are not tabled (a table that large would cost more than it saves): their
  // slots are not filled by the walk, and `located` finds them on their own (locateIn).
  const kids = slot.children.filter((c) => c.seg !== null && !c.seg.isLength);
  const byKey = kids.filter((c) => c.seg!.index < 0 && c.seg!.keyId() < TABLE_LIMIT);
  const byIndex = kids.filter((c) => c.seg!.index >= 0 && c.seg!.index < TABLE_LIMIT);
  // Filled with undefined (no holes: a hole is read through the prototype chain, and a large id would make
  // a sparse array a dictionary).
  const fields: Array<Slot | undefined> = new Array(Math.max(0, ...byKey.map((c) => c.seg!.keyId() + 1))).fill(undefined);
  const elements: Array<Slot | undefined> = new Array(Math.max(0, ...byIndex.map((c) => c.seg!.index + 1))).fill(undefined);
  for (const c of byKey) fields[c.seg!.keyId()] = c;
  for (const c of byIndex) elements[c.seg!.index] = c;
  slot.fields = fields;
  slot.elements = elements;
  slot.fieldCount = byKey.length;
  slot.elementCount = byIndex.length;
}

/**
 * Walks the value at p (the place of `slot`) once, keeping the place of every record field and array element
 * a slot names below it, for this stamp; returns where the value ends, or -1 when `end` is false (the caller
 * needs no end: the walk stops at the last place it has to find). From the context record, one walk per
 * state finds every place the linked code reads or writes.
 */
function fill(w: Int32Array, p: number, slot: Slot, stamp: number, end = false): number {
  slot.filled = stamp;
  const tag = w[p];
  if (tag !== T_OBJ && tag !== T_ARR) return end ? endOf(w, p) : -1;
  if (slot.fields === null || slot.elements === null) indexChildren(slot);
  const n = w[p + 1];
  let q = p + 2;
  if (tag === T_OBJ) {
    const fields = slot.fields!;
    const ids = fields.length;
    let left = slot.fieldCount;
    for (let i = 0; i < n; i++) {
      const id = w[q];
      const c = id < ids ? fields[id] : undefined;
      q++;
      if (c === undefined) q = endOf(w, q);
      else {
        c.at = q;
        c.stamp = stamp;
        const more = --left > 0 || end;
        if (c.children.length !== 0) q = fill(w, q, c, stamp, more);
        else if (more) q = endOf(w, q);
        if (!more) return -1;
      }
    }
  } else {
    const elements = slot.elements!;
    let left = slot.elementCount;
    for (let i = 0; i < n; i++) {
      const c = i < elements.length ? elements[i] : undefined;
      if (c === undefined) q = endOf(w, q);
      else {
        c.at = q;
        c.stamp = stamp;
        const more = --left > 0 || end;
        if (c.children.length !== 0) q = fill(w, q, c, stamp, more);
        else if (more) q = endOf(w, q);
        if (!more) return -1;
      }
    }
  }
  return q;
}

/** An empty list (list moves write it). */
const NONE: readonly unknown[] = [];

/**
 * insertSorted() (machines/kernel/path.ts), in place: x after every element not greater than it, in a list of
 * strings or of numbers (one type; anything else BAILs, where JavaScript's > would compare across types).
 */
function sortedInsert(xs: unknown[], x: unknown): void {
  const type = typeof x;
  if (type !== 'string' && type !== 'number') throw BAIL;
  for (let i = 0; i < xs.length; i++) if (typeof xs[i] !== type) throw BAIL;
  let i = xs.length;
  while (i > 0 && (xs[i - 1] as string) > (x as string)) i--;
  insertAt(xs, i, x);
}

/** The expression with its locals moved up by `base` slots (value functions of one action share an env). */
function shiftLocals(e: Expr, base: number): Expr {
  if (base === 0) return e;
  switch (e.k) {
    case 'local':
      return { k: 'local', i: e.i + base };
    case 'bin':
    case 'logic':
      return { ...e, a: shiftLocals(e.a, base), b: shiftLocals(e.b, base) };
    case 'unary':
      return { ...e, a: shiftLocals(e.a, base) };
    case 'cond':
      return { k: 'cond', t: shiftLocals(e.t, base), a: shiftLocals(e.a, base), b: shiftLocals(e.b, base) };
    case 'includes':
      return { ...e, x: shiftLocals(e.x, base) };
    case 'startsWith':
      return { ...e, a: shiftLocals(e.a, base) };
    case 'index':
      return { ...e, i: shiftLocals(e.i, base) };
    case 'listEvery':
    case 'entryOf':
      return { ...e, x: shiftLocals(e.x, base) };
    case 'strPart':
    case 'toNumber':
      return { ...e, a: shiftLocals(e.a, base) };
    default:
      return e;
  }
}

// Record operations (continued): recWhen flattened, and the list edits of recEachValue.

/** The ops with recWhen blocks flattened: each op with the condition it runs under (the conjunction of its blocks'). */
function recFlatten(ops: PathOp[], when: Expr | null): Array<{ op: PathOp; when: Expr | null }> {
  const out: Array<{ op: PathOp; when: Expr | null }> = [];
  for (const op of ops) {
    if (op.k !== 'recWhen') {
      out.push({ op, when });
      continue;
    }
    const yes = when === null ? op.e : ({ k: 'logic', op: '&&', a: when, b: op.e } as Expr);
    const notE: Expr = { k: 'unary', op: '!', a: op.e };
    const no = when === null ? notE : ({ k: 'logic', op: '&&', a: when, b: notE } as Expr);
    out.push(...recFlatten(op.then, yes), ...recFlatten(op.else, no));
  }
  return out;
}

/** One recEachValue edit of xs in place; true when it changed. */
function editList(xs: unknown[], kind: RecListEdit['k'], x: unknown, y: unknown): boolean {
  switch (kind) {
    case 'removeAll': {
      let j = 0;
      for (let i = 0; i < xs.length; i++) if (xs[i] !== x) xs[j++] = xs[i];
      if (j === xs.length) return false;
      xs.length = j;
      return true;
    }
    case 'replaceAll': {
      let changed = false;
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] === x) {
          xs[i] = y;
          changed = true;
        }
      }
      return changed;
    }
    case 'removeOneIfMore': {
      let count = 0;
      for (let i = 0; i < xs.length; i++) if (xs[i] === x) count++;
      if (!(count > (y as number))) return false;
      removeAt(xs, xs.indexOf(x));
      return true;
    }
  }
}
