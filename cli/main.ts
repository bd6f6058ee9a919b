// The interleave command line: check, show, replay, list. The one place that prints and picks exit codes.
import { writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { InputError, ModelError, ModelRuntimeError } from '../explorer/errors.ts';
import { instantiate, resolveParams, resolveVariant, selectInvariants, TOOL_VERSION } from '../explorer/index.ts';
import { FAIRNESS, type Fairness } from '../explorer/properties/liveness.ts';
import { replayTrace } from '../explorer/replay.ts';
import { parseSeed } from '../explorer/prng.ts';
import { SEARCH_STRATEGY_NAMES, type SearchStrategyName } from '../explorer/strategies/index.ts';
import { collectSpecFiles, runSpec, type CheckOptions, type SpecOutcome } from './check.ts';
import { bundledModelNames, loadAllBundled, loadModel } from './models.ts';
import { jsonDocument, junitXml, progressText, renderTable, verdictText } from './report.ts';
import { renderTrace } from './show.ts';
import { renderMermaid } from './graph.ts';
import { cmdSwarm } from './swarm.ts';
import { loadSpec, loadTrace } from './spec.ts';

/** Exit codes: 0 all outcomes match, 1 some do not (or a replay diverges), 2 bad input, 3 internal error. */
export const EXIT = { OK: 0, MISMATCH: 1, INPUT: 2, INTERNAL: 3 } as const;

const USAGE = `interleave ${TOOL_VERSION}: a model checker for kernel concurrency protocols written as XState statecharts

usage:
  interleave check [spec.json|dir ...]   run specs (default: specs/) and compare each outcome with its expectation
      --json                  print one JSON document (no table, no progress)
      --junit FILE            also write JUnit XML to FILE
      --strategy bfs|dfs|random
                              search order (default: the spec's, else bfs); random: random walks, never pass
      --seed N                seed of the random walks (default: the spec's); printed in the report and the trace
      --walks N               random walks: stop after N walks (incomplete)
      --max-states N          stop after N distinct states (the run is then incomplete)
      --max-depth N           do not expand states deeper than N steps (incomplete if cut); random walks end there
                              (default 1000)
      --timeout SECONDS       stop after SECONDS (incomplete)
      --workers N             threads for the breadth-first safety search (default 1); the same verdicts and
                              counts, a counterexample of the same length (possibly another interleaving)
      --fairness none|weak    fairness for livelock/starvation checks (default: the spec's, else weak)
      --lock-order            also check lock order (lockdep over every interleaving): verdict kind lock-order
      --preemptions K         only schedules with at most K preemptive context switches, fewest first (CHESS,
                              Loom): the first counterexample has the fewest; incomplete if the bound cut anything
      --bitstate W            bitstate hashing: the visited set is a bit array of 2^W bits (3 hashes, as SPIN's
                              -DBITSTATE -w W); reports the hash factor and expected coverage; never pass
      --checkpoint FILE       save the breadth-first safety search (one thread or --workers) to FILE, atomically,
                              every --checkpoint-every seconds (default 60); one spec only
      --resume FILE           continue the search saved in FILE: the same counts, verdict and counterexample as a
                              run never stopped; refused if FILE is from another model, variant, params, options
                              or interleave version
      --out DIR               where counterexamples go (default: counterexamples)
      --no-save               do not write counterexamples
      --quiet                 no progress line
  interleave swarm SPEC --jobs N         N diversified searches (bfs, dfs over permuted successor orders, random walks)
                                         in parallel processes; merges them: the shortest counterexample, totals, coverage
  interleave swarm SPEC --shard I/N      run one shard (I from JOB_COMPLETION_INDEX when set: --shard N) and write its
                                         result to swarm-results/SPEC.shard-I-of-N.json (a cluster job or CI matrix entry)
  interleave swarm --merge FILES...      merge shard results
      --seed N  --timeout S (per job, default: the spec's, else 60)  --max-states N  --max-depth N
      --out DIR (default swarm-results)  --wait-all (do not stop the other jobs at the first violation)  --json  --quiet
  interleave show TRACE.json             render a counterexample as a race diagram
  interleave replay TRACE.json [--variant V] [--param k=v ...]
                                         re-run a trace on the current model; exit 0 if the same violation is reached
  interleave list                        bundled models, their variants and params, and the specs in specs/
  interleave graph MODEL [--variant V] [--param k=v ...]
                                         the model's statechart as a Mermaid state diagram (MODEL: a name or a module path)

exit codes: 0 every outcome matches, 1 a mismatch (or a replay that diverges), 2 bad input, 3 internal error`;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  multi: Map<string, string[]>;
}

