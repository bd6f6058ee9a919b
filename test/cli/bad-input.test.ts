// Every kind of bad input gets exit 2 and one clear paragraph naming the file, the path (JSON path, state and
// event, option) and the fix, with no stack trace, and loses nothing: nothing written or overwritten.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as run } from '../helpers/cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'interleave-bad-'));
const FIXTURE = resolve('test/fixtures/models/misbehaving.ts');

/** A spec in a fresh folder for a misbehaving variant; returns its path. */
function specFor(variant: string, extra: object = {}): string {
  const dir = tmp();
  const file = join(dir, `${variant}.json`);
  writeFileSync(file, JSON.stringify({ model: FIXTURE, variant, expect: { status: 'pass' }, ...extra }));
  return file;
}

/** Exit 2, one paragraph on stderr, no stack trace. */
function expectBadInput(r: { code: number; out: string; err: string }, ...patterns: RegExp[]) {
  expect(r.code, r.err + r.out).toBe(2);
  expect(r.err).toMatch(/^(\n)?error: /);
  expect(r.err).not.toMatch(/\n\s+at .*:\d+:\d+/);
  expect(r.err).not.toMatch(/internal error|\[object Object\]/);
  for (const p of patterns) expect(r.err).toMatch(p);
}

describe('outputs are checked before anything runs', () => {
  it('--junit in a directory that does not exist: exit 2 before the specs run, nothing written', async () => {
    const dir = tmp();
    const out = join(dir, 'cx');
    const r = await run(['check', 'specs/abba-abba.json', '--junit', join(dir, 'no/such/dir/j.xml'), '--out', out, '--quiet']);
    expectBadInput(r, /option --junit .*j\.xml: the directory .*no\/such\/dir does not exist; create it or give another path/);
    expect(r.out).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('--out naming an existing file: exit 2, the file untouched', async () => {
    const dir = tmp();
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'mine');
    const r = await run(['check', 'specs/abba-abba.json', '--out', file, '--quiet']);
    expectBadInput(r, /option --out .*notes\.txt: it is a file, not a directory; give a directory/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });

  it('--out pointing at the folder that holds the spec: the trace would replace the spec, so exit 2 and the spec is kept', async () => {
    const dir = tmp();
    const spec = join(dir, 'abba.json');
    const text = JSON.stringify({ model: 'abba', expect: { status: 'violation', kind: 'deadlock' } });
    writeFileSync(spec, text);
    const r = await run(['check', spec, '--out', dir, '--quiet']);
    expectBadInput(r, /the counterexample of .*abba\.json would be written over the spec .*abba\.json; give --out another directory/);
    expect(readFileSync(spec, 'utf8')).toBe(text);
  });

  it('--out holding a file of the trace name that is not a trace: exit 2, the file kept', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'abba-abba.json'), '{"mine": true}');
    const r = await run(['check', 'specs/abba-abba.json', '--out', dir, '--quiet']);
    expectBadInput(r, /abba-abba\.json exists and is not a counterexample trace/);
    expect(readFileSync(join(dir, 'abba-abba.json'), 'utf8')).toBe('{"mine": true}');
  });

  it('--junit naming a directory, or a file that is not XML: exit 2', async () => {
    const dir = tmp();
    expectBadInput(await run(['check', 'specs/abba-ordered.json', '--junit', dir, '--no-save']), /option --junit .*: it is a directory; give a file name/);
    writeFileSync(join(dir, 'x.json'), '{"a":1}');
    expectBadInput(await run(['check', 'specs/abba-ordered.json', '--junit', join(dir, 'x.json'), '--no-save']), /it exists and is not XML; refusing to replace it/);
    expect(readFileSync(join(dir, 'x.json'), 'utf8')).toBe('{"a":1}');
  });
});

