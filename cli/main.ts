// The interleave command line: check, show, replay, list, graph, swarm, worker, init. The one place that prints and picks exit codes.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { InputError, ModelError, ModelRuntimeError, placed, thrownMessage } from '../explorer/errors.ts';
import { instantiate, resolveVariant, selectInvariants, TOOL_VERSION } from '../explorer/index.ts';
import { FAIRNESS } from '../explorer/properties/liveness.ts';
import { SEARCH_STRATEGY_NAMES } from '../explorer/strategies/index.ts';
import { parseSeed } from '../explorer/prng.ts';
import { parseReduce } from '../explorer/reduce/index.ts';
import { choiceOption, commandHelp, COMMANDS, globalHelp, intOption, paramOptions, parseCommand, secondsOption, type ParsedCommand } from './args.ts';
import { overlayParams, runTarget, type CheckOptions, type SpecOutcome } from './check.ts';
import { distributedOptions, runWorker } from './worker.ts';
import { bundledModelNames, loadAllBundled, loadModel, modelPathFrom } from './models.ts';
import { jsonDocument, nothingCheckedText, progressText, renderTable, verdictText } from './report.ts';
import type { CompiledSystem } from '../explorer/compile/index.ts';
import type { Trace } from '../explorer/trace.ts';
import type { ModelDefinition, ParamValue } from '../explorer/model.ts';
import { loadSpec, loadTrace } from './spec.ts';
import { checkFairnessUsed, checkOutputs, checkViewerPath, collectTargets, specsIn } from './targets.ts';

// The modules of one command or one option (swarm and its child processes, init, show, graph, replay, the HTML
// viewer, JUnit, coverage) are loaded by the command that uses them, not at start-up by every command: a small
// check's whole process is mostly start-up, and each module loaded costs it (child_process alone ~10 ms).

/** Exit codes: 0 all outcomes match, 1 some do not (or a replay diverges), 2 bad input, 3 internal error. */
export const EXIT = { OK: 0, MISMATCH: 1, INPUT: 2, INTERNAL: 3 } as const;

class Printer {
  out(s: string) {
    process.stdout.write(s + '\n');
  }
  err(s: string) {
    process.stderr.write(s + '\n');
  }
}

function overrideText(o: SpecOutcome): string | undefined {
  const ov = o.overrides;
  if (!ov) return undefined;
  const parts: string[] = [];
  if (ov.variant) parts.push(`variant ${ov.variant.run} (the spec says ${ov.variant.spec ?? "the model's default"})`);
  for (const [k, v] of Object.entries(ov.params ?? {})) parts.push(`${k}=${v.run} (the spec says ${v.spec ?? 'the default'})`);
  return parts.join(', ');
}