const VALUE_FLAGS = new Set(['--junit', '--fairness', '--strategy', '--max-states', '--max-depth', '--timeout', '--workers', '--out', '--variant', '--param', '--seed', '--walks', '--jobs', '--shard', '--checkpoint', '--checkpoint-every', '--resume', '--bitstate', '--preemptions']);
const BOOL_FLAGS = new Set(['--json', '--no-save', '--quiet', '--lock-order', '--help', '-h', '--no-changes', '--loose', '--merge', '--wait-all']);

function parseArgs(args: string[]): Parsed {
  const p: Parsed = { positional: [], flags: new Map(), multi: new Map() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-')) {
      const [name, inline] = a.includes('=') && a.startsWith('--') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      if (VALUE_FLAGS.has(name)) {
        const v = inline ?? args[++i];
        if (v === undefined) throw new InputError(`${name} needs a value; see interleave --help`);
        p.flags.set(name, v);
        p.multi.set(name, [...(p.multi.get(name) ?? []), v]);
      } else if (BOOL_FLAGS.has(name)) p.flags.set(name, true);
      else throw new InputError(`unknown option ${a}; see interleave --help`);
    } else p.positional.push(a);
  }
  return p;
}

function intFlag(p: Parsed, name: string): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InputError(`${name} ${String(v)}: expected a non-negative number`);
  return n;
}

class Printer {
  out(s: string) {
    process.stdout.write(s + '\n');
  }
  err(s: string) {
    process.stderr.write(s + '\n');
  }
}

async function cmdCheck(p: Parsed, io: Printer): Promise<number> {
  const json = p.flags.has('--json');
  const quiet = json || p.flags.has('--quiet');
  const strategy = p.flags.get('--strategy') as SearchStrategyName | undefined;
  if (strategy !== undefined && !SEARCH_STRATEGY_NAMES.includes(strategy)) {
    throw new InputError(`--strategy ${String(strategy)}: expected one of ${SEARCH_STRATEGY_NAMES.join(', ')}`);
  }
  const seedFlag = p.flags.get('--seed');
  const seed = seedFlag === undefined ? undefined : parseSeed(String(seedFlag));
  if (strategy === 'random' && seed === undefined) {
    throw new InputError('--strategy random needs --seed N (a whole number, e.g. --seed 7), so that the run can be reproduced');
  }
  const fairness = p.flags.get('--fairness') as Fairness | undefined;
  if (fairness !== undefined && !FAIRNESS.includes(fairness)) {
    throw new InputError(`--fairness ${String(fairness)}: expected one of ${FAIRNESS.join(', ')}`);
  }
  const files = collectSpecFiles(p.positional.length ? p.positional : ['specs']);
  const checkpointFile = p.flags.get('--checkpoint') as string | undefined;
  const resume = p.flags.get('--resume') as string | undefined;
  if ((checkpointFile || resume) && files.length !== 1) {
    throw new InputError(`${checkpointFile ? '--checkpoint' : '--resume'}: a checkpoint holds one search; give exactly one spec (got ${files.length})`);
  }
  if (p.flags.has('--checkpoint-every') && !checkpointFile) throw new InputError('--checkpoint-every needs --checkpoint FILE');
  const everyRaw = p.flags.get('--checkpoint-every');
  const every = everyRaw === undefined ? undefined : Number(everyRaw);
  if (every !== undefined && !(every > 0)) throw new InputError(`--checkpoint-every ${String(everyRaw)}: expected a positive number of seconds, e.g. --checkpoint-every 300`);
  const isTty = process.stderr.isTTY;
  const opts: CheckOptions = {
    strategy,
    seed,
    walks: intFlag(p, '--walks'),
    bitstate: intFlag(p, '--bitstate'),
    preemptions: intFlag(p, '--preemptions'),
    ...(checkpointFile ? { checkpoint: { file: checkpointFile, everySeconds: every } } : {}),
    ...(resume ? { resume } : {}),
    maxStates: intFlag(p, '--max-states'),
    maxDepth: intFlag(p, '--max-depth'),
    timeoutSeconds: intFlag(p, '--timeout'),
    workers: intFlag(p, '--workers'),
    fairness,
    lockOrder: p.flags.has('--lock-order'),
    outDir: resolve(String(p.flags.get('--out') ?? 'counterexamples')),
    save: !p.flags.has('--no-save'),
    onProgress: quiet
      ? undefined
      : (spec, pr, strategy) => {
          const line = `${spec}: ${progressText(pr, strategy)}`;
          process.stderr.write(isTty ? `\r${line}\x1b[K` : line + '\n');
        },
  };
  const outcomes: SpecOutcome[] = [];
  for (const f of files) {
    const o = await runSpec(f, opts);
    if (!quiet && isTty) process.stderr.write('\r\x1b[K');
    outcomes.push(o);
  }
  const junit = p.flags.get('--junit');
  if (typeof junit === 'string') writeFileSync(junit, junitXml(outcomes));
  if (json) io.out(JSON.stringify(jsonDocument(outcomes), null, 2));
  else {
    io.out(renderTable(outcomes));
    for (const o of outcomes) {
      if (o.error) {
        io.err('');
        io.err(`error: ${o.error.message}`);
        continue;
      }
      if (!o.matched) {
        io.out('');
        io.out(`${o.name}: MISMATCH: ${o.mismatch}`);
      }
      const v = o.result?.verdict;
      if (v?.status === 'incomplete') io.out(`${o.name}: INCOMPLETE: ${v.message}`);
      if (o.result?.seed !== undefined) io.out(`${o.name}: seed ${o.result.seed} (the same walks again: --strategy random --seed ${o.result.seed})`);
    }
    const ok = outcomes.filter((o) => o.matched).length;
    const saved = outcomes.filter((o) => o.counterexample);
    io.out('');
    io.out(`${ok} of ${outcomes.length} specs match their expectation${saved.length ? `; ${saved.length} counterexamples in ${relative(process.cwd(), opts.outDir) || '.'}/` : ''}`);
    // The report ends with how to read and replay each counterexample.
    for (const o of saved) {
      io.out(`  ${o.name}: ${verdictText(o)}: npx interleave show ${o.counterexample}  |  npx interleave replay ${o.counterexample}`);
    }
  }
  if (outcomes.some((o) => o.error?.kind === 'internal')) return EXIT.INTERNAL;
  if (outcomes.some((o) => o.error)) return EXIT.INPUT;
  return outcomes.every((o) => o.matched) ? EXIT.OK : EXIT.MISMATCH;
}

