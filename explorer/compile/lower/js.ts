// A small compiler for a safe subset of JavaScript guard and assign functions: parses the function's source
// (acorn) and accepts only what it can run on the packed words with the same result as the function on the
// decoded context: reads of context paths, the params (constants at compile time), literals, comparisons,
// arithmetic, logic, conditionals, constant array indexing, `const` locals, and for an assign value the
// copy-and-set idiom on an array (`const a = context.k.slice(); a[i] = v; return a;`). Anything else (a call,
// a free variable, a loop, the event, ...) is refused with the reason, and the transition keeps the
// decoded-object path.
import { parseExpressionAt } from 'acorn';

/** An expression over the context (read paths), the locals of its function, and constants. */
export type Expr =
  | { k: 'const'; v: unknown }
  /** `opt`: a record without the path's last key reads undefined (declared plans; the key is no Object.prototype name). */
  | { k: 'read'; path: string[]; opt?: boolean }
  | { k: 'local'; i: number }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'logic'; op: string; a: Expr; b: Expr }
  | { k: 'unary'; op: string; a: Expr }
  | { k: 'cond'; t: Expr; a: Expr; b: Expr }
  /** The array at a context path includes the value (declared plans only: ./declared.ts). */
  | { k: 'includes'; path: string[]; x: Expr }
  /** The value is a string that starts with `s` (declared plans only). */
  | { k: 'startsWith'; a: Expr; s: string }
  /** Element i (an expression) of the array at a context path, undefined past its end (declared plans only). */
  | { k: 'index'; path: string[]; i: Expr }
  /**
   * Over the threads (declared plans only, with the threads known at link time): some (or every) thread's
   * `f(name, location)` holds, where f gives an expression or a constant per thread and location (the
   * location as ThreadLocations gives it), tabulated when linked.
   */
  | { k: 'threads'; some: boolean; f: (name: string, loc: string) => Expr | boolean }
  // Record reads (declared plans only; ./declared.ts "record operations"):
  /** The record at the path has `key` as its own key. */
  | { k: 'recHasKey'; path: string[]; key: string }
  /** How many keys the record at the path has. */
  | { k: 'recSize'; path: string[] }
  /** The first key (in Object.keys order) of the record at the path whose value === x, or undefined. */
  | { k: 'recKeyOf'; path: string[]; x: Expr }
  /** A fresh copy of the list of scalars at the path. */
  | { k: 'recListAt'; path: string[] }
  /** Object.keys(record).sort() for the record at the path (the encoding's key order): a fresh list. */
  | { k: 'recKeys'; path: string[] }
  // List and entry reads (declared plans only; ./link.ts's "list and entry reads" block):
  /** arr.every((y) => y === x) ('eq'), or arr.every((y) => !y) ('falsy', x unused), for the array at a context path */
  | { k: 'listEvery'; path: string[]; test: 'eq' | 'falsy'; x: Expr }
  /** The first element e of the array at a context path whose part after its first `sep` === x, or undefined; BAIL on an element that is not a string holding `sep` */
  | { k: 'entryOf'; path: string[]; sep: string; x: Expr }
  /** The part of a string before (or after) its first `sep`; BAIL when the value is not a string holding `sep` */
  | { k: 'strPart'; a: Expr; sep: string; side: 'before' | 'after' }
  /** Number(a) */
  | { k: 'toNumber'; a: Expr }
  // Nested values (declared plans only; ./declared.ts "nested values"):
  /** The value at the path is null (false for any other value, records and arrays included). */
  | { k: 'isNull'; path: string[] }
  /** A record built from its fields' values (for `put` and `setKey`). */
  | { k: 'obj'; fields: Array<[string, Expr]> }
  /** An array built from its elements' values (for `put` and `setKey`). */
  | { k: 'arr'; items: Expr[] }
  /** `path[i0][i1]...`: an element of nested arrays by indexes computed at run time. */
  | { k: 'readAt'; path: string[]; idx: Expr[] };

/** One statement of a lowered body, in program order: bind a local, or set an element of the copied array. */
export type Op = { k: 'let'; i: number; e: Expr } | { k: 'set'; index: string; e: Expr };

/** A lowered function body: its statements, and the value it returns (or, for the copy-and-set idiom, the array's path). */
export interface FnPlan {
  locals: number;
  ops: Op[];
  result: Expr;
  /** Set when the function returns a copy of the array at this context path with `set` ops applied. */
  copyOf?: string[] | undefined;
}