describe('options are checked and blamed on the option', () => {
  it.each([
    [['--max-states', '2.5'], /option --max-states "2\.5": expected a whole number of at least 1, e\.g\. --max-states 1000000/],
    [['--max-states', '0'], /option --max-states "0": expected a whole number/],
    [['--max-depth=-1'], /option --max-depth "-1": expected a whole number/],
    [['--max-depth', '-1'], /option --max-depth needs a value: --max-depth N \(a value starting with '-' goes after '='/],
    [['--workers', '0'], /option --workers "0": expected a whole number from 1 to 64/],
    [['--workers', 'two'], /option --workers "two"/],
    [['--timeout', 'soon'], /option --timeout "soon": expected a positive number of seconds/],
    [['--strategy', 'bestfirst'], /option --strategy "bestfirst": expected one of bfs, dfs, random/],
    [['--fairness', 'fair'], /option --fairness "fair": expected one of none, weak, strong/],
    [['--param', 'n'], /option --param "n": expected name=value, e\.g\. --param n=6/],
    [['--variant', 'polite'], /--variant: model philosophers has no variant 'polite' \(its variants: naive, ordered\)/],
    [['--param', 'n=1'], /--param n: 1 is below the minimum 2/],
    [['--param', 'm=3'], /--param m: model philosophers has no parameter 'm'/],
    [['--param', '__proto__=3'], /--param __proto__: model philosophers has no parameter '__proto__'/],
    [['--param', 'toString=3'], /--param toString: model philosophers has no parameter 'toString'/],
    [['--variant', 'constructor'], /--variant: model philosophers has no variant 'constructor' \(its variants: naive, ordered\)/],
    [['--bogus'], /interleave check: unknown option --bogus; the options of check are --json, /],
    [['--workers', '2', '--strategy', 'dfs'], /options --workers 2 and --strategy dfs: the parallel search is breadth-first; drop one of them/],
    [['--junit'], /option --junit needs a value: --junit FILE/],
    [['--strategy', 'dfs', '--seed', '3'], /options --seed and --strategy dfs: the seed and the walks are for random walks; drop --seed or run --strategy random/],
    [['--strategy', 'bfs', '--walks', '3'], /options --walks and --strategy bfs: the seed and the walks are for random walks/],
    [['--no-save'], /options --out and --no-save: --no-save writes no counterexample; drop one of them/],
  ])('check %j: exit 2 naming the option', async (args, pattern) => {
    const dir = tmp();
    const r = await run(['check', 'specs/philosophers-4.json', ...args, '--out', dir, '--quiet']);
    expectBadInput(r, pattern);
    expect(r.err).not.toMatch(/philosophers-4\.json: \$\.variant|\$\.params\.n/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('check --json: a spec that cannot be run is in the document and, as when the check cannot start, on stderr', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ model: 'abba', variant: 'nope', expect: { status: 'pass' } }));
    for (const extra of [[], ['--workers', '0']]) {
      const r = await run(['check', bad, '--json', '--no-save', ...extra]);
      expectBadInput(r, extra.length ? /option --workers "0"/ : /bad\.json: \$\.variant: model abba has no variant 'nope'/);
      const doc = JSON.parse(r.out);
      const message = extra.length ? doc.error.message : doc.results[0].error.message;
      expect(r.err).toBe(`error: ${message}\n`);
    }
  });

  it('--fairness when no target of the run checks livelock or starvation: exit 2 before any search (it was ignored); a run with one liveness spec takes it', async () => {
    const dir = tmp();
    for (const targets of [['specs/abba-abba.json'], ['philosophers'], ['specs/abba-abba.json', 'specs/philosophers-4.json']]) {
      for (const fairness of ['none', 'weak', 'strong']) {
        const r = await run(['check', ...targets, '--fairness', fairness, '--out', dir, '--quiet']);
        expectBadInput(r, new RegExp(`option --fairness ${fairness}: no spec or model of this run checks livelock or starvation, the checks fairness is for \\("check": \\{"livelock": true\\} or \\{"starvation": \\.\\.\\.\\}\\); drop --fairness`));
        expect(r.out).toBe('');
      }
    }
    expect(readdirSync(dir)).toEqual([]);
    // A mix: the liveness spec takes it, the others run as they would without it.
    const mixed = await run(['check', 'specs/abba-abba.json', 'specs/liveness-spin-weak.json', '--fairness', 'weak', '--no-save', '--quiet']);
    expect(mixed.code, mixed.err).toBe(0);
  });

  it('--seed or --walks on a model checked without a spec and without --strategy random: exit 2 (the search is breadth-first)', async () => {
    expectBadInput(await run(['check', 'philosophers', '--seed', '5', '--no-save']), /option --seed: the seed and the walks are for random walks, and philosophers runs bfs; drop --seed or add --strategy random/);
    // A spec that asks for random walks takes them (its strategy is random).
    const r = await run(['check', 'specs/sb-freeze-generic-5-random.json', '--seed', '3', '--walks', '2', '--no-save', '--quiet']);
    expect(r.code, r.err).not.toBe(2);
  });

  it('show --json and list --bogus are rejected per command; list --json is one JSON document', async () => {
    expectBadInput(await run(['show', 'counterexamples/abba-abba.json', '--json']), /interleave show: unknown option --json; the options of show are --no-changes, --threads, --fold, --width, --html, --itf, --help/);
    expectBadInput(await run(['list', '--bogus']), /interleave list: unknown option --bogus/);
    expectBadInput(await run(['replay']), /interleave replay: wrong arguments; usage: interleave replay TRACE\.json/);
    expectBadInput(await run(['help', 'chek']), /unknown command 'chek'; commands: check, show, /);
    for (const name of ['constructor', 'toString', '__proto__']) expectBadInput(await run([name]), new RegExp(`unknown command '${name}'`));
    expect((await run(['help', 'check'])).code).toBe(0);
    const l = await run(['list', '--json']);
    expect(l.code).toBe(0);
    const doc = JSON.parse(l.out);
    expect(doc.models.map((m: { name: string }) => m.name)).toContain('philosophers');
    expect(doc.specs).toContainEqual(expect.objectContaining({ file: 'specs/philosophers-10.json', model: 'philosophers' }));
  });
});

