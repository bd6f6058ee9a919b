// The first hour of a kernel developer with their own model, outside the clone: the mistakes a newcomer makes get
// exit 2 and one paragraph naming the file and the fix, never a stack trace, and no slip passes unnoticed. The module
// format cases run the real CLI in a child node (node's business, which an in-process run under vitest would not see).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { checkModel, resolveParams } from '../../explorer/index.ts';
import { defineModel } from '../../explorer/model.ts';
import { runCli } from '../helpers/cli.ts';

const BIN = resolve('bin/interleave.js');
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });

/** A folder outside the clone holding `files`. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'interleave-first-hour-'));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const JS_MODEL = `import { setup } from 'xstate';
import { defineModel } from 'interleave';
export default defineModel({
  name: 'js', description: 'one task', params: {}, variants: { v: { description: 'v' } }, defaultVariant: 'v',
  create: () => setup({}).createMachine({ type: 'parallel', states: { t: { initial: 'i', states: { i: { on: { 't.go': 'd' } }, d: { type: 'final' } } } } }),
});
`;

describe('a JavaScript model with import statements', () => {
  it('in a CommonJS package (npm init -y) is exit 2 naming the package.json and the fix', () => {
    const dir = folder({ 'package.json': JSON.stringify({ name: 'mine', type: 'commonjs' }), 'model.js': JS_MODEL });
    const r = cli(['check', 'model.js'], dir);
    expect(r.status, r.stderr).toBe(2);
    const error = r.stderr.slice(r.stderr.indexOf('error: '));
    expect(error).toMatch(/^error: model\.js: /);
    expect(error).toContain(join(dir, 'package.json'));
    expect(error).toMatch(/"type": "module"/);
    expect(error).toMatch(/\.mjs/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('written as CommonJS (require) is exit 2 saying to write it with import, not blaming import/export', () => {
    const cjs = JS_MODEL.replace("import { setup } from 'xstate';", "const { setup } = require('xstate');")
      .replace("import { defineModel } from 'interleave';", "const { defineModel } = require('interleave');")
      .replace('export default defineModel', 'module.exports = defineModel');
    const dir = folder({ 'package.json': JSON.stringify({ name: 'mine', type: 'commonjs' }), 'model.js': cjs });
    const r = cli(['check', 'model.js'], dir);
    expect(r.status, r.stderr).toBe(2);
    const error = r.stderr.slice(r.stderr.indexOf('error: '));
    expect(error).not.toMatch(/written with import\/export/);
    expect(error).toMatch(/^error: model\.js: [\s\S]*require\('interleave'\)[\s\S]*write the model with import/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('loads where no package.json says either (node detects the module; the loaders did not)', () => {
    const dir = folder({ 'model.js': JS_MODEL });
    const r = cli(['check', 'model.js', '--no-save'], dir);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
  });
  it('loads under "type": "module"', () => {
    const dir = folder({ 'package.json': JSON.stringify({ name: 'mine', type: 'module' }), 'model.js': JS_MODEL });
    const r = cli(['check', 'model.js', '--no-save'], dir);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
  });
});

describe('a spec naming its model by a path that is not there', () => {
  it('suggests the module that exists: the extension left out, or a path relative to the folder checked from', async () => {
    const dir = folder({ 'model.ts': JS_MODEL, 'a.json': JSON.stringify({ model: 'model', expect: { status: 'pass' } }) });
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ model: './model', expect: { status: 'pass' } }));
    for (const spec of ['a.json', 'b.json']) {
      const r = await runCli(['check', join(dir, spec), '--no-save']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/\$\.model: .*did you mean "\.\/model\.ts"/);
    }
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, 'c.json'), JSON.stringify({ model: 'model.ts', expect: { status: 'pass' } }));
    const r = await runCli(['check', join(sub, 'c.json'), '--no-save']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sub\/c\.json: \$\.model: no model module at .*did you mean "\.\.\/model\.ts"/);
  });
});

describe('a model module whose default export is not the model', () => {
  it('names the export that is one and the fix', async () => {
    // A model by shape (defineModel returns its argument), so the module loads in-process without the loaders.
    const dir = folder({ 'model.ts': "export const rwsemModel = { name: 'm', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v', create: () => null };\n" });
    const r = await runCli(['check', join(dir, 'model.ts'), '--no-save']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/does not export a model: .*it exports rwsemModel, a model: make it the default export \(export default rwsemModel\)/);
  });
});

describe('init', () => {
  it("prints the next steps of README's first model: cd into the folder, then check ., show and vitest, the comments aligned", async () => {
    const parent = folder({});
    const r = await runCli(['init', join(parent, 'my-locks')]);
    expect(r.code, r.err).toBe(0);
    const next = r.out.slice(r.out.indexOf('Next:')).trim().split('\n').slice(1);
    expect(next.map((l) => l.replace(/\s+#.*/, '').trim())).toEqual([
      `cd ${join(parent, 'my-locks')}`,
      'interleave check .',
      'interleave show counterexamples/abba.json',
      'npx vitest run',
    ]);
    expect(new Set(next.slice(1).map((l) => l.indexOf('#'))).size).toBe(1);
  });
});

describe('graph MODEL with a wrong --variant or --param', () => {
  it('names the model file, as check does', async () => {
    for (const [args, message] of [
      [['--variant', 'abab'], /^error: abba: --variant: model abba has no variant 'abab'/m],
      [['--param', 'n=3'], /^error: abba: --param n: model abba has no parameter 'n'/m],
    ] as const) {
      const r = await runCli(['graph', 'abba', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});

describe('a parameter declared without a description', () => {
  it("is named in the message without '(undefined)'", () => {
    const m = defineModel({
      name: 'nodesc', description: '', params: { n: { default: 2, min: 1 } as any }, variants: { v: { description: '' } }, defaultVariant: 'v',
      create: () => null as any,
    });
    expect(() => resolveParams(m, { n: 0 }, '--param')).toThrow(/^--param n: 0 is below the minimum 1$/);
    expect(() => resolveParams(m, { n: 'x' }, '--param')).toThrow(/^--param n: expected a number, got "x"$/);
  });
});

describe("a thread's last state without type: 'final'", () => {
  it("is a deadlock whose message says the state has no transitions and how to mark it a valid end", () => {
    const m = defineModel({
      name: 'no-final', description: '', params: {}, variants: { v: { description: '' } }, defaultVariant: 'v',
      create: () =>
        setup({}).createMachine({
          type: 'parallel',
          states: { t: { initial: 'i', states: { i: { on: { 't.go': 'done' } }, done: {} } }, u: { initial: 'i', states: { i: { on: { 'u.go': 'd' } }, d: { type: 'final' } } } },
        }),
    });
    const r = checkModel({ model: m });
    expect(r.verdict).toMatchObject({ status: 'violation', kind: 'deadlock' });
    expect(r.verdict.message).toMatch(/not finished: t@done; t@done has no transitions: .*type: 'final'.*meta: \{ end: true \}/);
  });
});