async function cmdCheck(p: ParsedCommand, io: Printer): Promise<number> {
  const v = p.values;
  const json = !!v.json;
  const quiet = json || !!v.quiet;
  const params = paramOptions(v);
  const isTty = process.stderr.isTTY;
  const opts: CheckOptions = {
    strategy: choiceOption(v, 'strategy', SEARCH_STRATEGY_NAMES),
    seed: v.seed === undefined ? undefined : parseSeed(String(v.seed), 'option --seed'),
    walks: intOption(v, 'walks', { min: 1, example: 1000 }),
    preemptions: intOption(v, 'preemptions', { min: 0, max: 1000, example: 2 }),
    bitstate: intOption(v, 'bitstate', { min: 10, max: 32, example: 27 }),
    ...(v.checkpoint !== undefined ? { checkpoint: { file: String(v.checkpoint), everySeconds: secondsOption(v, 'checkpoint-every') } } : {}),
    ...(v.resume !== undefined ? { resume: String(v.resume) } : {}),
    maxStates: intOption(v, 'max-states', { min: 1, example: 1000000 }),
    maxDepth: intOption(v, 'max-depth', { min: 0, example: 50 }),
    timeoutSeconds: secondsOption(v, 'timeout'),
    workers: intOption(v, 'workers', { min: 1, max: 64, example: 2 }),
    nats: distributedOptions(v),
    fairness: choiceOption(v, 'fairness', FAIRNESS),
    variant: v.variant as string | undefined,
    params,
    crossCheck: !!v['cross-check'],
    lockOrder: !!v['lock-order'],
    reduce: v.reduce !== undefined ? parseReduce(String(v.reduce), 'option --reduce') : undefined,
    checkFootprints: !!v['check-footprints'],
    outDir: resolve(String(v.out ?? 'counterexamples')),
    save: !v['no-save'],
    coverage: !!v.coverage,
    onProgress: quiet
      ? undefined
      : (spec, pr, strategy) => {
          const line = `${spec}: ${progressText(pr, strategy)}`;
          process.stderr.write(isTty ? `\r${line}\x1b[K` : line + '\n');
        },
  };
  if ((opts.workers ?? 1) > 1 && opts.strategy === 'dfs') {
    throw new InputError(`options --workers ${opts.workers} and --strategy dfs: the parallel search is breadth-first; drop one of them`);
  }
  if (v['checkpoint-every'] !== undefined && v.checkpoint === undefined) throw new InputError('option --checkpoint-every needs --checkpoint FILE');
  if (v.out !== undefined && v['no-save']) throw new InputError('options --out and --no-save: --no-save writes no counterexample; drop one of them');
  const walkOption = opts.seed !== undefined ? '--seed' : opts.walks !== undefined ? '--walks' : undefined;
  if (walkOption && opts.strategy !== undefined && opts.strategy !== 'random') {
    throw new InputError(`options ${walkOption} and --strategy ${opts.strategy}: the seed and the walks are for random walks; drop ${walkOption} or run --strategy random`);
  }
  const targets = collectTargets(p.positionals, { variant: opts.variant, params });
  if (opts.fairness !== undefined) checkFairnessUsed(targets, opts.fairness);
  if ((opts.checkpoint || opts.resume) && targets.length !== 1) {
    throw new InputError(`option ${opts.checkpoint ? '--checkpoint' : '--resume'}: a checkpoint holds one search; give exactly one spec (got ${targets.length})`);
  }
  const junit = v.junit as string | undefined;
  // Every output is checked before the first run: a bad path loses no results and overwrites nothing.
  const htmlDir = v.html as string | undefined;
  checkOutputs(targets, { outDir: opts.outDir, save: opts.save, junit, checkpoint: opts.checkpoint?.file, resume: opts.resume, html: htmlDir });
  const outcomes: SpecOutcome[] = [];
  const warned = new Set<string>();
  const started = new Date();
  for (const t of targets) {
    const o = await runTarget(t, opts);
    if (!quiet && isTty) process.stderr.write('\r\x1b[K');
    for (const w of o.warnings ?? []) if (!warned.has(w)) (warned.add(w), io.err(`warning: ${w}`));
    // Not refused (a spec may pin only the state count), but said: its pass checked nothing else.
    if (o.result?.nothingChecked) io.err(nothingCheckedText(o.spec));
    outcomes.push(o);
  }
  if (htmlDir !== undefined) {
    for (const o of outcomes) {
      if (!o.result?.trace) continue;
      const out = join(htmlDir, `${o.name}.html`);
      const replay = o.counterexample ? `npx interleave replay ${o.counterexample}` : `npx interleave check ${o.spec}   (the trace was not saved: --no-save)`;
      mkdirOrFail(htmlDir);
      // A model loaded by path: the viewer loads it as replay does, from modelPath (relative to the file named).
      const file = o.counterexample ?? o.spec;
      const trace = o.modelFile ? { ...o.result.trace, modelPath: modelPathFrom(file, o.modelFile) } : o.result.trace;
      await writeViewer(out, trace, await viewerModel(trace, file), replay);
      o.html = relative(process.cwd(), out) || out;
    }
  }
  if (junit !== undefined) {
    const { junitXml } = await import('./junit.ts');
    writeOutput(junit, junitXml(outcomes, { started }), '--junit');
  }
  if (json) {
    io.out(JSON.stringify(jsonDocument(outcomes), null, 2));
    // As when the check cannot start: the document for programs, the error on stderr for whoever reads it.
    for (const o of outcomes) if (o.error) io.err(`error: ${o.error.message}`);
  } else {
    io.out(renderTable(outcomes));
    const coverage = outcomes.some((o) => o.result?.coverage) ? await import('./coverage.ts') : null;
    for (const o of outcomes) {
      if (o.error) {
        io.err('');
        io.err(`error: ${o.error.message}`);
        continue;
      }
      const ov = overrideText(o);
      if (ov) io.out(`${o.name}: run with ${ov}; compared with the spec's expectation`);
      if (o.implicitExpectation && o.result!.verdict.status === 'pass') io.out(`${o.name}: no spec: checked deadlock, assertions${opts.lockOrder ? ', every invariant and the lock order' : ' and every invariant'}`);
      if (o.crossCheck?.status === 'agree') io.out(`${o.name}: cross-check: the engine and XState's transition() agree on all ${o.crossCheck.states} reachable states`);
      if (!o.matched) {
        io.out('');
        io.out(`${o.name}: MISMATCH: ${o.mismatch}`);
      }
      const verdict = o.result!.verdict;
      if (verdict.status === 'incomplete') io.out(`${o.name}: INCOMPLETE: ${verdict.message}`);
      if (o.result!.seed !== undefined) io.out(`${o.name}: seed ${o.result!.seed} (the same walks again: --strategy random --seed ${o.result!.seed})`);
      if (o.result!.coverage) {
        io.out('');
        io.out(coverage!.renderCoverage(o.name, o.result!.coverage, verdict.status));
      }
      const red = o.result!.reductions;
      if (red) io.out(`${o.name}: reduced by ${red.ran.length ? red.ran.join(', ') : 'nothing'}${red.notes.length ? ` (${red.notes.join('; ')})` : ''}`);
    }
    const ok = outcomes.filter((o) => o.matched).length;
    const saved = outcomes.filter((o) => o.counterexample);
    io.out('');
    io.out(`${ok} of ${outcomes.length} ${outcomes.every((o) => o.implicitExpectation) ? 'models pass' : 'specs match their expectation'}${saved.length ? `; ${saved.length} counterexamples in ${relative(process.cwd(), opts.outDir) || '.'}/` : ''}`);
    // The report ends with how to read and replay each counterexample.
    for (const o of saved) {
      io.out(`  ${o.name}: ${verdictText(o)}: npx interleave show ${o.counterexample}  |  npx interleave replay ${o.counterexample}`);
    }
  }
  if (outcomes.some((o) => o.error?.kind === 'internal')) return EXIT.INTERNAL;
  if (outcomes.some((o) => o.error)) return EXIT.INPUT;
  return outcomes.every((o) => o.matched) ? EXIT.OK : EXIT.MISMATCH;
}