async function cmdShow(p: Parsed, io: Printer): Promise<number> {
  if (p.positional.length !== 1) throw new InputError('usage: interleave show TRACE.json');
  const file = p.positional[0];
  const trace = loadTrace(file);
  io.out(renderTrace(trace, { replayCommand: `npx interleave replay ${file}`, noChanges: p.flags.has('--no-changes') }));
  return EXIT.OK;
}

function parseParamFlags(values: string[]): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const kv of values) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InputError(`--param ${kv}: expected name=value`);
    const raw = kv.slice(i + 1);
    out[kv.slice(0, i)] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

async function cmdReplay(p: Parsed, io: Printer): Promise<number> {
  if (p.positional.length !== 1) throw new InputError('usage: interleave replay TRACE.json [--variant V] [--param k=v ...]');
  const file = p.positional[0];
  const trace = loadTrace(file);
  let modelRef = trace.model;
  let base = process.cwd();
  if (trace.spec) {
    try {
      const spec = loadSpec(trace.spec);
      if (spec.model !== trace.model) {
        modelRef = spec.model;
        base = dirname(resolve(trace.spec));
      }
    } catch {
      // The spec may have moved; the bundled model name is enough.
    }
  }
  const { def } = await loadModel(modelRef, base, `${file}: $.model`);
  const variant = resolveVariant(def, (p.flags.get('--variant') as string | undefined) ?? trace.variant, `${file}: variant`);
  const params = resolveParams(def, { ...trace.params, ...parseParamFlags(p.multi.get('--param') ?? []) }, `${file}: $.params`);
  const packed = instantiate(def, params, variant);
  const invariants = selectInvariants(def, params, variant, true);
  // Another variant (or other params) may name its states differently: follow the events only.
  const same = variant === trace.variant && JSON.stringify(params) === JSON.stringify(resolveParams(def, trace.params));
  const r = replayTrace(packed, def, trace, invariants, { strictLocations: same && !p.flags.has('--loose') });
  const label = `${trace.violation.kind}${trace.violation.name !== trace.violation.kind ? ` ${trace.violation.name}` : ''}`;
  if (r.status === 'reproduced') {
    io.out(`REPRODUCED ${label} on ${def.name} variant ${variant} after ${r.stepsReplayed} steps: ${r.reason}`);
    return EXIT.OK;
  }
  if (r.status === 'diverged') io.out(`DIVERGED at step ${r.step} on ${def.name} variant ${variant}: ${r.reason}`);
  else io.out(`NOT REPRODUCED on ${def.name} variant ${variant} after ${r.stepsReplayed} steps: ${r.reason}`);
  return EXIT.MISMATCH;
}

