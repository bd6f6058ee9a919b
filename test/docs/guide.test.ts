// docs/guide/kernel-checks.md runs: every `npx interleave ...` command in it is run here through the CLI, its exit
// code compared with the `# exit N` beside it, and the output excerpt quoted under it (the next ```text block)
// found in what the command prints, line by line in order (`...` skips lines; the seconds column and runs of
// spaces are not compared). Traces go to a temporary directory that stands for the guide's `counterexamples/`.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const GUIDE = 'docs/guide/kernel-checks.md';
const EXAMPLES = 'docs/guide/examples';

interface Run { command: string; args: string[]; exit: number; excerpt: string[] | null }

/** The guide's commands: each ```sh block holds one `npx interleave ... # exit N`, the ```text block after it the excerpt. */
export function guideRuns(doc: string): Run[] {
  const blocks = [...doc.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2]!.replace(/\n$/, '') }));
  const runs: Run[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'sh') return;
    const m = /^npx interleave (.+?)\s+# exit (\d)$/.exec(b.body);
    if (!m) throw new Error(`${GUIDE}: a sh block must be one "npx interleave ... # exit N" line, got:\n${b.body}`);
    const next = blocks[i + 1];
    runs.push({ command: m[1]!, args: m[1]!.split(/\s+/), exit: Number(m[2]), excerpt: next?.lang === 'text' ? next.body.split('\n') : null });
  });
  return runs;
}

const norm = (line: string) => line.trimEnd().replace(/\b\d+\.\d\d\b/g, 'S').replace(/\s+/g, ' ');

/** The excerpt's lines in order among the output's (`...` skips any number of lines); the first line missing, or null. */
export function missingLine(excerpt: string[], output: string): string | null {
  const out = output.split('\n').map(norm);
  let at = 0;
  for (const line of excerpt) {
    if (line.trim() === '...') continue;
    const i = out.indexOf(norm(line), at);
    if (i < 0) return line;
    at = i + 1;
  }
  return null;
}

describe(GUIDE, () => {
  const doc = readFileSync(GUIDE, 'utf8');
  const runs = guideRuns(doc);
  const dir = mkdtempSync(join(tmpdir(), 'guide-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('quotes an output for every command and uses every example', () => {
    expect(runs.length).toBeGreaterThan(20);
    expect(runs.filter((r) => r.excerpt === null).map((r) => r.command)).toEqual([]);
    const used = runs.map((r) => r.command).join('\n');
    // a model runs through a command or through a spec of its own beside it, which a command runs and the guide links
    const unused = readdirSync(EXAMPLES).filter((f) => !used.includes(`${EXAMPLES}/${f}`) && !doc.includes(`(examples/${f})`));
    expect(unused).toEqual([]);
  });

  it('the excerpt matcher skips with ... and refuses a line out of order', () => {
    expect(missingLine(['a', '...', 'c'], 'a\nb\nc')).toBeNull();
    expect(missingLine(['c', 'a'], 'a\nb\nc')).toBe('a');
    expect(missingLine(['x  1.25 y'], 'x 0.01  y')).toBeNull();
  });

  for (const run of runs) {
    it(`interleave ${run.command}`, async () => {
      const args = run.args.map((a) => a.replace(/^counterexamples\//, `${dir}/`));
      if (args[0] === 'check') args.push('--out', dir);
      const { code, out, err } = await runCli(args);
      const printed = (out + err).replaceAll(`${relative(process.cwd(), dir)}`, 'counterexamples').replaceAll(dir, 'counterexamples');
      expect(code, printed).toBe(run.exit);
      expect(missingLine(run.excerpt!, printed), printed).toBeNull();
    });
  }
});
