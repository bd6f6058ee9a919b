// Review of the counterexamples and how results are seen: what the tool writes (check --json, swarm shards, traces)
// validates against its own schemas and is read back; the text of `show` says what the trace holds.
import Ajv from 'ajv';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wrapLine } from '../../cli/diagram.ts';
import { contextsOf, fromItf, toItf } from '../../cli/itf.ts';
import { renderHtml } from '../../cli/html.ts';
import { renderTrace } from '../../cli/show.ts';
import { checkModel, instantiate } from '../../explorer/index.ts';
import { defineModel, type ModelDefinition } from '../../explorer/model.ts';
import { assign, setup } from 'xstate';
import { replayTrace } from '../../explorer/replay.ts';
import { down_read, kernelWaits, mutex, mutex_lock, mutex_unlock, rwsem, up_read } from '../../machines/kernel/index.ts';
import { straight, tinyModel } from '../machines/kernel/harness.ts';
import { runCli } from '../helpers/cli.ts';
import { rng } from '../helpers/rng.ts';

const ajv = new (Ajv as any)({ allErrors: true, strict: false });
ajv.addSchema(JSON.parse(readFileSync('schemas/trace.schema.json', 'utf8')));
const schema = (name: string) => (name === 'trace' ? ajv.getSchema(JSON.parse(readFileSync('schemas/trace.schema.json', 'utf8')).$id) : ajv.compile(JSON.parse(readFileSync(`schemas/${name}.schema.json`, 'utf8'))));
const work = mkdtempSync(join(tmpdir(), 'interleave-trace-review-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('what the tool writes validates against its schemas', () => {
  it('check --json of a lock-order violation follows schemas/check-result.schema.json', async () => {
    const validate = schema('check-result');
    const r = await runCli(['check', 'specs/sb-freeze-umount-held-lock-order.json', '--json', '--no-save']);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.results[0].verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('a swarm shard of a lock-order spec', () => {
  it('is written by --shard and read back by --merge, whose counterexample replays', async () => {
    const out = join(work, 'shard-lock-order');
    const s = await runCli(['swarm', 'specs/sb-freeze-umount-held-lock-order.json', '--shard', '0/1', '--out', out, '--quiet']);
    expect(s.code, s.err).toBe(0);
    const shard = join(out, 'sb-freeze-umount-held-lock-order.shard-0-of-1.json');
    const validate = schema('swarm-shard');
    expect(validate(JSON.parse(readFileSync(shard, 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
    const m = await runCli(['swarm', '--merge', shard, '--json']);
    expect(m.code, m.err).toBe(0);
    const doc = JSON.parse(m.out);
    expect(doc.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
    const replay = await runCli(['replay', doc.counterexample]);
    expect(replay.out).toMatch(/^REPRODUCED lock-order/);
  });
});

describe('prose wrapped to --width', () => {
  /** Every wrapped line is a piece of the original, and together they hold all of it: nothing inserted, nothing lost. */
  const faithful = (line: string, width: number) => {
    const out = wrapLine(line, width);
    for (const l of out) {
      expect(l.length, `${JSON.stringify(l)} of ${JSON.stringify(line)} at ${width}`).toBeLessThanOrEqual(width);
      expect(line, `${JSON.stringify(l)} of ${JSON.stringify(line)} at ${width}`).toContain(l.trim());
    }
    expect(out.join('').replace(/\s+/g, '')).toBe(line.replace(/\s+/g, ''));
  };

  it('a path broken inside a word gets no space inserted where it was broken', async () => {
    faithful('Replay: npx interleave replay /tmp/tr/cx/xfs-inodegc-posted-lock-order.json', 40);
    faithful('  task0 at a.very_long_state_name_without_spaces_in_it_at_all_for_sure: waits', 40);
    const r = await runCli(['show', 'counterexamples/xfs-inodegc-posted-lock-order.json', '--width', '40']);
    const replay = r.out.slice(r.out.indexOf('Replay:')).trimEnd().split('\n');
    expect(replay.map((l) => l.trim()).join('')).toBe('Replay: npx interleave replaycounterexamples/xfs-inodegc-posted-lock-order.json');
  });

  it('random prose with long words, at random widths (300 cases)', () => {
    const r = rng(11);
    const word = () => 'abcdefghij_.,-/'.split('').filter(() => r() < 0.7).join('').repeat(1 + Math.floor(r() * 6));
    for (let i = 0; i < 300; i++) {
      const indent = ' '.repeat(Math.floor(r() * 5));
      const line = indent + Array.from({ length: 1 + Math.floor(r() * 12) }, word).filter(Boolean).join(' ');
      faithful(line, 20 + Math.floor(r() * 40));
    }
  });
});

describe("a deadlock's wait-for cycle", () => {
  it('says since when each holder held its lock (the step that took it), and the scenario lists the holds in that order', async () => {
    // sb-freeze-umount-held: the freezer takes s_umount at step 1 (s_umount.owner: null -> "freezer"), writer0 takes
    // sb_writers for read at step 3, and queues for s_umount at step 5.
    const out = join(work, 'held-since');
    const r = await runCli(['check', 'specs/sb-freeze-umount-held.json', '--out', out, '--quiet']);
    expect(r.code, r.out).toBe(0);
    const file = join(out, 'sb-freeze-umount-held.json');
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    const took = (path: string, holder: string) => trace.steps.find((s: any) => s.changes.some((c: any) => c.path === path && JSON.stringify(c.to).includes(holder))).step;
    const edge = (resource: string) => trace.deadlock.cycle.find((e: any) => e.resource === resource);
    expect(edge('s_umount')).toMatchObject({ thread: 'writer0', heldBy: 'freezer', heldSince: took('s_umount.owner', 'freezer'), waitingSince: 5 });
    expect(edge('sb_writers')).toMatchObject({ thread: 'freezer', heldBy: 'writer0', heldSince: took('s_writers.rw_sem[0].readers', 'writer0'), waitingSince: 4 });
    const show = await runCli(['show', file]);
    const rows = show.out.split('\n').filter((l) => /^ {7} *r?lock\(.*\);$/.test(l)).map((l) => l.trim());
    expect(rows).toEqual(['lock(s_umount);', 'rlock(sb_writers);', 'lock(sb_writers);', 'rlock(s_umount);']);
  });
});

describe('replay of a lock-order trace', () => {
  const model = (create: () => any, extra: Partial<ModelDefinition> = {}) =>
    defineModel({ name: 'lockorder', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create, waits: kernelWaits, ...extra });
  const replay = (m: ModelDefinition, trace: any) => replayTrace(instantiate(m, {}, 'v'), m, trace, {});

  it('is not reproduced once the model gives the two locks their own classes (the lockdep fix: nesting annotation)', () => {
    // two inodes' i_rwsem taken nested: one class (i_rwsem) makes it recursive locking; a class per inode does not
    const nested = (lockClass?: ModelDefinition['lockClass']) =>
      model(() => tinyModel({ i0: rwsem(), i1: rwsem() }, {
        t: straight('t', [(n: string) => down_read('i0', 't', n, 'inode0.i_rwsem'), (n: string) => down_read('i1', 't', n, 'inode1.i_rwsem'), up_read('i1', 't'), up_read('i0', 't')]),
      }), lockClass ? { lockClass } : {});
    const merged = nested(({ name }) => name.replace(/^inode\d+\./, ''));
    const r = checkModel({ model: merged, check: { lockOrder: true } });
    expect(r.verdict).toMatchObject({ kind: 'lock-order', name: 'i_rwsem -> i_rwsem' });
    expect(replay(merged, r.trace)).toMatchObject({ status: 'reproduced' });
    expect(checkModel({ model: nested(), check: { lockOrder: true } }).verdict).toEqual({ status: 'pass' });
    const fixed = replay(nested(), r.trace);
    expect(fixed.status).toBe('not-reproduced');
    expect(fixed.reason).toMatch(/inode1\.i_rwsem/);
  });

  it('is not reproduced when its edges are not those of a cycle (an edge whose classes or modes the model does not take)', () => {
    const abba = model(() => tinyModel({ a: mutex(), b: mutex() }, {
      t0: straight('t0', [mutex_lock('a', 't0', 'A'), mutex_lock('b', 't0', 'B'), mutex_unlock('b', 't0', 'B'), mutex_unlock('a', 't0', 'A')]),
      t1: straight('t1', [mutex_lock('b', 't1', 'B'), mutex_lock('a', 't1', 'A'), mutex_unlock('a', 't1', 'A'), mutex_unlock('b', 't1', 'B')]),
    }));
    const r = checkModel({ model: abba, check: { deadlock: false, lockOrder: true } });
    expect(r.verdict).toMatchObject({ kind: 'lock-order', name: 'A -> B -> A' });
    expect(replay(abba, r.trace)).toMatchObject({ status: 'reproduced' });
    const renamed = structuredClone(r.trace!);
    renamed.lockOrder!.edges[1].to = 'C';
    expect(replay(abba, renamed)).toMatchObject({ status: 'not-reproduced' });
    const read = structuredClone(r.trace!);
    read.lockOrder!.edges[0].toMode = 'read';
    expect(replay(abba, read)).toMatchObject({ status: 'not-reproduced' });
    const open = structuredClone(r.trace!);
    open.lockOrder!.edges = [open.lockOrder!.edges[0]];
    expect(replay(abba, open)).toMatchObject({ status: 'not-reproduced' });
  });
});

/** A model of one thread that takes one step (t.step, assigning `update`) and then stays at a state that is no end: a deadlock. */
const oneStep = (name: string, context: Record<string, unknown>, update: (c: any) => Record<string, unknown>) =>
  defineModel({
    name, description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v',
    create: () =>
      setup({}).createMachine({
        type: 'parallel',
        context: context as any,
        states: { t: { initial: 's0', states: { s0: { on: { 't.step': { target: 's1', actions: assign(({ context: c }: any) => update(c) as any) } } }, s1: {} } } },
      }),
  });

describe('show --itf round-trips', () => {
  it('a context field the model adds after the initial state is a variable of every ITF state, absent before it is added', () => {
    const m = oneStep('late-field', { a: 1 }, () => ({ a: 2, extra: { n: [1, 2] } }));
    const r = checkModel({ model: m });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    const trace = r.trace!;
    expect(trace.steps[0].changes).toContainEqual({ path: 'extra', to: { n: [1, 2] } });
    const itf = JSON.parse(JSON.stringify(toItf(trace, 'late.json')));
    const validate = ajv.compile(JSON.parse(readFileSync('test/fixtures/itf/itf.schema.json', 'utf8')));
    expect(validate(itf), JSON.stringify(validate.errors)).toBe(true);
    expect(itf.vars).toEqual(['pc', 'a', 'extra', 'mbt::actionTaken']);
    expect(itf.states[1].extra).toEqual({ n: [{ '#bigint': '1' }, { '#bigint': '2' }] });
    const back = fromItf(itf, 'late.itf.json');
    expect(back.initial).toEqual(trace.initial);
    expect(back.steps).toEqual(trace.steps);
    expect(back.final).toEqual(trace.final);
    expect(replayTrace(instantiate(m, {}, 'v'), m, back, {})).toMatchObject({ status: 'reproduced' });
  });
});

describe('context changes of record keys holding a dot or a bracket', () => {
  it('name the key unambiguously, and rebuild the contexts that --itf and --html show', () => {
    const m = oneStep('dotted', { files: { 'a.txt': 0, 'b[1]': 0, 'q"': 0 }, 'top.level': 0 }, (c) => ({ files: { ...c.files, 'a.txt': 1, 'b[1]': 2, 'q"': 3 }, 'top.level': 4 }));
    const trace = checkModel({ model: m }).trace!;
    expect(trace.steps[0].changes.map((c) => c.path)).toEqual(['files["a.txt"]', 'files["b[1]"]', 'files["q\\""]', '["top.level"]']);
    expect(contextsOf(trace).at(-1)).toEqual(trace.final.context);
    const back = fromItf(JSON.parse(JSON.stringify(toItf(trace, 'dotted.json'))), 'dotted.itf.json');
    expect(back.steps).toEqual(trace.steps);
    expect(renderHtml(trace, { replayCommand: 'npx interleave replay dotted.json' })).toContain('<!doctype html>');
    expect(renderTrace(trace)).toContain('files["a.txt"]: 0 → 1');
  });
});

describe('an ITF export of a trace of a model loaded by path', () => {
  it('replays from wherever the ITF file is saved, as the trace itself does', async () => {
    const cx = join(work, 'itf-model-path', 'cx');
    const c = await runCli(['check', 'test/fixtures/models/two-moves.ts', '--out', cx, '--quiet']);
    expect(c.code, c.out).toBe(1);
    const trace = join(cx, 'two-moves.json');
    expect(JSON.parse(readFileSync(trace, 'utf8')).modelPath).toBeDefined();
    const itf = await runCli(['show', trace, '--itf']);
    expect(itf.code, itf.err).toBe(0);
    const elsewhere = join(work, 'itf-model-path', 'attached', 'to', 'a', 'bug');
    mkdirSync(elsewhere, { recursive: true });
    const file = join(elsewhere, 'two-moves.itf.json');
    writeFileSync(file, itf.out);
    const r = await runCli(['replay', file]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^REPRODUCED invariant/);
  });
});

describe('show --fold', () => {
  it("a folded run's changes are the net changes from before its first step to after its last", async () => {
    // btrfs-send-uncoordinated: relocation runs steps 5-21 alone, starting and committing a transaction: trans.running
    // and trans.committing are null before and after the run, so they have no net change
    const file = 'counterexamples/btrfs-send-uncoordinated.json';
    const r = await runCli(['show', file, '--fold', '--width', '250']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const at = lines.findIndex((l) => /^ *\+?5-21 │/.test(l));
    expect(at).toBeGreaterThan(0);
    const end = lines.findIndex((l, i) => i > at && /^ *\+?22 │/.test(l));
    const changes = lines.slice(at, end).map((l) => l.split('│').at(-1)!.trim()).filter(Boolean);
    const { contextsOf } = await import('../../cli/itf.ts');
    const { diffContext } = await import('../../explorer/trace.ts');
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    const contexts = contextsOf(trace);
    const net = diffContext(contexts[4], contexts[21]).map((c) => `${c.path}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`);
    expect(changes.sort()).toEqual(net.sort());
  });
});

describe('check --html of a model loaded by path', () => {
  it('draws the statecharts, as show --html of the saved trace does', async () => {
    const dir = join(work, 'html-model-path');
    for (const save of [true, false]) {
      const html = join(dir, save ? 'saved' : 'unsaved');
      const r = await runCli(['check', 'test/fixtures/models/two-moves.ts', ...(save ? ['--out', join(dir, 'cx')] : ['--no-save']), '--html', html, '--quiet']);
      expect(r.code, r.err).toBe(1);
      const page = readFileSync(join(html, 'two-moves.html'), 'utf8');
      expect(page, save ? 'saved' : '--no-save').not.toContain('"chartError"');
      expect(page).toMatch(/"charts":\[\{/);
    }
  });
});

describe("a swarm's counterexample of a model loaded by path", () => {
  it('records modelPath relative to itself, so replay finds the model from any directory', async () => {
    const dir = join(work, 'swarm-model-path');
    mkdirSync(dir, { recursive: true });
    const spec = join(dir, 'two-moves.json');
    writeFileSync(spec, JSON.stringify({ model: relative(dir, join(process.cwd(), 'test/fixtures/models/two-moves.ts')), expect: { status: 'violation', kind: 'invariant' } }));
    const out = join(dir, 'results', 'deep');
    const s = await runCli(['swarm', spec, '--shard', '0/1', '--out', out, '--quiet']);
    expect(s.code, s.err).toBe(0);
    const m = await runCli(['swarm', '--merge', join(out, 'two-moves.shard-0-of-1.json'), '--out', out, '--json']);
    expect(m.code, m.err).toBe(0);
    const file = join(out, 'two-moves.counterexample.json');
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    expect(trace.modelPath).toBe(relative(out, join(process.cwd(), 'test/fixtures/models/two-moves.ts')));
    // the spec's path in the trace is relative to the directory the swarm ran in: replay from another one
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const r = await runCli(['replay', file]);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/^REPRODUCED invariant/);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('show --itf of a context with a top-level field named like an ITF key', () => {
  it('renames the field (ctx::#meta) instead of overwriting the state\'s #meta, and reads it back', () => {
    const m = oneStep('hash-field', { '#meta': 1, pc: 0 }, () => ({ '#meta': 2, pc: 1 }));
    const trace = checkModel({ model: m }).trace!;
    const itf = JSON.parse(JSON.stringify(toItf(trace, 'hash.json')));
    expect(itf.vars).toEqual(['pc', 'ctx::#meta', 'ctx::pc', 'mbt::actionTaken']);
    expect(itf.states.map((s: any) => s['#meta'])).toEqual([{ index: 0 }, { index: 1 }]);
    const back = fromItf(itf, 'hash.itf.json');
    expect(back.steps).toEqual(trace.steps);
    expect(back.final).toEqual(trace.final);
  });
});

describe('a swarm of a lock-order spec', () => {
  it('runs depth-first jobs where it would run random walks (which cannot record the lock order), and finds the cycle', async () => {
    const out = join(work, 'swarm-lock-order');
    const r = await runCli(['swarm', 'specs/sb-freeze-umount-held-lock-order.json', '--shard', '2/3', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.job.strategy).toBe('dfs');
    expect(doc.verdict).toMatchObject({ status: 'violation', kind: 'lock-order' });
  });
});

describe('replay on the trace\'s own variant and params', () => {
  it('diverges where the model no longer makes the context the trace records (a stale trace)', async () => {
    const trace = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8'));
    const dir = join(work, 'stale-context');
    mkdirSync(dir, { recursive: true });
    const changed = structuredClone(trace);
    changed.steps[1].changes[0].to = 'task0';
    writeFileSync(join(dir, 'changed.json'), JSON.stringify(changed));
    const r = await runCli(['replay', join(dir, 'changed.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^DIVERGED at step 2 .*context/);
    const initial = structuredClone(trace);
    initial.initial.context.owner.A = 'task1';
    writeFileSync(join(dir, 'initial.json'), JSON.stringify(initial));
    const i = await runCli(['replay', join(dir, 'initial.json')]);
    expect(i.out).toMatch(/^DIVERGED at step 0 .*context/);
    // --loose follows the events only
    expect((await runCli(['replay', join(dir, 'changed.json'), '--loose'])).out).toMatch(/^REPRODUCED/);
  });
});
