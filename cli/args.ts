// The command line's grammar: each command's options (strict, through node's util.parseArgs), its help
// text, and the checks of option values, so a bad option is an error naming the option and the fix.
import { parseArgs } from 'node:util';
import { InputError } from '../explorer/errors.ts';
import { TOOL_VERSION } from '../explorer/index.ts';

interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's name in the help text. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  usage: string;
  summary: string;
  /** Longer notes printed after the options in the command's help. */
  notes?: string;
  options: Record<string, OptionSpec>;
  positionals: { min: number; max: number };
}

const VARIANT: OptionSpec = { type: 'string', value: 'V', help: "the model's variant (default: the spec's, else the model's default)" };
const PARAM: OptionSpec = { type: 'string', multiple: true, value: 'k=v', help: 'a model parameter; repeat for several (overrides the spec\'s)' };
const HELP: OptionSpec = { type: 'boolean', help: 'this help' };

export const COMMANDS: Record<string, CommandSpec> = {
  check: {
    usage: 'interleave check [SPEC.json | DIR | MODEL ...] [options]',
    summary: 'check specs (default: specs/) or models, and compare each outcome with its expectation',
    notes: [
      'A DIR means the specs among its *.json files (JSON files that are not specs, such as package.json, are skipped).',
      'A MODEL (a bundled model name or a path to a model module) is checked without a spec: deadlock, assertions and',
      'every invariant, expected to pass. On a spec, --variant and --param override the spec and the report says so.',
      'depth: the steps of the counterexample, or for a run without one the steps to the deepest state explored.',
    ].join('\n'),
    options: {
      json: { type: 'boolean', help: 'print one JSON document (schemas/check-result.schema.json); no table, no progress' },
      junit: { type: 'string', value: 'FILE', help: 'also write JUnit XML to FILE' },
      strategy: { type: 'string', value: 'bfs|dfs|random', help: "search order (default: the spec's, else bfs); random: random walks, never pass" },
      seed: { type: 'string', value: 'N', help: "seed of the random walks (default: the spec's); printed in the report and stored in the trace" },
      walks: { type: 'string', value: 'N', help: 'random walks: stop after N walks (incomplete); walks end at --max-depth (default 1000)' },
      preemptions: { type: 'string', value: 'K', help: 'only schedules with at most K preemptive context switches, fewest first; incomplete if the bound cut any; unreduced (not with --reduce)' },
      bitstate: { type: 'string', value: 'W', help: "bitstate hashing: a 2^W-bit visited set with 3 hashes (SPIN's -DBITSTATE); never pass" },
      checkpoint: { type: 'string', value: 'FILE', help: 'save the breadth-first safety search (one thread or --workers) to FILE, atomically; one spec only' },
      'checkpoint-every': { type: 'string', value: 'S', help: 'seconds between checkpoints (default 60)' },
      resume: { type: 'string', value: 'FILE', help: 'continue the search saved in FILE: the same counts, verdict and counterexample as a run never stopped' },
      'max-states': { type: 'string', value: 'N', help: 'stop after N distinct states (the run is then incomplete)' },
      'max-depth': { type: 'string', value: 'N', help: 'do not expand states N steps deep (incomplete if cut)' },
      timeout: { type: 'string', value: 'SECONDS', help: 'stop after SECONDS (incomplete)' },
      workers: { type: 'string', value: 'N', help: 'threads for the breadth-first safety search (default 1): same verdicts and counts' },
      nats: { type: 'string', value: 'URL', help: 'spread the breadth-first safety search over worker processes through NATS (nats://[user:pass@]HOST:PORT, tls://...); needs --peers' },
      peers: { type: 'string', value: 'N', help: 'with --nats: how many `interleave worker` processes own a partition each' },
      'nats-creds': { type: 'string', value: 'FILE', help: 'with --nats: a NATS .creds file (user JWT and nkey seed)' },
      'join-timeout': { type: 'string', value: 'SECONDS', help: 'with --nats: how long to wait for --peers workers to join (default 60)' },
      'peer-timeout': { type: 'string', value: 'SECONDS', help: 'with --nats: a worker silent this long (busy rounds included) is lost and the run incomplete (default 300)' },
      fairness: { type: 'string', value: 'none|weak|strong', help: "fairness for livelock/starvation checks (default: the spec's, else weak)" },
      'lock-order': { type: 'boolean', help: 'also check lock order (lockdep over every interleaving): verdict kind lock-order' },
      reduce: { type: 'string', value: 'LIST', help: "reductions for the safety search: symmetry,por or none (default: the spec's \"reduce\", else none); liveness and lock order run unreduced" },
      'check-footprints': { type: 'boolean', help: "first check the model's declared footprints and symmetry groups on its first 20000 states (or --max-states); a wrong one is bad input" },
      variant: VARIANT,
      param: PARAM,
      'cross-check': { type: 'boolean', help: "also step every reachable state with XState's own transition() and compare (slow: small models)" },
      out: { type: 'string', value: 'DIR', help: 'where counterexamples go (default: counterexamples)' },
      'no-save': { type: 'boolean', help: 'do not write counterexamples' },
      quiet: { type: 'boolean', help: 'no progress line' },
      coverage: { type: 'boolean', help: 'list the transitions never taken and states never reached, per thread (JSON: "coverage" per result); one thread' },
      html: { type: 'string', value: 'DIR', help: 'write an HTML viewer of each counterexample to DIR/<spec>.html' },
      help: HELP,
    },
    positionals: { min: 0, max: Infinity },
  },
  show: {
    usage: 'interleave show TRACE.json [options]',
    summary: 'render a counterexample as a race diagram: a column per thread, a row per step',
    notes: 'The trace file is itself JSON (schemas/trace.schema.json); there is no --json.',
    options: {
      'no-changes': { type: 'boolean', help: 'hide the context changes column (narrow terminals)' },
      threads: { type: 'string', value: 'a,b', help: 'only these threads as columns (default: every thread that moves)' },
      fold: { type: 'boolean', help: 'fold runs of steps by one thread into one row (the folded steps named)' },
      width: { type: 'string', value: 'N', help: 'fit the diagram in N columns (default 200, at least 40)' },
      html: { type: 'string', value: 'FILE', help: 'write a self-contained HTML viewer of the trace to FILE' },
      itf: { type: 'boolean', help: 'print the trace as ITF JSON (Apalache/Quint); replay and show read it back' },
      help: HELP,
    },
    positionals: { min: 1, max: 1 },
  },
  replay: {
    usage: 'interleave replay TRACE.json [--variant V] [--param k=v ...] [--loose]',
    summary: 're-run a trace on the current model; exit 0 if the same violation is reached, 1 if not',
    notes: 'A trace whose events or threads the model does not have (a stale trace, or one of another model) is bad input: exit 2.',
    options: {
      variant: VARIANT,
      param: PARAM,
      loose: { type: 'boolean', help: "do not require each thread's state to match the trace's after each step, only the events" },
      help: HELP,
    },
    positionals: { min: 1, max: 1 },
  },
  list: {
    usage: 'interleave list [options]',
    summary: 'bundled models, their variants and params, and the specs in specs/',
    options: { json: { type: 'boolean', help: 'print the list as one JSON document' }, help: HELP },
    positionals: { min: 0, max: 0 },
  },
  graph: {
    usage: 'interleave graph MODEL [--variant V] [--param k=v ...]',
    summary: "the model's statechart as a Mermaid state diagram (MODEL: a bundled name or a module path)",
    options: { variant: VARIANT, param: PARAM, help: HELP },
    positionals: { min: 1, max: 1 },
  },
  swarm: {
    usage: 'interleave swarm SPEC.json --jobs N | SPEC.json --shard I/N | --merge SHARD.json ... [options]',
    summary: 'diversified searches of one spec in parallel (bfs, dfs over permuted successor orders, random walks), merged',
    notes: [
      '--jobs N runs N jobs as processes here; --shard I/N runs one (I from JOB_COMPLETION_INDEX when set: --shard N) and',
      'writes DIR/SPEC.shard-I-of-N.json; --merge combines shard files: the shortest counterexample, summed counts, coverage.',
      'Never pass: without a violation the swarm is incomplete, even when one job explored everything (interleave check',
      'gives the pass verdict). Exit 0 when the merged outcome agrees with the spec (a shard exits 0 whatever it found), 1',
      'when not, 2 on bad input.',
    ].join('\n'),
    options: {
      jobs: { type: 'string', value: 'N', help: 'run N jobs as child processes and merge them' },
      shard: { type: 'string', value: 'I/N', help: 'run shard I of N and write its result' },
      merge: { type: 'boolean', help: 'merge the shard result files given as arguments' },
      seed: { type: 'string', value: 'N', help: "the swarm's base seed (default: the spec's, else 0)" },
      timeout: { type: 'string', value: 'SECONDS', help: "each job's time budget (default: the spec's, else 60)" },
      'max-states': { type: 'string', value: 'N', help: "each job's state budget" },
      'max-depth': { type: 'string', value: 'N', help: 'depth bound (random walks: their length)' },
      out: { type: 'string', value: 'DIR', help: 'where shard results, the merged result and the counterexample go (default: swarm-results)' },
      'wait-all': { type: 'boolean', help: 'let every job run to its budget instead of stopping the others at the first violation' },
      json: { type: 'boolean', help: 'print the merged result as JSON' },
      quiet: { type: 'boolean', help: 'no progress lines' },
      help: HELP,
    },
    positionals: { min: 0, max: Infinity },
  },
  worker: {
    usage: 'interleave worker --nats URL [options]',
    summary: 'serve distributed searches: own one partition of each run a `check --nats URL --peers N` starts',
    notes: [
      'The worker waits in the NATS queue group interleave-workers; a coordinator recruits it, sends the model (a bundled',
      'name, or a module path the worker must have too), checks that the worker built the same model (a hash of the',
      'compiled tables), and runs the rounds. A run whose coordinator is gone is abandoned after --coordinator-timeout.',
      'The URL may carry credentials (nats://user:pass@HOST:PORT, nats://TOKEN@HOST:PORT); they are never printed.',
    ].join('\n'),
    options: {
      nats: { type: 'string', value: 'URL', help: 'the NATS server (nats://[user:pass@]HOST:PORT, or tls://...)' },
      'nats-creds': { type: 'string', value: 'FILE', help: 'a NATS .creds file (user JWT and nkey seed)' },
      once: { type: 'boolean', help: 'exit after one run (a Kubernetes Job) instead of serving the next' },
      'coordinator-timeout': { type: 'string', value: 'SECONDS', help: 'leave a run whose coordinator has not been heard from for SECONDS (default 60)' },
      help: HELP,
    },
    positionals: { min: 0, max: 0 },
  },
  init: {
    usage: 'interleave init DIR',
    summary: 'scaffold a model, a spec and a vitest test in a new (or empty) folder DIR',
    options: { help: HELP },
    positionals: { min: 1, max: 1 },
  },
};