describe('mistakes in a model are blamed on the model, with the state, event and fix', () => {
  it.each([
    ['self-ref', /context\.self refers back to a record or array that contains it \(a cycle\).*copy the value instead/],
    ['undefined', /in the initial context .*: context\.u is undefined: .*give it a value \(null for "none"\)/],
    ['nan', /after event a\.step \(thread a from state a\.idle \(actions work, take\)\): context\.n is NaN: .*fix that arithmetic/],
    ['throw-object', /action work threw at state a\.idle on event a\.step: a non-Error value was thrown: \{"errno":-5,"why":"EIO"\}/],
    ['record-in-place', /action work threw at state a\.idle on event a\.step: .*read.only.*return the new value from assign instead of writing into it/],
    ['array-in-place', /a guard or action on event a\.step \(thread a from state a\.idle \(actions work, take\)\) changed the context in place \(context\.xs\[1\]\)/],
    ['invariant-throws', /invariant owned threw in the state where a@holds, b@idle: cannot read owner; fix the predicate/],
    ['invariant-no-return', /invariant owned returned undefined in the state where a@holds, b@idle; fix the predicate: .*needs a return/],
    ['waits-throws', /waits\.free threw while the deadlock was being described \(thread a blocked at holds, guard free .*\): describer bug; fix the describer/],
    ['config', /create\(\) returned a plain object \(a machine config\?\), not an XState machine; return setup\(/],
  ])('variant %s: exit 2 with a clear message', async (variant, pattern) => {
    const spec = specFor(variant);
    const out = join(tmp(), 'cx');
    const r = await run(['check', spec, '--out', out, '--quiet']);
    expectBadInput(r, new RegExp(`${variant}\\.json: model .*misbehaving\\.ts: `), pattern);
    expect(existsSync(out)).toBe(false);
  });

  it.each([['--cross-check'], ['--check-footprints']])('a guard or action that throws, under %s: exit 2 naming it and the state (it was an internal error)', async (option) => {
    for (const variant of ['nan', 'throw-object']) {
      const r = await run(['check', specFor(variant), option, '--no-save', '--quiet']);
      expectBadInput(
        r,
        variant === 'nan' ? /model .*misbehaving\.ts: .*context\.n is NaN|action work threw at state a\.idle/ : /action work threw at state a\.idle on (event )?a\.step: a non-Error value was thrown: \{"errno":-5,"why":"EIO"\}/,
      );
    }
  });

  it.each([
    ['lock-acquires-throws', /the lock-order declaration \(LockEffect, as withLock attaches\) of action take threw at state a\.idle on event a\.step while reading what it acquires: no name for this lock; fix the model's lock declaration/],
    ['lock-holds-throws', /the lock-order declaration \(LockEffect, as withLock attaches\) of action take threw at state a\.idle on event a\.step while reading whether thread a holds lock owner \(context path owner\): cannot read the holder; fix the model's lock declaration/],
  ])('variant %s, under the lock-order check: exit 2 naming the action (it was an internal error with a stack)', async (variant, pattern) => {
    // --lock-order, the spec's check.lockOrder, and without either: the deadlock's trace reads the declarations too (what each thread holds).
    const runs: Array<[string[], object]> = [[['--lock-order'], {}], [[], { check: { lockOrder: true } }], [[], { expect: { status: 'violation', kind: 'deadlock' } }]];
    for (const [extra, fields] of runs) {
      expectBadInput(await run(['check', specFor(variant, fields), ...extra, '--no-save', '--quiet']), new RegExp(`${variant}\\.json: model .*misbehaving\\.ts: `), pattern);
    }
  });

  it('replay and swarm name the trace or spec, and the model, when the model fails (they said only what threw)', async () => {
    const spec = specFor('ok', { expect: { status: 'violation', kind: 'deadlock' } });
    const out = join(tmp(), 'cx');
    expect((await run(['check', spec, '--out', out, '--quiet'])).code).toBe(0);
    const trace = join(out, 'ok.json');
    expectBadInput(await run(['replay', trace, '--variant', 'throw-object']), /ok\.json: model misbehaving: action work threw at state a\.idle on event a\.step/);
    const shard = await run(['swarm', specFor('throw-object'), '--shard', '0/2', '--out', join(tmp(), 'sw'), '--quiet']);
    expectBadInput(shard, /throw-object\.json: model .*misbehaving\.ts: action work threw at state a\.idle on event a\.step/);
  });

  it("a typo in the model's own defaultVariant is blamed on the model, not the spec", async () => {
    const dir = tmp();
    const spec = join(dir, 's.json');
    writeFileSync(spec, JSON.stringify({ model: resolve('test/fixtures/models/bad-default-variant.ts'), expect: { status: 'pass' } }));
    const r = await run(['check', spec, '--no-save']);
    expectBadInput(r, /model bad-default-variant: its defaultVariant 'fixd' is not one of its variants \(fixed\); fix defaultVariant in the model/);
    expect(r.err).not.toMatch(/\$\.variant/);
  });
});

describe('bad specs and traces', () => {
  it('a JSON syntax error gives the line and column, also at the end of the input', async () => {
    const dir = tmp();
    const a = join(dir, 'a.json');
    writeFileSync(a, '{\n  "model": "abba",\n  "expect": { "status": "pass" }\n');
    expectBadInput(await run(['check', a]), /a\.json: the spec is not valid JSON at line 4, column 1: .*; fix the JSON syntax there/);
    const b = join(dir, 'b.json');
    writeFileSync(b, '{\n  "model": "abba",\n  "expect": { "status": "pass" },\n}\n');
    expectBadInput(await run(['check', b]), /b\.json: the spec is not valid JSON at line 4, column 1/);
  });

  it('a JSON syntax error node reports without a position (a bare word, NaN, a byte-order mark) still gets the line and column', async () => {
    const dir = tmp();
    const cases: Array<[string, RegExp]> = [
      ['{\n  "model": abba,\n  "expect": { "status": "pass" }\n}\n', /line 2, column 12: Unexpected token 'a'/],
      ['{"model": "abba", "params": {"n": NaN}, "expect": {"status": "pass"}}', /line 1, column 35/],
      ['\ufeff{"model": "abba", "expect": {"status": "pass"}}', /line 1, column 1: .*the file starts with a byte-order mark \(U\+FEFF\); save it as UTF-8 without one/],
    ];
    for (const [text, pattern] of cases) {
      const f = join(dir, 's.json');
      writeFileSync(f, text);
      expectBadInput(await run(['check', f, '--no-save']), /s\.json: the spec is not valid JSON at /, pattern);
      expectBadInput(await run(['show', f]), /s\.json: the trace is not valid JSON at /, pattern);
      expect(readFileSync(f, 'utf8')).toBe(text);
    }
  });

  it("a name the model does not have in check.invariants or check.starvation: exit 2 with the JSON path to it, before any search (a deadlock found first hid a starvation typo)", async () => {
    const dir = tmp();
    const cases: Array<[object, RegExp]> = [
      [{ model: 'sb-freeze', check: { invariants: ['P-F1', 'P-F9'] } }, /s\.json: \$\.check\.invariants\[1\]: model sb-freeze has no invariant 'P-F9' \(its invariants: P-F1, P-F2, P-F3\)/],
      [{ model: 'abba', check: { invariants: ['toString'] } }, /s\.json: \$\.check\.invariants\[0\]: model abba has no invariant 'toString'/],
      [{ model: 'abba', variant: 'constructor' }, /s\.json: \$\.variant: model abba has no variant 'constructor'/],
      [{ model: 'abba', params: { hasOwnProperty: 1 } }, /s\.json: \$\.params\.hasOwnProperty: model abba has no parameter 'hasOwnProperty'/],
      [{ model: 'abba', check: { starvation: { thread: 'nobody', goal: 'critical' } } }, /s\.json: \$\.check\.starvation\.thread: the model has no thread 'nobody' \(its threads: task0, task1\)/],
      [
        { model: 'abba', check: { starvation: [{ thread: 'task0', goal: 'critical' }, { thread: 'task1', goal: ['critical', 'nowhere'] }] } },
        /s\.json: \$\.check\.starvation\[1\]\.goal\[1\]: thread task1 has no state 'nowhere'/,
      ],
    ];
    for (const [fields, pattern] of cases) {
      const f = join(dir, 's.json');
      writeFileSync(f, JSON.stringify({ ...fields, expect: { status: 'pass' } }));
      expectBadInput(await run(['check', f, '--no-save']), pattern);
    }
  });

  it('an expect.name or kind the run cannot find (a name the model does not have, a property not checked): exit 2 naming the spec, $.expect.name and the names it has, before any search (it was exit 1 after one)', async () => {
    const dir = tmp();
    const violation = (kind: string, name: string) => ({ expect: { status: 'violation', kind, name } });
    const cases: Array<[object, RegExp]> = [
      [{ model: 'sb-freeze', ...violation('invariant', 'P-F9') }, /s\.json: \$\.expect\.name: model sb-freeze has no invariant 'P-F9' \(its invariants: P-F1, P-F2, P-F3\); name one of them/],
      [{ model: 'abba', ...violation('invariant', 'toString') }, /s\.json: \$\.expect\.name: model abba has no invariant 'toString' \(its invariants: none\)/],
      [{ model: 'abba', ...violation('assertion', 'mutualExclusio') }, /s\.json: \$\.expect\.name: model abba has no assertion 'mutualExclusio' \(its assertions: mutualExclusion\); name one of them/],
      [
        { model: 'sb-freeze', check: { invariants: ['P-F1'] }, ...violation('invariant', 'P-F2') },
        /s\.json: \$\.expect\.name: invariant 'P-F2' is not checked: \$\.check\.invariants lists P-F1; add it there/,
      ],
      [{ model: 'sb-freeze', check: { invariants: false }, ...violation('invariant', 'P-F2') }, /s\.json: \$\.expect\.name: invariant 'P-F2' is not checked: \$\.check\.invariants is false/],
      [{ model: 'abba', check: { assertions: false }, ...violation('assertion', 'mutualExclusion') }, /s\.json: \$\.expect\.name: assertion 'mutualExclusion' is not checked: \$\.check\.assertions is false/],
      [
        { model: 'abba', check: { starvation: { thread: 'task0', goal: 'critical' } }, ...violation('starvation', 'task1') },
        /s\.json: \$\.expect\.name: a starvation violation is named by its starving thread, and \$\.check\.starvation checks task0, not 'task1'/,
      ],
      [{ model: 'abba', ...violation('deadlock', 'abba') }, /s\.json: \$\.expect\.name: a deadlock violation is named 'deadlock', not 'abba'; write "deadlock" or leave the name out/],
      // a kind the spec does not check, named or not
      [{ model: 'abba', check: { deadlock: false }, expect: { status: 'violation', kind: 'deadlock' } }, /s\.json: \$\.expect\.kind: a deadlock is expected, but \$\.check\.deadlock is false; check it or expect another verdict/],
      [{ model: 'abba', ...violation('livelock', 'livelock') }, /s\.json: \$\.expect\.kind: a livelock is expected, but \$\.check\.livelock is not on/],
      [{ model: 'abba', expect: { status: 'violation', kind: 'starvation' } }, /s\.json: \$\.expect\.kind: a starvation violation is expected, but \$\.check\.starvation names no thread/],
    ];
    for (const [fields, pattern] of cases) {
      const f = join(dir, 's.json');
      writeFileSync(f, JSON.stringify(fields));
      const r = await run(['check', f, '--no-save', '--json']);
      expect(r.code, r.err).toBe(2);
      expect(JSON.parse(r.out).results[0].stats ?? null).toBe(null);
      expectBadInput(await run(['check', f, '--no-save']), pattern);
      expectBadInput(await run(['swarm', f, '--shard', '0/2', '--out', join(dir, 'out'), '--quiet']), pattern);
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
    // The names that are there still run: the assertion abba asserts, a starvation named by the checked thread.
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ model: 'abba', ...violation('deadlock', 'deadlock') }));
    expect((await run(['check', join(dir, 'ok.json'), '--no-save', '--quiet'])).code).toBe(0);
  });

  it('the file begins the message once, however it was given (an absolute path, ./x)', async () => {
    const dir = tmp();
    const spec = join(dir, 'bad.json');
    writeFileSync(spec, '{"model": "abba"}');
    const model = join(dir, 'empty.ts');
    writeFileSync(model, 'export const x = 1;\n');
    for (const target of [spec, model]) {
      const r = await run(['check', target, '--no-save']);
      expectBadInput(r);
      expect(r.err).not.toMatch(/(bad\.json|empty\.ts): \S*(bad\.json|empty\.ts):/);
      expect(r.out).toMatch(target === model ? /0 of 1 models pass/ : /0 of 1 specs match/);
    }
  });

  it('a schema error says what to give, and a field that may take two forms is told about the one it has', async () => {
    const dir = tmp();
    const f = join(dir, 's.json');
    const spec = {
      model: 'abba',
      check: { invariants: ['a', 'a'], starvation: { thread: 'task0', goal: [] } },
      bounds: { maxDepth: -1, maxStates: 1e300, timeoutSeconds: 0, walks: 2.5 },
      expect: { status: 'pass', depth: 1e20 },
    };
    const text = JSON.stringify(spec);
    writeFileSync(f, text);
    const r = await run(['check', f, '--no-save']);
    expectBadInput(
      r,
      /\$\.check\.invariants\[1\]: the same as \$\.check\.invariants\[0\]; remove one of them/,
      /\$\.check\.starvation\.goal: must not be empty; give at least one/,
      /\$\.bounds\.maxDepth: must be at least 0; give a number of at least 0/,
      /\$\.bounds\.maxStates: must be at most 9007199254740991; give a smaller number/,
      /\$\.bounds\.timeoutSeconds: must be greater than 0/,
      /\$\.bounds\.walks: must be a whole number/,
      /\$\.expect\.depth: must be at most 9007199254740991/,
    );
    // Not the other form's complaints: an array of names is not told to be a boolean, an object not to be an array.
    expect(r.err).not.toMatch(/\$\.check\.invariants: must be boolean|\$\.check\.starvation: must be array|goal: must be string/);
    expect(readFileSync(f, 'utf8')).toBe(text);
    // A value of neither form is told both.
    writeFileSync(f, JSON.stringify({ model: 'abba', check: { invariants: 5 }, expect: { status: 'pass' } }));
    expectBadInput(await run(['check', f, '--no-save']), /\$\.check\.invariants: must be boolean or array/);
    writeFileSync(f, JSON.stringify({ model: 'abba', check: { starvation: [] }, expect: { status: 'pass' } }));
    const empty = await run(['check', f, '--no-save']);
    expectBadInput(empty, /\$\.check\.starvation: must not be empty; give at least one/);
    expect(empty.err).not.toMatch(/must be object/);
  });

  it('swarm --out naming a file, or under one: exit 2 before any job runs, the file kept (it was an internal error, after the search)', async () => {
    const dir = tmp();
    const file = join(dir, 'keep.json');
    writeFileSync(file, '{"mine": true}');
    for (const args of [['specs/abba-ordered.json', '--shard', '0/2'], ['specs/abba-ordered.json', '--jobs', '2'], ['--merge', 'nothing.json']]) {
      for (const out of [file, join(file, 'sub')]) {
        const r = await run(['swarm', ...args, '--out', out, '--quiet']);
        expectBadInput(r, /option --out .*keep\.json(\/sub)?: .*keep\.json is a file, not a directory; give a directory/);
        expect(r.out).toBe('');
      }
    }
    expect(readFileSync(file, 'utf8')).toBe('{"mine": true}');
  });

  it('swarm --merge with an option of the searches (--seed, --timeout, --max-states, --max-depth, --wait-all): exit 2 naming it (it was ignored)', async () => {
    for (const extra of [['--seed', '3'], ['--timeout', '5'], ['--max-states', '9'], ['--max-depth', '4'], ['--wait-all']]) {
      expectBadInput(await run(['swarm', '--merge', 'a.json', ...extra, '--out', join(tmp(), 'o')]), new RegExp(`swarm --merge: option ${extra[0]} is for the searches \\(--jobs, --shard\\), not the merge; drop it`));
    }
  });

  it('swarm blames a spec the model does not fit on the spec and its JSON path, as check does', async () => {
    const dir = tmp();
    const f = join(dir, 'sw.json');
    for (const [fields, pattern] of [
      [{ model: 'abba', variant: 'zzz' }, /sw\.json: \$\.variant: model abba has no variant 'zzz' \(its variants: abba, ordered\)/],
      [{ model: 'philosophers', params: { n: 'x' } }, /sw\.json: \$\.params\.n: expected a number/],
      [{ model: 'abba', check: { invariants: ['q'] } }, /sw\.json: \$\.check\.invariants\[0\]: model abba has no invariant 'q'/],
    ] as Array<[object, RegExp]>) {
      writeFileSync(f, JSON.stringify({ ...fields, expect: { status: 'incomplete' } }));
      expectBadInput(await run(['swarm', f, '--shard', '0/2', '--out', join(dir, 'out'), '--quiet']), pattern);
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a spec given to show or replay says it is a spec and how to get a trace; a trace given to check says it is a trace', async () => {
    expectBadInput(await run(['show', 'specs/abba-abba.json']), /specs\/abba-abba\.json: this is a spec, not a counterexample trace: run interleave check specs\/abba-abba\.json/);
    expectBadInput(await run(['replay', 'specs/abba-abba.json']), /this is a spec, not a counterexample trace/);
    expectBadInput(await run(['check', 'counterexamples/abba-abba.json', '--no-save']), /counterexamples\/abba-abba\.json: this is a counterexample trace, not a spec: read it with interleave show/);
  });

  async function traceOf(spec: string): Promise<{ dir: string; file: string; trace: any }> {
    const dir = tmp();
    const r = await run(['check', spec, '--out', dir, '--quiet']);
    expect(r.code).toBe(0);
    const file = join(dir, `${spec.replace(/^.*\//, '').replace(/\.json$/, '')}.json`);
    return { dir, file, trace: JSON.parse(readFileSync(file, 'utf8')) };
  }

  it('an ITF trace whose state is not a record, or whose variable is not a name: exit 2 with the path (it was an internal error)', async () => {
    const dir = tmp();
    const file = join(dir, 't.itf.json');
    const itf = JSON.parse((await run(['show', 'counterexamples/abba-abba.json', '--itf'])).out);
    for (const [edit, pattern] of [
      [(t: any) => (t.states[1] = null), /\$\.states\[1\]: expected a state record \(\{"#meta", "pc", \.\.\.\}\), got null/],
      [(t: any) => (t.states[1] = [1]), /\$\.states\[1\]: expected a state record .*got an array/],
      [(t: any) => t.vars.push(5), /\$\.vars\[\d+\]: expected a variable name \(a string\), got 5/],
    ] as Array<[(t: any) => void, RegExp]>) {
      const t = structuredClone(itf);
      edit(t);
      const text = JSON.stringify(t);
      writeFileSync(file, text);
      for (const cmd of ['show', 'replay']) expectBadInput(await run([cmd, file]), new RegExp(`t\\.itf\\.json: `), pattern);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('show --itf and --html of a trace whose changes do not fit its context: exit 2 naming the change (it was an internal error)', async () => {
    const dir = tmp();
    const file = join(dir, 't.json');
    const trace = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8'));
    for (const [edit, pattern] of [
      [(t: any) => (t.initial.context.owner = null), /t\.json: \$\.steps\[0\]\.changes\[0\]\.path: 'owner\.A' goes through owner, which is null before step 1, not a record or array; the trace was edited/],
      [(t: any) => (t.steps[1].changes[0].path = 'nothing.here.B'), /\$\.steps\[1\]\.changes\[0\]\.path: 'nothing\.here\.B' goes through nothing, which is absent before step 2/],
    ] as Array<[(t: any) => void, RegExp]>) {
      const t = structuredClone(trace);
      edit(t);
      writeFileSync(file, JSON.stringify(t));
      expectBadInput(await run(['show', file, '--itf']), pattern);
      expectBadInput(await run(['show', file, '--html', join(dir, 't.html')]), pattern);
      expect(existsSync(join(dir, 't.html'))).toBe(false);
    }
  });

  it('a trace of a future format version: exit 2, upgrade', async () => {
    const { file, trace } = await traceOf('specs/abba-abba.json');
    writeFileSync(file, JSON.stringify({ ...trace, version: 99 }));
    for (const cmd of ['show', 'replay']) expectBadInput(await run([cmd, file]), /invalid trace: \$\.version: 99 is a newer trace format than this interleave reads \(1\).*upgrade interleave/);
  });

  it('a lasso whose loopStart is out of range, or missing: exit 2', async () => {
    const { file, trace } = await traceOf('specs/liveness-spin-unfair.json');
    writeFileSync(file, JSON.stringify({ ...trace, loopStart: trace.steps.length + 5 }));
    expectBadInput(await run(['replay', file]), new RegExp(`\\$\\.loopStart: ${trace.steps.length + 5} is not a step of the trace \\(steps 1\\.\\.${trace.steps.length}\\)`));
    const { loopStart: _, ...noLoop } = trace;
    writeFileSync(file, JSON.stringify(noLoop));
    expectBadInput(await run(['show', file]), /\$\.loopStart: missing; a livelock trace is a lasso/);
  });

  it('a stale trace (an event the model no longer has) or a foreign one (other threads, other model): exit 2, not 1', async () => {
    const { file, trace } = await traceOf('specs/philosophers-4.json');
    const stale = structuredClone(trace);
    stale.steps[1].event = 'p1.grabLeft';
    writeFileSync(file, JSON.stringify(stale));
    expectBadInput(await run(['replay', file]), /\$\.steps\[1\]\.event: model philosophers variant naive has no event 'p1\.grabLeft': the trace is stale .*re-run interleave check/);
    const foreign = { ...trace, threads: ['task0', 'task1'], steps: [] };
    writeFileSync(file, JSON.stringify(foreign));
    expectBadInput(await run(['replay', file]), /\$\.threads: the trace's threads \(task0, task1\) are not those of model philosophers/);
    // On another variant, an event it lacks is what the fix did: the trace does not reproduce (exit 1).
    writeFileSync(file, JSON.stringify(trace));
    expect((await run(['replay', file, '--variant', 'ordered'])).code).toBe(1);
  });

  it('replay --variant and --param errors are blamed on the option', async () => {
    const { file } = await traceOf('specs/philosophers-4.json');
    expectBadInput(await run(['replay', file, '--variant', 'nope']), /--variant: model philosophers has no variant 'nope'/);
    expectBadInput(await run(['replay', file, '--param', 'n=99']), /--param n: 99 is above the maximum/);
  });
});

describe('traces of models loaded by path', () => {
  it('record modelPath relative to the trace, so replay works from any directory', async () => {
    const dir = tmp();
    const spec = join(dir, 's.json');
    writeFileSync(spec, JSON.stringify({ model: resolve('test/fixtures/models/misbehaving.ts'), expect: { status: 'violation', kind: 'deadlock' } }));
    const out = join(dir, 'deep', 'cx');
    mkdirSync(out, { recursive: true });
    expect((await run(['check', spec, '--out', out, '--quiet'])).code).toBe(0);
    const trace = JSON.parse(readFileSync(join(out, 's.json'), 'utf8'));
    expect(resolve(out, trace.modelPath)).toBe(resolve('test/fixtures/models/misbehaving.ts'));
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const r = await run(['replay', join(out, 's.json')]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^REPRODUCED deadlock on misbehaving variant ok/);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('neighbours', () => {
  it('check of a file that is there but neither a spec nor a model module says so, not "no such file"', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const r = await run(['check', join(dir, 'notes.txt')]);
    expectBadInput(r, /notes\.txt: neither a spec \(\*\.json\) nor a model module \(\.ts, \.mts, \.js, \.mjs\); give a spec/);
    expect(r.err).not.toMatch(/no such/);
  });

  it('a trace path that does not exist or is a directory: exit 2 saying which', async () => {
    expectBadInput(await run(['show', 'counterexamples/nope.json']), /counterexamples\/nope\.json: cannot read the trace: no such file; give the path of a trace file/);
    expectBadInput(await run(['replay', 'counterexamples']), /counterexamples: cannot read the trace: it is a directory, not a file/);
  });

  it('init under a file, or into a folder that holds its files: exit 2, nothing written', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'f'), 'x');
    expectBadInput(await run(['init', join(dir, 'f', 'sub')]), /init .*f\/sub: cannot create the folder \(ENOTDIR\)/);
    expectBadInput(await run(['init', join(dir, 'f')]), /init .*f: it is a file, not a folder/);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('x');
  });

  it('--junit naming the file a trace will be written to: exit 2', async () => {
    const dir = tmp();
    expectBadInput(await run(['check', 'specs/abba-abba.json', '--out', dir, '--junit', join(dir, 'abba-abba.json')]), /a counterexample trace would be written there too/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('graph and replay say what a model path is relative to, and graph names the model of an unsupported feature', async () => {
    const dir = tmp();
    expectBadInput(await run(['graph', 'nomodel']), /nomodel: unknown model 'nomodel'; .*give a path relative to the working directory, e\.g\. "\.\/my-model\.ts"/);
    writeFileSync(join(dir, 'after.ts'), `import { createMachine } from 'xstate';
export default { name: 'after', description: 'd', params: {}, variants: { v: { description: 'v' } }, defaultVariant: 'v',
  create: () => createMachine({ type: 'parallel', states: { t: { initial: 'a', states: { a: { after: { 100: 'b' } }, b: { type: 'final' } } } } }) };
`);
    expectBadInput(await run(['graph', join(dir, 'after.ts')]), /after\.ts: model after: state t\.a uses 'after' \(delayed transitions\), which interleave does not support/);
    const trace = JSON.parse(readFileSync('counterexamples/abba-abba.json', 'utf8'));
    writeFileSync(join(dir, 't.json'), JSON.stringify({ ...trace, modelPath: '../gone.ts' }));
    expectBadInput(await run(['replay', join(dir, 't.json')]), /t\.json: \$\.modelPath: no model module at .*gone\.ts; give a bundled model name \(.*\) or a path relative to the trace/);
  });

  it('a spec whose model path is a folder without index.ts, or a module that throws on import: exit 2 with the fix', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'm'));
    const spec = join(dir, 's.json');
    writeFileSync(spec, JSON.stringify({ model: './m', expect: { status: 'pass' } }));
    expectBadInput(await run(['check', spec, '--no-save']), /s\.json: \$\.model: .*\/m is a folder without an index\.ts; give the model module's file/);
    writeFileSync(join(dir, 'm', 'index.ts'), "throw new Error('half-written model');\nexport default {};\n");
    expectBadInput(await run(['check', spec, '--no-save']), /s\.json: \$\.model: the model module .*index\.ts failed to load: half-written model; fix the module/);
  });
});

describe('a model whose initial state cannot be entered', () => {
  it('an initial entry action that throws: exit 2 naming the error (XState kept it in the snapshot and the search crashed on no initial leaf)', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'm.ts'),
      `import { assign, setup } from 'xstate';
export default { name: 'm', description: 'd', params: {}, variants: { v: { description: 'v' } }, defaultVariant: 'v',
  create: () => setup({}).createMachine({ type: 'parallel', context: { n: 0 }, states: { t: { initial: 'a', states: {
    a: { entry: assign({ n: () => { throw new Error('no initial n'); } }), on: { 't.go': 'b' } }, b: { type: 'final' } } } } }) };
`,
    );
    expectBadInput(await run(['check', join(dir, 'm.ts'), '--no-save']), /m\.ts: model .*m\.ts: the machine's initial state could not be computed: no initial n/);
  });
});

describe('a malformed model definition', () => {
  it.each([
    ['params: undefined', /the model in .*m\.ts: params must be a record \(params: \{\} when it has none\)/],
    ["params: { n: { description: 'size' } }", /params\.n needs a default that is a number, boolean or string/],
    ['variants: {}', /variants must be a record with at least one variant/],
    ['invariants: { ok: true }', /invariants\.ok must be a function/],
    ["invariantsFor: () => { throw new Error('nope'); }", /invariantsFor\(\) threw: nope; fix it in the model/],
    ['symmetry: [1]', /symmetry must be a function of the options returning the groups/],
    ["symmetry: () => { throw new Error('sym'); }", /symmetry\(\) threw: sym; fix it in the model/],
    ['symmetry: () => 5', /symmetry\(\) returned 5; it must return a list of groups, e\.g\. \[\{ threads: \['w0', 'w1'\] \}\]/],
    ["footprints: { g: { reads: 'n' } }", /footprints\.g\.reads must be a list of context paths, e\.g\. reads: \['n'\]/],
    ['footprints: { g: 5 }', /footprints\.g must be a record \{ reads, writes, sets \}/],
    ["symmetry: () => [{ threads: ['t'], indexed: 'x' }]", /symmetry\(\) group 0: indexed must be a list of context paths/],
    ["invariants: { ok: () => true }, propertyFootprints: { ok: { context: 'n' } }", /propertyFootprints\.ok needs context, a list of context paths/],
    ["invariants: { ok: () => true }, propertyFootprints: { ok: { context: [], locations: ['u'] } }", /propertyFootprints\.ok names thread u in locations, which the model does not have \(threads: t\)/],
  ])('%s: exit 2 naming the field', async (field, pattern) => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'm.ts'),
      `import { setup } from 'xstate';
export default { name: 'm', description: 'd', params: {}, variants: { v: { description: 'v' } }, defaultVariant: 'v',
  create: () => setup({}).createMachine({ type: 'parallel', context: {}, states: { t: { initial: 'a', states: { a: { on: { 't.go': 'b' } }, b: { type: 'final' } } } } }),
  ${field} };
`,
    );
    expectBadInput(await run(['check', join(dir, 'm.ts'), '--no-save', '--reduce', 'symmetry,por']), pattern);
  });
});

describe('a file in the way of an output is kept', () => {
  it('--checkpoint naming a spec, or a file that is not a checkpoint: exit 2 before the run, the file kept', async () => {
    const dir = tmp();
    const notes = join(dir, 'notes.json');
    writeFileSync(notes, '{"mine": true}');
    const spec = join(dir, 'abba.json');
    const text = JSON.stringify({ model: 'abba', expect: { status: 'violation', kind: 'deadlock' } });
    writeFileSync(spec, text);
    const a = await run(['check', 'specs/philosophers-6.json', '--checkpoint', notes, '--checkpoint-every', '0.001', '--no-save', '--quiet']);
    expectBadInput(a, /option --checkpoint .*notes\.json: it exists and is not an interleave checkpoint; refusing to replace it: give another file/);
    expect(a.out).toBe('');
    expect(readFileSync(notes, 'utf8')).toBe('{"mine": true}');
    const b = await run(['check', spec, '--checkpoint', spec, '--no-save', '--quiet']);
    expectBadInput(b, /option --checkpoint .*abba\.json: that is a spec being checked; give another file for the checkpoint/);
    expect(readFileSync(spec, 'utf8')).toBe(text);
    // Nor the file another output of the run goes to (it would replace the checkpoint at the end).
    const ck = join(dir, 'run.ckpt');
    expectBadInput(await run(['check', spec, '--checkpoint', ck, '--junit', ck, '--no-save', '--quiet']), /option --checkpoint .*run\.ckpt: --junit writes there too; give the checkpoint another file/);
    expectBadInput(await run(['check', spec, '--checkpoint', join(dir, 'cx', 'abba.json'), '--out', join(dir, 'cx'), '--quiet']), /option --checkpoint .*abba\.json: the counterexample of .*abba\.json is written there too; give the checkpoint another file/);
  });

  it('--checkpoint under a file: exit 2 naming it before the run (it was an internal error with a stack trace at the first save)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'f'), 'x');
    const r = await run(['check', 'specs/philosophers-6.json', '--checkpoint', join(dir, 'f', 'c.ckpt'), '--checkpoint-every', '0.001', '--no-save', '--quiet']);
    expectBadInput(r, /option --checkpoint .*f\/c\.ckpt: .*f is a file, not a directory/);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('x');
  });

  it('show --html and check --html never replace a file that is not an interleave viewer', async () => {
    const dir = tmp();
    const spec = join(dir, 'keep.json');
    writeFileSync(spec, '{"mine": true}');
    expectBadInput(await run(['show', 'counterexamples/abba-abba.json', '--html', spec]), /--html .*keep\.json: it exists and is not an interleave HTML viewer; refusing to replace it: give another file/);
    expect(readFileSync(spec, 'utf8')).toBe('{"mine": true}');
    const html = join(dir, 'html');
    mkdirSync(html);
    writeFileSync(join(html, 'abba-abba.html'), '<p>my notes</p>');
    const cx = join(dir, 'cx');
    const r = await run(['check', 'specs/abba-abba.json', '--html', html, '--out', cx, '--quiet']);
    expectBadInput(r, /option --html .*abba-abba\.html exists and is not an interleave HTML viewer/);
    expect(readFileSync(join(html, 'abba-abba.html'), 'utf8')).toBe('<p>my notes</p>');
    // Checked before the run: no counterexample written either.
    expect(existsSync(cx)).toBe(false);
    // --html naming a file: refused before the run too.
    const c = await run(['check', 'specs/abba-abba.json', '--html', spec, '--out', cx, '--quiet']);
    expectBadInput(c, /option --html .*keep\.json: it is a file, not a directory/);
    expect(existsSync(cx)).toBe(false);
  });
});

describe('show options that do not go together', () => {
  it.each([
    [['--itf', '--html', 'x.html'], /options --itf and --html: .*give one of them/],
    [['--itf', '--width', '80'], /option --width applies to the race diagram, not to --itf; drop it/],
    [['--html', 'x.html', '--threads', 'task0'], /option --threads applies to the race diagram, not to --html; drop it/],
  ])('show %j: exit 2', async (args, pattern) => {
    const dir = tmp();
    const r = await run(['show', 'counterexamples/abba-abba.json', ...args.map((a) => (a === 'x.html' ? join(dir, a) : a))]);
    expectBadInput(r, pattern);
    expect(readdirSync(dir)).toEqual([]);
  });
});