/** show prints the race diagram, or with --itf the ITF JSON, or with --html writes the viewer: one of them. */
function checkShowOptions(v: ParsedCommand['values']): void {
  if (v.itf && v.html !== undefined) throw new InputError('options --itf and --html: --itf prints the trace as ITF JSON, --html writes the HTML viewer; give one of them (or run show twice)');
  const output = v.itf ? '--itf' : v.html !== undefined ? '--html' : undefined;
  if (!output) return;
  for (const o of ['threads', 'fold', 'width', 'no-changes']) {
    if (v[o] !== undefined) throw new InputError(`option --${o} applies to the race diagram, not to ${output}; drop it`);
  }
}

async function cmdShow(p: ParsedCommand, io: Printer): Promise<number> {
  const file = p.positionals[0];
  checkShowOptions(p.values);
  const trace = loadTrace(file);
  if (p.values.itf) {
    const { toItf } = await import('./itf.ts');
    io.out(JSON.stringify(toItf(trace, file), null, 2));
    return EXIT.OK;
  }
  const html = p.values.html as string | undefined;
  if (html !== undefined) {
    checkViewerPath(html, `--html ${html}: it `, 'give another file');
    await writeViewer(html, trace, { ...(await viewerModel(trace, file)), source: file }, `npx interleave replay ${file}`);
    io.out(`wrote ${html}`);
    return EXIT.OK;
  }
  const { renderTrace } = await import('./show.ts');
  io.out(renderTrace(trace, { replayCommand: `npx interleave replay ${file}`, noChanges: !!p.values['no-changes'], ...fitOptions(p) }));
  return EXIT.OK;
}

