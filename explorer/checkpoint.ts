// Checkpoint files (--checkpoint FILE, --resume FILE): a search saved between two expansions, so a long
// run survives a restart and ends with exactly the counts, verdict and counterexample of a run that was
// never stopped (TLC's checkpoints, Loom's checkpoint file).
//
// Layout (little-endian):
//   "ILVCKPT\n"                          8 bytes of magic
//   u32 header length, header JSON       what the search was: tool version, model, variant, params,
//                                        options (strategy, properties, bounds, workers) and progress
//   sections, each: u16 name length, name (ASCII), u32 byte length, u32 0, bytes (padded to 4)
//   u32 0xffff (end), u32 checksum of everything before it
// The identity part of the header must equal the resuming run's, field by field, or the file is refused
// with the field that differs. Files are written whole and renamed into place (cli/files.ts).
import { InputError } from './errors.ts';

export const CHECKPOINT_FORMAT = 'interleave-checkpoint';
// 2: fingerprints are sums of per-word mixes (explorer/store/fingerprint.ts); a version-1 store holds the old ones.
export const CHECKPOINT_VERSION = 2;
export const CHECKPOINT_MAGIC = 'ILVCKPT\n';
const END = 0xffff;

/** What a checkpoint belongs to: a resumed run must match every field. */
export interface CheckpointIdentity {
  tool: string;
  model: string;
  variant: string;
  params: Record<string, unknown>;
  /** The search options that change what is explored or reported (strategy, properties, bounds, workers ...). */
  options: Record<string, unknown>;
  /**
   * A hash of the compiled model (explorer/distributed/identity.ts: events, threads, transitions, guard labels, the
   * initial state): a model edited since the checkpoint, under the same name, variant and params, differs here.
   */
  tables?: string;
}

export interface CheckpointHeader extends CheckpointIdentity {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Where the search was when saved (for messages): states, transitions, depth, seconds. */
  progress: Record<string, number>;
  /** Search-specific scalars and records (counters, a pending violation); JSON. */
  state: Record<string, unknown>;
}

export type Sections = Map<string, Uint8Array>;

/** A typed array's bytes (a view, no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A section as an Int32Array (copied, so it is aligned and owns its memory). */
export function int32Section(sections: Sections, name: string, file = 'checkpoint'): Int32Array {
  const b = sections.get(name);
  if (!b) throw new InputError(`${file}: the checkpoint has no '${name}' section; it is damaged or from another search; start the run afresh without --resume`);
  const out = new Int32Array(b.byteLength >>> 2);
  bytesOf(out).set(b.subarray(0, out.byteLength));
  return out;
}

export function uint8Section(sections: Sections, name: string, file = 'checkpoint'): Uint8Array {
  const b = sections.get(name);
  if (!b) throw new InputError(`${file}: the checkpoint has no '${name}' section; it is damaged or from another search; start the run afresh without --resume`);
  return b.slice();
}

function checksum(bytes: Uint8Array, end: number): number {
  // FNV-1a over 32-bit little-endian words (the length is a multiple of 4).
  let h = 0x811c9dc5;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, end >>> 2);
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

const pad4 = (n: number) => (n + 3) & ~3;

export function encodeCheckpoint(header: CheckpointHeader, sections: Sections): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  let size = 8 + 4 + pad4(head.length);
  for (const [name, data] of sections) size += 2 + 2 + pad4(name.length) + 8 + pad4(data.byteLength);
  size += 8;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = 0; i < 8; i++) out[at++] = CHECKPOINT_MAGIC.charCodeAt(i);
  view.setUint32(at, head.length, true);
  at += 4;
  out.set(head, at);
  at += pad4(head.length);
  for (const [name, data] of sections) {
    view.setUint16(at, name.length, true);
    view.setUint16(at + 2, 0, true);
    at += 4;
    for (let i = 0; i < name.length; i++) out[at + i] = name.charCodeAt(i);
    at += pad4(name.length);
    if (data.byteLength > 0xffffffff) throw new RangeError(`checkpoint section ${name} is too large`);
    view.setUint32(at, data.byteLength, true);
    view.setUint32(at + 4, 0, true);
    at += 8;
    out.set(data, at);
    at += pad4(data.byteLength);
  }
  view.setUint32(at, END, true);
  view.setUint32(at + 4, checksum(out, at + 4), true);
  return out;
}

/** The error for a checkpoint that cannot be used: the file, what is wrong with it, and the fix. */
export function unusableCheckpoint(file: string, why: string): InputError {
  return new InputError(`${file}: not a usable interleave checkpoint (${why}); give a file written by --checkpoint, or start the run afresh without --resume`, file);
}