/** Why a function was not lowered. */
export class Refused extends Error {}

const refuse = (why: string): never => {
  throw new Refused(why);
};

const BINARY = new Set(['===', '!==', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '**', '&', '|', '^', '<<', '>>', '>>>']);
const LOGICAL = new Set(['&&', '||', '??']);
const UNARY = new Set(['!', '-', '+', '~', 'typeof', 'void']);

/** Evaluates an operator on constants (the same JavaScript operator the lowered code runs). */
export function applyBinary(op: string, a: any, b: any): unknown {
  switch (op) {
    case '===': return a === b;
    case '!==': return a !== b;
    case '==': return a == b;
    case '!=': return a != b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '%': return a % b;
    case '**': return a ** b;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<<': return a << b;
    case '>>': return a >> b;
    case '>>>': return a >>> b;
  }
  return refuse(`operator ${op}`);
}

export function applyUnary(op: string, a: any): unknown {
  switch (op) {
    case '!': return !a;
    case '-': return -a;
    case '+': return +a;
    case '~': return ~a;
    case 'typeof': return typeof a;
    case 'void': return undefined;
  }
  return refuse(`operator ${op}`);
}

const isScalar = (v: unknown) => v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

/**
 * Parsed function nodes by source text (or why the source is not a function): one guard function is
 * lowered once per transition that uses it, with that transition's params, so a model with many
 * threads would parse the same source many times. The nodes are only read.
 */
const parsedBySource = new Map<string, any>();

/** A function's node: an arrow, a function expression, or a method (`name(a, b) { ... }` as toString gives it). */
function parseFunction(fn: Function): any {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return refuse('no source');
  }
  let node = parsedBySource.get(src);
  if (node === undefined) parsedBySource.set(src, (node = parseSource(src)));
  if (typeof node === 'string') return refuse(node);
  return node;
}