/** show's fitting options: --threads a,b, --fold, --width N. */
function fitOptions(p: ParsedCommand): { threads?: string[]; fold?: boolean; width?: number } {
  const threads = p.values.threads as string | undefined;
  const width = intOption(p.values, 'width', { min: 40, example: 80 });
  return {
    ...(threads !== undefined ? { threads: threads.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
    ...(p.values.fold ? { fold: true } : {}),
    ...(width !== undefined ? { width } : {}),
  };
}

/** The compiled model for the viewer's statecharts, or why it could not be built (the page says so). */
async function viewerModel(trace: Trace, file: string): Promise<{ system?: CompiledSystem; chartError?: string }> {
  try {
    const { loadTraceModel } = await import('./trace-model.ts');
    const def = await loadTraceModel(trace, file);
    const variant = resolveVariant(def, trace.variant, `${file}: $.variant`);
    const params = overlayParams(def, trace.params, `${file}: $.params`, {});
    return { system: instantiate(def, params, variant).system };
  } catch (e) {
    if (e instanceof InputError || e instanceof ModelError || e instanceof ModelRuntimeError) return { chartError: e.message };
    throw e;
  }
}

function mkdirOrFail(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`--html ${dir}: cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a directory you can write to`);
  }
}

async function writeViewer(out: string, trace: Trace, model: { system?: CompiledSystem; chartError?: string; source?: string }, replayCommand: string): Promise<void> {
  const { renderHtml } = await import('./html.ts');
  writeOutput(out, renderHtml(trace, { ...model, replayCommand }), '--html');
}