const FIELD_KINDS = {
  string: ['a string', (v: unknown) => typeof v === 'string'],
  number: ['a number', (v: unknown) => typeof v === 'number' && Number.isFinite(v)],
  count: ['a whole number from 0', (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0],
  object: ['an object', (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)],
  list: ['a list', (v: unknown) => Array.isArray(v)],
  strings: ['a list of strings', (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string')],
} as const;

/**
 * A checker of the header's fields (the checksum only says the bytes are those written, not that a tool wrote
 * them): `need(value, 'state.counters', 'object')` returns the value, or throws naming the file and the field.
 */
export function headerFields(file: string) {
  const wrong = (path: string, value: unknown, expected: string) =>
    unusableCheckpoint(file, `its header's ${path} is ${value === undefined ? 'missing' : JSON.stringify(value)}, expected ${expected}`);
  return {
    wrong,
    need<T = any>(value: unknown, path: string, kind: keyof typeof FIELD_KINDS): T {
      const [expected, ok] = FIELD_KINDS[kind];
      if (!ok(value)) throw wrong(path, value, expected);
      return value as T;
    },
  };
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): { header: CheckpointHeader; sections: Sections } {
  const damaged = (why: string) => unusableCheckpoint(file, why);
  if (bytes.length < 20 || bytes.length % 4 !== 0) throw damaged('too short or truncated');
  for (let i = 0; i < 8; i++) if (bytes[i] !== CHECKPOINT_MAGIC.charCodeAt(i)) throw damaged('it does not start with the checkpoint magic');
  // Copy into an aligned buffer of our own.
  const b = new Uint8Array(bytes.length);
  b.set(bytes);
  const view = new DataView(b.buffer);
  const end = b.length - 8;
  if (view.getUint32(end, true) !== END) throw damaged('truncated: no end marker');
  if (view.getUint32(end + 4, true) !== checksum(b, end + 4)) throw damaged('the checksum does not match: the file is damaged');
  let at = 8;
  const headLen = view.getUint32(at, true);
  at += 4;
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(at, at + headLen)));
  } catch {
    throw damaged('its header is not JSON');
  }
  if (header?.format !== CHECKPOINT_FORMAT) throw damaged(`its header format is ${JSON.stringify(header?.format)}`);
  if (header.version !== CHECKPOINT_VERSION) {
    throw new InputError(`${file}: checkpoint format version ${header.version}; this interleave reads version ${CHECKPOINT_VERSION}; resume with the interleave that wrote it, or start afresh`, file);
  }
  const { need } = headerFields(file);
  for (const k of ['tool', 'model', 'variant'] as const) need(header[k], k, 'string');
  for (const k of ['params', 'options', 'progress', 'state'] as const) need(header[k], k, 'object');
  if (header.tables !== undefined) need(header.tables, 'tables', 'string');
  at += pad4(headLen);
  const sections: Sections = new Map();
  while (at < end) {
    const nameLen = view.getUint16(at, true);
    at += 4;
    let name = '';
    for (let i = 0; i < nameLen; i++) name += String.fromCharCode(b[at + i]);
    at += pad4(nameLen);
    const len = view.getUint32(at, true);
    at += 8;
    if (at + len > end) throw damaged(`section ${name} runs past the end`);
    sections.set(name, b.subarray(at, at + len));
    at += pad4(len);
  }
  return { header, sections };
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Refuses a checkpoint that belongs to another tool version, model, variant, params or options, naming
 * the first field that differs, both values and the fix.
 */
export function verifyIdentity(header: CheckpointHeader, expected: CheckpointIdentity, file: string): void {
  const fields: Array<[string, unknown, unknown]> = [
    ['tool version', header.tool, expected.tool],
    ['model', header.model, expected.model],
    ['variant', header.variant, expected.variant],
  ];
  for (const k of new Set([...Object.keys(header.params ?? {}), ...Object.keys(expected.params)])) fields.push([`param ${k}`, header.params?.[k], expected.params[k]]);
  for (const k of new Set([...Object.keys(header.options ?? {}), ...Object.keys(expected.options)])) fields.push([`option ${k}`, header.options?.[k], expected.options[k]]);
  for (const [name, saved, now] of fields) {
    if (canonical(saved) !== canonical(now)) {
      throw new InputError(
        `${file}: the checkpoint is from another run: its ${name} is ${saved === undefined ? '(unset)' : JSON.stringify(saved)}, ` +
          `this run's is ${now === undefined ? '(unset)' : JSON.stringify(now)}; resume with the same model, variant, params, options and ` +
          `interleave version, or start afresh without --resume`,
        file,
      );
    }
  }
  if (expected.tables !== undefined && header.tables !== expected.tables) {
    throw new InputError(
      `${file}: the checkpoint is of another version of model ${expected.model}: ` +
        (header.tables === undefined
          ? `it does not record its model's compiled tables, so this run cannot tell the model is the one it searched; `
          : `its compiled tables (threads, states, events, transitions, guards, the initial state) hash to ${header.tables}, this run's to ${expected.tables}: the model changed since it was written; `) +
        `resume with the model as it was, or start afresh without --resume`,
      file,
    );
  }
}