async function cmdGraph(p: Parsed, io: Printer): Promise<number> {
  if (p.positional.length !== 1) throw new InputError('usage: interleave graph MODEL [--variant V] [--param k=v ...]');
  const { def } = await loadModel(p.positional[0], process.cwd(), 'graph');
  const variant = resolveVariant(def, p.flags.get('--variant') as string | undefined, '--variant');
  const params = resolveParams(def, parseParamFlags(p.multi.get('--param') ?? []), '--param');
  const packed = instantiate(def, params, variant);
  const ps = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
  io.out(renderMermaid(packed.system, `${def.name} variant ${variant}${ps ? ` (${ps})` : ''}`));
  return EXIT.OK;
}

async function cmdList(_p: Parsed, io: Printer): Promise<number> {
  const models = await loadAllBundled();
  io.out('Models (machines/):');
  for (const m of models) {
    io.out(`  ${m.name}: ${m.description}`);
    for (const [v, spec] of Object.entries(m.variants)) io.out(`    variant ${v}${v === m.defaultVariant ? ' (default)' : ''}: ${spec.description}`);
    for (const [k, spec] of Object.entries(m.params)) {
      const range = spec.min !== undefined || spec.max !== undefined ? ` [${spec.min ?? ''}..${spec.max ?? ''}]` : '';
      io.out(`    param ${k} = ${spec.default}${range}: ${spec.description}`);
    }
  }
  io.out('');
  io.out('Specs (specs/):');
  let files: string[] = [];
  try {
    files = collectSpecFiles(['specs']);
  } catch {
    files = [];
  }
  for (const f of files) {
    try {
      const s = loadSpec(f);
      const exp = s.expect.status === 'violation' ? `${s.expect.kind}${s.expect.name ? `:${s.expect.name}` : ''}` : s.expect.status;
      io.out(`  ${f}: ${s.model}${s.variant ? `/${s.variant}` : ''} ${JSON.stringify(s.params ?? {})} expect ${exp}`);
    } catch (e) {
      io.out(`  ${f}: INVALID (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (bundledModelNames().length === 0) io.out('  (none)');
  return EXIT.OK;
}

export async function main(argv: string[]): Promise<number> {
  const io = new Printer();
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      io.out(USAGE);
      return cmd ? EXIT.OK : EXIT.INPUT;
    }
    const p = parseArgs(rest);
    if (p.flags.has('--help') || p.flags.has('-h')) {
      io.out(USAGE);
      return EXIT.OK;
    }
    switch (cmd) {
      case 'check':
        return await cmdCheck(p, io);
      case 'show':
        return await cmdShow(p, io);
      case 'replay':
        return await cmdReplay(p, io);
      case 'list':
        return await cmdList(p, io);
      case 'graph':
        return await cmdGraph(p, io);
      case 'swarm':
        return await cmdSwarm(
          {
            positional: p.positional,
            jobs: p.flags.get('--jobs') as string | undefined,
            shard: p.flags.get('--shard') as string | undefined,
            merge: p.flags.has('--merge'),
            seed: p.flags.has('--seed') ? parseSeed(String(p.flags.get('--seed'))) : undefined,
            timeoutSeconds: intFlag(p, '--timeout'),
            maxStates: intFlag(p, '--max-states'),
            maxDepth: intFlag(p, '--max-depth'),
            out: p.flags.get('--out') as string | undefined,
            json: p.flags.has('--json'),
            quiet: p.flags.has('--quiet'),
            waitAll: p.flags.has('--wait-all'),
          },
          io,
        );
      default:
        throw new InputError(`unknown command '${cmd}'; commands: check, show, replay, list, graph, swarm (interleave --help)`);
    }
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`error: ${e.message}`);
      return EXIT.INPUT;
    }
    if (e instanceof ModelError || e instanceof ModelRuntimeError) {
      io.err(`error: ${e.message}`);
      return EXIT.INPUT;
    }
    io.err(`internal error: ${(e as Error)?.stack ?? e}`);
    return EXIT.INTERNAL;
  }
}

export { verdictText };