/** Writes a report file; a path that cannot be written is bad input naming it and the fix. */
function writeOutput(out: string, content: string, flag: string): void {
  try {
    if (existsSync(out) && statSync(out).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    writeFileSync(out, content);
  } catch (e) {
    throw new InputError(`${flag} ${out}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a file path in a directory you can write to`);
  }
}

async function cmdReplay(p: ParsedCommand, io: Printer): Promise<number> {
  const file = p.positionals[0];
  const trace = loadTrace(file);
  const { loadTraceModel } = await import('./trace-model.ts');
  const def = await loadTraceModel(trace, file);
  const overrideVariant = p.values.variant as string | undefined;
  const variant = resolveVariant(def, overrideVariant ?? trace.variant, overrideVariant !== undefined ? '--variant' : `${file}: $.variant`);
  const params = overlayParams(def, trace.params, `${file}: $.params`, paramOptions(p.values));
  // From here on what fails is the model's (a guard or action that throws on the trace's path): named with the trace.
  try {
    return await replayOn(file, trace, def, variant, params, p, io);
  } catch (e) {
    // (A field of the trace the replay cannot read, e.g. $.options.fairness: named with the trace.)
    if (e instanceof InputError) throw placed(e, file);
    throw e instanceof ModelError || e instanceof ModelRuntimeError ? placed(e, `${file}: model ${def.name}`) : e;
  }
}

async function replayOn(file: string, trace: Trace, def: ModelDefinition, variant: string, params: Record<string, ParamValue>, p: ParsedCommand, io: Printer): Promise<number> {
  const packed = instantiate(def, params, variant);
  const overridden = variant !== trace.variant || Object.keys(paramOptions(p.values)).length > 0;
  if (!overridden) {
    // On the trace's own variant and params, a trace the model cannot even express is stale or foreign: bad input.
    // (On another variant or params, a missing event or thread is what the change did: the trace does not reproduce.)
    const names = packed.system.threads.map((t) => t.name);
    const missing = trace.threads.filter((t) => !names.includes(t));
    const extra = names.filter((t) => !trace.threads.includes(t));
    if (missing.length || extra.length) {
      throw new InputError(
        `${file}: $.threads: the trace's threads (${trace.threads.join(', ')}) are not those of model ${def.name} variant ${variant} (${names.join(', ')}): ` +
          `the trace is stale (the model changed) or of another model; re-run interleave check to make a fresh trace`,
      );
    }
    const events = new Set(packed.system.events);
    const stale = trace.steps.find((s) => !events.has(s.event));
    if (stale) {
      throw new InputError(
        `${file}: $.steps[${stale.step - 1}].event: model ${def.name} variant ${variant} has no event '${stale.event}': ` +
          `the trace is stale (the model changed) or of another model; re-run interleave check to make a fresh trace`,
      );
    }
  }
  const invariants = selectInvariants(def, params, variant, true);
  // Another variant (or other params) may name its states differently: follow the events only.
  const { replayTrace } = await import('../explorer/replay.ts');
  const r = replayTrace(packed, def, trace, invariants, { strictLocations: !overridden && !p.values.loose });
  const label = `${trace.violation.kind}${trace.violation.name !== trace.violation.kind ? ` ${trace.violation.name}` : ''}`;
  if (r.status === 'reproduced') {
    io.out(`REPRODUCED ${label} on ${def.name} variant ${variant} after ${r.stepsReplayed} steps: ${r.reason}`);
    return EXIT.OK;
  }
  if (r.status === 'diverged') io.out(`DIVERGED at step ${r.step} on ${def.name} variant ${variant}: ${r.reason}`);
  else io.out(`NOT REPRODUCED on ${def.name} variant ${variant} after ${r.stepsReplayed} steps: ${r.reason}`);
  return EXIT.MISMATCH;
}

async function cmdGraph(p: ParsedCommand, io: Printer): Promise<number> {
  const { def } = await loadModel(p.positionals[0], process.cwd(), p.positionals[0], 'the working directory');
  let variant: string, params: ReturnType<typeof overlayParams>;
  try {
    variant = resolveVariant(def, p.values.variant as string | undefined, '--variant');
    params = overlayParams(def, {}, '--param', paramOptions(p.values));
  } catch (e) {
    throw placed(e, p.positionals[0]);
  }
  let packed;
  try {
    packed = instantiate(def, params, variant);
  } catch (e) {
    throw placed(e instanceof InputError ? e : placed(e, `model ${def.name}`), p.positionals[0]);
  }
  const ps = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
  const { renderMermaid } = await import('./graph.ts');
  io.out(renderMermaid(packed.system, `${def.name} variant ${variant}${ps ? ` (${ps})` : ''}`));
  return EXIT.OK;
}

async function cmdList(p: ParsedCommand, io: Printer): Promise<number> {
  const models = await loadAllBundled();
  let files: string[] = [];
  try {
    files = specsIn('specs');
  } catch {
    files = [];
  }
  const specs = files.map((f) => {
    try {
      const s = loadSpec(f);
      return { file: f, model: s.model, variant: s.variant ?? null, params: s.params ?? {}, expect: s.expect };
    } catch (e) {
      return { file: f, error: thrownMessage(e).split('\n')[0] };
    }
  });
  if (p.values.json) {
    const doc = {
      models: models.map((m) => ({ name: m.name, description: m.description, defaultVariant: m.defaultVariant, variants: m.variants, params: m.params })),
      specs,
    };
    io.out(JSON.stringify(doc, null, 2));
    return EXIT.OK;
  }
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
  for (const s of specs) {
    if ('error' in s) {
      io.out(`  ${s.file}: INVALID (${s.error})`);
      continue;
    }
    const exp = s.expect.status === 'violation' ? `${s.expect.kind}${s.expect.name ? `:${s.expect.name}` : ''}` : s.expect.status;
    io.out(`  ${s.file}: ${s.model}${s.variant ? `/${s.variant}` : ''} ${JSON.stringify(s.params)} expect ${exp}`);
  }
  if (bundledModelNames().length === 0) io.out('  (none)');
  return EXIT.OK;
}

async function cmdInit(p: ParsedCommand, io: Printer): Promise<number> {
  const dir = p.positionals[0];
  const { scaffold } = await import('./init.ts');
  const files = scaffold(dir);
  io.out(`Created ${files.length} files in ${dir}:`);
  for (const f of files) io.out(`  ${f}`);
  io.out('');
  io.out('Next:');
  // As README's "Your first model": from the folder, so the counterexamples land beside the specs.
  const steps: [string, string][] = [
    ...(resolve(dir) === process.cwd() ? [] : [[`cd ${dir}`, '']] as [string, string][]),
    ['interleave check .', 'the model against its two specs (exit 0: both match)'],
    ['interleave show counterexamples/abba.json', 'the race diagram of the deadlock'],
    ['npx vitest run', "the model's tests (needs vitest and interleave installed there; see the README)"],
  ];
  const width = Math.max(...steps.map(([c]) => c.length));
  for (const [command, what] of steps) io.out(`  ${what ? `${command.padEnd(width)}   # ${what}` : command}`);
  return EXIT.OK;
}

async function cmdWorker(p: ParsedCommand, io: Printer): Promise<number> {
  await runWorker(p, (line) => io.err(line));
  return EXIT.OK;
}

const HANDLERS: Record<string, (p: ParsedCommand, io: Printer) => Promise<number>> = {
  worker: cmdWorker,
  check: cmdCheck,
  show: cmdShow,
  replay: cmdReplay,
  list: cmdList,
  graph: cmdGraph,
  init: cmdInit,
  swarm: async (p, io) => {
    const v = p.values;
    const { cmdSwarm } = await import('./swarm.ts');
    return cmdSwarm(
      {
        positional: p.positionals,
        jobs: v.jobs as string | undefined,
        shard: v.shard as string | undefined,
        merge: !!v.merge,
        seed: v.seed === undefined ? undefined : parseSeed(String(v.seed), 'option --seed'),
        timeoutSeconds: secondsOption(v, 'timeout'),
        maxStates: intOption(v, 'max-states', { min: 1, example: 1000000 }),
        maxDepth: intOption(v, 'max-depth', { min: 0, example: 100 }),
        out: v.out as string | undefined,
        json: !!v.json,
        quiet: !!v.quiet,
        waitAll: !!v['wait-all'],
      },
      io,
    );
  },
};

export async function main(argv: string[]): Promise<number> {
  const io = new Printer();
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      if (cmd === 'help' && rest[0] !== undefined && !Object.hasOwn(COMMANDS, rest[0])) {
        throw new InputError(`unknown command '${rest[0]}'; commands: ${Object.keys(COMMANDS).join(', ')} (interleave --help)`);
      }
      if (cmd === 'help' && rest[0]) io.out(commandHelp(rest[0]));
      else io.out(globalHelp());
      return cmd ? EXIT.OK : EXIT.INPUT;
    }
    if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
      io.out(`interleave ${TOOL_VERSION}`);
      return EXIT.OK;
    }
    const handler = Object.hasOwn(HANDLERS, cmd) ? HANDLERS[cmd] : undefined;
    if (!handler) {
      throw new InputError(`unknown command '${cmd}'; commands: ${Object.keys(COMMANDS).join(', ')} (interleave --help)`);
    }
    const p = parseCommand(cmd, rest);
    if (p.values.help) {
      io.out(commandHelp(cmd));
      return EXIT.OK;
    }
    return await handler(p, io);
  } catch (e) {
    if (e instanceof InputError || e instanceof ModelError || e instanceof ModelRuntimeError) {
      io.err(`error: ${e.message}`);
      // A reader of check --json still gets one document, saying why there are no results.
      if (cmd === 'check' && rest.includes('--json')) io.out(JSON.stringify({ results: [], error: { kind: 'input', message: e.message } }, null, 2));
      return EXIT.INPUT;
    }
    io.err(`internal error: ${(e as Error)?.stack ?? thrownMessage(e)}`);
    return EXIT.INTERNAL;
  }
}

export { verdictText };
