// Compiles the tool to JavaScript in dist/ (`npm run build`; also `prepare`, so `npm ci` and `npm install`
// from git build it, and `prepack`): every .ts file under the source roots (bin/tree.mjs SOURCE_ROOTS) becomes
// one .js file at the same place under dist/, its relative imports pointing at the compiled files (and at the
// package's own bin/, schemas/... from one level deeper); other files (the viewer's assets, the parallel
// worker's .mjs entry) are copied; the JSON schemas' validators are compiled to dist/schemas/. Then dist/BUILD.json records the digest of the sources, which bin/ compares
// before it runs dist/ (bin/tree.mjs). Plain JavaScript: it runs before anything is compiled.
//
//   node scripts/build.mjs [--out DIR]    (default: dist/ beside this script's package)
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST, sourceDigest, sourceFiles, STAMP, statSignatureAt } from '../bin/tree.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, DIST);
const started = performance.now();

const files = sourceFiles(root);
const ts = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const copied = files.filter((f) => !f.endsWith('.ts'));
const compiled = new Set(ts.map((f) => join(root, f)));

// Built beside the target and renamed into place: a reader never sees half a build.
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
// The stat signature, against the time the file system gave that new directory (its own clock), and before the
// bytes are read: a source written from then on has a later change time than the signature says.
const signature = statSignatureAt(root, statSync(tmp).mtimeMs);
const digest = sourceDigest(root);

/** Where a file of the package lands in the build (a compiled .ts as .js), or null for files that stay put. */
const target = (abs) => {
  const rel = relative(root, abs);
  if (compiled.has(abs)) return join(tmp, rel.replace(/\.ts$/, '.js'));
  if (copied.includes(rel.split(sep).join('/'))) return join(tmp, rel);
  return null;
};

// Bundle mode only to rewrite imports: every import is external, so each source file is its own output.
const rewriteImports = {
  name: 'interleave-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (!args.path.startsWith('.')) return { path: args.path, external: true };
      const abs = resolve(args.resolveDir, args.path);
      const from = dirname(target(args.importer));
      const to = target(abs) ?? abs;
      let rel = relative(from, to).split(sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return { path: rel, external: true };
    });
  },
};

// A failed build leaves nothing behind (and the old build, if any, in place).
process.on('exit', (code) => {
  if (code !== 0) rmSync(tmp, { recursive: true, force: true });
});

await build({
  entryPoints: ts.map((f) => join(root, f)),
  outbase: root,
  outdir: tmp,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [rewriteImports],
  logLevel: 'warning',
  // Not minified: error messages and stack traces read like the sources.
  minify: false,
  sourcemap: false,
});
for (const f of copied) cpSync(join(root, f), join(tmp, f));
// The schemas' validators, compiled ahead of time with the options cli/spec.ts uses (AJV_OPTIONS): the build
// neither loads ajv's compiler nor generates code when it starts.
const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const standalone = require('ajv/dist/standalone').default;
mkdirSync(join(tmp, 'schemas'), { recursive: true });
const schemas = readdirSync(join(root, 'schemas')).filter((f) => f.endsWith('.schema.json'));
// One ajv holding every schema, as they refer to each other by id (a shard's trace and coverage).
const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true } });
const parsed = schemas.map((f) => JSON.parse(readFileSync(join(root, 'schemas', f), 'utf8')));
for (const schema of parsed) ajv.addSchema(schema);
schemas.forEach((f, i) => {
  const validate = ajv.getSchema(parsed[i].$id);
  if (!validate) throw new Error(`schemas/${f}: no $id to compile it by`);
  writeFileSync(join(tmp, 'schemas', f.replace(/\.schema\.json$/, '.validate.cjs')), standalone(ajv, validate));
});
writeFileSync(
  join(tmp, STAMP),
  JSON.stringify({ sourceDigest: digest, files: ts.length + copied.length, builtBy: 'scripts/build.mjs', ...(signature !== null ? { statSignature: signature } : {}) }, null, 2) + '\n',
);

const old = `${out}.old-${process.pid}`;
if (existsSync(out)) renameSync(out, old);
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });
process.stderr.write(
  `built ${relative(process.cwd(), out) || out}: ${ts.length} modules compiled, ${copied.length} files copied, ${schemas.length} schema validators in ${((performance.now() - started) / 1000).toFixed(1)}s\n`,
);