/** The function node of a source text, or why it is none. */
function parseSource(src: string): any {
  // Parsed as module (strict) code: what only sloppy code allows does not parse and is refused, where the
  // subset would give it its strict meaning (`function (a, a)`: the second `a`, the params, is the one bound).
  const opts = { ecmaVersion: 'latest' as const, preserveParens: true, sourceType: 'module' as const };
  for (const text of [`(${src})`, `({${src}})`]) {
    let node: any;
    try {
      node = parseExpressionAt(text, 0, opts);
    } catch {
      continue;
    }
    if (node.end !== text.length || node.type !== 'ParenthesizedExpression') continue;
    node = node.expression;
    if (node.type === 'ObjectExpression' && node.properties.length === 1 && node.properties[0].method) return node.properties[0].value;
    if (node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression') return node;
  }
  return 'source does not parse as a function';
}

interface Scope {
  /** Names bound to the context record. */
  context: Set<string>;
  /** A name bound to the args object ({ context, event }). */
  args: string | null;
  /** Names bound to constants (the params, or fields of them). */
  consts: Map<string, unknown>;
  /** Locals: value locals by index; the copied array's name. */
  locals: Map<string, number>;
  copy: string | null;
}

/** The own data property of a constant (no getters, no prototype). */
function constMember(obj: unknown, key: string): unknown {
  if (typeof obj === 'string' && key === 'length') return obj.length;
  if (obj === null || typeof obj !== 'object') return refuse(`property ${key} of ${obj === null ? 'null' : typeof obj}`);
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return refuse('property of a non-plain object');
  if (Array.isArray(obj) && key === 'length') return obj.length;
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (!d) return refuse(`params have no ${key}`);
  if (!('value' in d)) return refuse(`params.${key} is a getter`);
  return d.value;
}

function keyOf(node: any, scope: Scope): string {
  if (!node.computed) return node.property.type === 'Identifier' ? node.property.name : refuse('private member');
  const k = expr(node.property, scope);
  if (k.k !== 'const') return refuse('computed member with a key that is not a constant');
  if (typeof k.v !== 'string' && typeof k.v !== 'number') return refuse('member key that is not a string or number');
  return String(k.v);
}

/**
 * An expression whose value the lowered code uses: never the context record itself (only paths below it are
 * read), nor a constant that is not a scalar (a params record or array, a symbol, a bigint: an operator's
 * conversion of it may call its valueOf or throw, a throw that must come from the model's function).
 */
function expr(node: any, scope: Scope): Expr {
  const e = term(node, scope);
  if (e.k === 'read' && e.path.length === 0) return refuse('the whole context as a value');
  if (e.k === 'const' && !isScalar(e.v)) return refuse(`a constant ${typeof e.v} as a value`);
  return e;
}

/** An expression, or the context record itself (`context`, `args.context`: the base of a member expression). */
function term(node: any, scope: Scope): Expr {
  switch (node.type) {
    case 'Literal':
      if ('regex' in node || 'bigint' in node) return refuse('regex or bigint literal');
      return { k: 'const', v: node.value };
    case 'TemplateLiteral':
      if (node.expressions.length) return refuse('template with expressions');
      return { k: 'const', v: node.quasis[0].value.cooked };
    case 'Identifier': {
      const name: string = node.name;
      if (scope.locals.has(name)) return { k: 'local', i: scope.locals.get(name)! };
      if (scope.consts.has(name)) return { k: 'const', v: scope.consts.get(name) };
      if (scope.context.has(name)) return { k: 'read', path: [] };
      if (name === scope.copy) return refuse('the copied array read as a value');
      // (Only `args.context` is read: the args object itself is no value here, also when its parameter is named undefined.)
      if (name === scope.args) return refuse('the args object as a value');
      if (name === 'undefined') return { k: 'const', v: undefined };
      return refuse(`free variable ${name}`);
    }
    case 'MemberExpression': {
      if (node.optional) return refuse('optional chaining');
      if (unparen(node.object).type === 'Identifier' && unparen(node.object).name === scope.args && !node.computed && node.property.name === 'context') {
        return { k: 'read', path: [] };
      }
      const obj = term(node.object, scope);
      const key = keyOf(node, scope);
      if (obj.k === 'const') return { k: 'const', v: constMember(obj.v, key) };
      // (A record key __proto__ is in the words but not an own key of the decoded record: decode's assignment sets none.)
      if (obj.k === 'read') return key === '__proto__' ? refuse('context key __proto__') : { k: 'read', path: [...obj.path, key] };
      return refuse('member of a computed value');
    }
    case 'BinaryExpression': {
      if (!BINARY.has(node.operator)) return refuse(`operator ${node.operator}`);
      const a = expr(node.left, scope);
      const b = expr(node.right, scope);
      if (a.k === 'const' && b.k === 'const' && isScalar(a.v) && isScalar(b.v)) return { k: 'const', v: applyBinary(node.operator, a.v, b.v) };
      return { k: 'bin', op: node.operator, a, b };
    }
    case 'LogicalExpression': {
      if (!LOGICAL.has(node.operator)) return refuse(`operator ${node.operator}`);
      return { k: 'logic', op: node.operator, a: expr(node.left, scope), b: expr(node.right, scope) };
    }
    case 'UnaryExpression': {
      if (!UNARY.has(node.operator)) return refuse(`operator ${node.operator}`);
      const a = expr(node.argument, scope);
      if (a.k === 'const' && isScalar(a.v)) return { k: 'const', v: applyUnary(node.operator, a.v) };
      return { k: 'unary', op: node.operator, a };
    }
    case 'ParenthesizedExpression':
      return term(node.expression, scope);
    case 'ConditionalExpression':
      return { k: 'cond', t: expr(node.test, scope), a: expr(node.consequent, scope), b: expr(node.alternate, scope) };
    default:
      return refuse(`${node.type}`);
  }
}

/** The node inside any parentheses (the parser keeps them, so that the whole source is checked to be one function). */
const unparen = (node: any): any => (node.type === 'ParenthesizedExpression' ? unparen(node.expression) : node);

/** The context path an array copy is made of: `P.slice()` or `[...P]`, or null when the node is neither. */
function copySource(init: any, scope: Scope): string[] | null {
  const node = unparen(init);
  let src: any = null;
  if (node.type === 'CallExpression' && !node.optional && node.arguments.length === 0 && node.callee.type === 'MemberExpression' && !node.callee.computed && !node.callee.optional && node.callee.property.name === 'slice') src = node.callee.object;
  else if (node.type === 'ArrayExpression' && node.elements.length === 1 && node.elements[0]?.type === 'SpreadElement') src = node.elements[0].argument;
  if (src === null) return null;
  const e = expr(src, scope);
  return e.k === 'read' && e.path.length > 0 ? e.path : refuse('array copy of something other than a context path');
}

/** Binds the function's parameters: (args | { context }, params | { a, b }). */
function bindParams(fn: any, params: unknown): Scope {
  if (fn.async || fn.generator) refuse('async or generator function');
  // A function expression's own name is bound inside it: `undefined` would then not be undefined.
  if (fn.id?.name === 'undefined') refuse('a function named undefined');
  const scope: Scope = { context: new Set(), args: null, consts: new Map(), locals: new Map(), copy: null };
  const [first, second, ...rest] = fn.params as any[];
  if (rest.length) refuse('more than two parameters');
  if (first) {
    if (first.type === 'Identifier') scope.args = first.name;
    else if (first.type === 'ObjectPattern') {
      for (const prop of first.properties) {
        if (prop.type !== 'Property' || prop.computed || prop.key.type !== 'Identifier' || prop.value.type !== 'Identifier') refuse('destructuring of the arguments');
        if (prop.key.name !== 'context') refuse(`argument ${prop.key.name} (only the context is lowered)`);
        scope.context.add(prop.value.name);
      }
    } else refuse('first parameter pattern');
  }
  if (second) {
    if (second.type === 'Identifier') scope.consts.set(second.name, params);
    else if (second.type === 'ObjectPattern') {
      for (const prop of second.properties) {
        if (prop.type !== 'Property' || prop.computed || prop.key.type !== 'Identifier' || prop.value.type !== 'Identifier') refuse('destructuring of the params');
        scope.consts.set(prop.value.name, constMember(params, prop.key.name));
      }
    } else refuse('second parameter pattern');
  }
  return scope;
}

/**
 * Lowers a guard function or an assign value function (`(args, params) => value`) with its params fixed.
 * `allowCopy`: accept the copy-and-set idiom (assign values only).
 */
export function lowerFunction(fn: Function, params: unknown, allowCopy: boolean): FnPlan {
  const node = parseFunction(fn);
  const scope = bindParams(node, params);
  if (node.body.type !== 'BlockStatement') return { locals: 0, ops: [], result: expr(node.body, scope) };
  const ops: Op[] = [];
  let copyOf: string[] | undefined;
  const body: any[] = node.body.body;
  for (let s = 0; s < body.length; s++) {
    const st = body[s];
    const isLast = s === body.length - 1;
    if (st.type === 'VariableDeclaration' && (st.kind === 'const' || st.kind === 'let')) {
      for (const d of st.declarations) {
        if (d.id.type !== 'Identifier' || !d.init) refuse('declaration pattern');
        const name: string = d.id.name;
        if (scope.locals.has(name) || scope.consts.has(name) || scope.context.has(name) || name === scope.copy) refuse(`shadowed name ${name}`);
        // (A use of `undefined` before this declaration was read as undefined, where the JavaScript throws.)
        if (name === 'undefined') refuse('a local named undefined');
        const src = allowCopy ? copySource(d.init, scope) : null;
        if (src !== null) {
          if (scope.copy !== null) refuse('two array copies');
          scope.copy = name;
          copyOf = src;
          continue;
        }
        const e = expr(d.init, scope);
        const i = scope.locals.size;
        ops.push({ k: 'let', i, e });
        scope.locals.set(name, i);
      }
    } else if (st.type === 'ExpressionStatement' && st.expression.type === 'AssignmentExpression') {
      const a = st.expression;
      if (a.operator !== '=' || a.left.type !== 'MemberExpression' || a.left.object.type !== 'Identifier' || a.left.object.name !== scope.copy || a.left.optional) {
        refuse('assignment other than an element of the copied array');
      }
      const index = keyOf(a.left, scope);
      const n = Number(index);
      if (!(Number.isInteger(n) && n >= 0 && String(n) === index)) refuse('element write at a key that is not an index');
      ops.push({ k: 'set', index, e: expr(a.right, scope) });
    } else if (st.type === 'ReturnStatement' && isLast && st.argument) {
      if (scope.copy !== null) {
        if (unparen(st.argument).type !== 'Identifier' || unparen(st.argument).name !== scope.copy) refuse('returns something other than the copied array');
        if (!ops.some((op) => op.k === 'set')) refuse('an array copy with no element set');
        return { locals: scope.locals.size, ops, result: { k: 'const', v: undefined }, copyOf };
      }
      return { locals: scope.locals.size, ops, result: expr(st.argument, scope) };
    } else refuse(`statement ${st.type}`);
  }
  return refuse('no return at the end');
}