export const EXIT_TEXT = 'exit codes: 0 every outcome matches, 1 a mismatch (or a replay that does not reproduce), 2 bad input, 3 internal error';

export function globalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `interleave ${TOOL_VERSION}: a model checker for kernel concurrency protocols written as XState statecharts`,
    '',
    'usage: interleave COMMAND [options]     (interleave COMMAND --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    '  --version  print the version',
    '',
    EXIT_TEXT,
  ].join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const flag = (k: string, o: OptionSpec) => `--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
  const width = Math.max(...Object.entries(c.options).map(([k, o]) => flag(k, o).length));
  return [
    `usage: ${c.usage}`,
    '',
    c.summary,
    '',
    'options:',
    ...Object.entries(c.options).map(([k, o]) => `  ${flag(k, o).padEnd(width)}  ${o.help}`),
    ...(c.notes ? ['', c.notes] : []),
    '',
    EXIT_TEXT,
  ].join('\n');
}

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses a command's arguments strictly: an option it does not take is an error naming it and the fix. */
export function parseCommand(name: string, args: string[]): ParsedCommand {
  const c = COMMANDS[name];
  const options = Object.fromEntries(Object.entries(c.options).map(([k, o]) => [k, { type: o.type, ...(o.multiple ? { multiple: true } : {}) }]));
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /'(-[^']*)'/.exec(err.message);
    const opt = m?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new InputError(`interleave ${name}: unknown option ${opt}; the options of ${name} are ${Object.keys(c.options).map((k) => `--${k}`).join(', ')} (interleave ${name} --help)`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const o = c.options[opt.replace(/^-+/, '').split(/[ =]/)[0]];
      throw new InputError(
        o && o.type === 'string'
          ? `interleave ${name}: option ${opt} needs a value: ${opt} ${o.value ?? 'VALUE'} (a value starting with '-' goes after '=': ${opt}=VALUE; interleave ${name} --help)`
          : `interleave ${name}: option ${opt} takes no value; write it alone (interleave ${name} --help)`,
      );
    }
    throw new InputError(`interleave ${name}: ${err.message} (interleave ${name} --help)`);
  }
  const values = parsed.values as ParsedCommand['values'];
  if (!values.help) {
    const n = parsed.positionals.length;
    if (n < c.positionals.min || n > c.positionals.max) {
      const extra = n > c.positionals.max ? `: unexpected ${parsed.positionals.slice(c.positionals.max).join(' ')}` : '';
      throw new InputError(`interleave ${name}: wrong arguments${extra}; usage: ${c.usage} (interleave ${name} --help)`);
    }
  }
  return { values, positionals: parsed.positionals };
}

/** A whole-number option: absent -> undefined; anything but an integer in [min, max] is an error naming the option. */
export function intOption(values: ParsedCommand['values'], name: string, range: { min: number; max?: number; example: number }): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const s = String(raw).trim();
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || (range.max !== undefined && n > range.max)) {
    const span = range.max !== undefined ? `from ${range.min} to ${range.max}` : `of at least ${range.min}`;
    throw new InputError(`option --${name} ${JSON.stringify(String(raw))}: expected a whole number ${span}, e.g. --${name} ${range.example}`);
  }
  return n;
}

/** A positive number of seconds (fractions allowed). */
export function secondsOption(values: ParsedCommand['values'], name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(String(raw).trim()) ? Number(raw) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new InputError(`option --${name} ${JSON.stringify(String(raw))}: expected a positive number of seconds, e.g. --${name} 60`);
  return n;
}

/** A choice option: absent -> undefined; otherwise one of `choices`. */
export function choiceOption<T extends string>(values: ParsedCommand['values'], name: string, choices: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (!choices.includes(raw as T)) throw new InputError(`option --${name} ${JSON.stringify(String(raw))}: expected one of ${choices.join(', ')}`);
  return raw as T;
}

/** --param k=v ... as a record (numbers and booleans parsed); a malformed one names the option and the fix. */
export function paramOptions(values: ParsedCommand['values']): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const kv of (values.param as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InputError(`option --param ${JSON.stringify(kv)}: expected name=value, e.g. --param n=6`);
    const raw = kv.slice(i + 1);
    const name = kv.slice(0, i);
    // (Defined, not assigned: a name such as __proto__ is a parameter the model does not have, not the prototype.)
    Object.defineProperty(out, name, { value: raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
