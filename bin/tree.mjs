// Which tree a process runs: the compiled JavaScript in dist/ (built by scripts/build.mjs at `npm ci`,
// `npm install` from git and `npm pack`) when it was built from exactly the sources beside it, else the
// TypeScript sources through tsx. dist/BUILD.json records a digest of the sources it was compiled from; a
// checkout edited since (or rebased, or a file added or removed) no longer matches, and then the sources
// run: a stale build never runs. `npm run build` refreshes dist/.
//
// INTERLEAVE_FROM picks the tree: `auto` (default, as above), `src` (always the sources), `dist` (the build,
// or exit 2 when it is missing or stale).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** What the build compiles and copies (relative to the package root), and what its digest covers. */
export const SOURCE_ROOTS = ['index.ts', 'cli', 'explorer', 'machines', 'testing'];
/** Also in the digest: the build itself, and the schemas it compiles to validators (dist/schemas/). */
export const BUILD_INPUTS = ['scripts/build.mjs', 'schemas'];
export const DIST = 'dist';
export const STAMP = 'BUILD.json';

/** Every file under the source roots (or `roots`), relative to `root`, sorted (posix separators). */
export function sourceFiles(root, roots = SOURCE_ROOTS) {
  const out = [];
  const walk = (rel) => {
    const abs = join(root, rel);
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      if (e.code === 'ENOTDIR') return void out.push(rel);
      if (e.code === 'ENOENT') return;
      throw e;
    }
    for (const d of entries) {
      if (d.name === 'node_modules' || d.name.startsWith('.')) continue;
      const child = `${rel}/${d.name}`;
      if (d.isDirectory()) walk(child);
      else if (d.isFile()) out.push(child);
    }
  };
  for (const r of roots) walk(r);
  return out.sort();
}

/** A digest of the source files' names and bytes and of the build script: equal digests, equal builds. */
export function sourceDigest(root) {
  // node:crypto loaded here, not at start-up: a build whose stat signature matches never hashes (about 5-10 ms).
  const { createHash } = createRequire(import.meta.url)('node:crypto');
  const h = createHash('sha256');
  for (const rel of sourceFiles(root, [...SOURCE_ROOTS, ...BUILD_INPUTS])) {
    h.update(rel);
    h.update('\0');
    h.update(readFileSync(join(root, rel)));
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * The source files' names and stat entries (size, modification and change times, inode), one line each: equal
 * while no file was written, added, removed or renamed. The kernel sets a file's change time (ctime) at every
 * write and every change of its other times, so an edit that restores the size and the modification time still
 * shows. Taken by the build (`statSignatureAt`), and then compared instead of hashing every source per process.
 */
export function statSignature(root) {
  let out = '';
  for (const rel of sourceFiles(root, [...SOURCE_ROOTS, ...BUILD_INPUTS])) {
    const st = statSync(join(root, rel));
    out += `${rel}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\n`;
  }
  return out;
}

/**
 * The stat signature to record in a build that starts at `at` (the file system's time, ms since the epoch, taken
 * before the build reads the files), or null when some file's change time is not before it: a later write within
 * the same tick of the file system's clock could leave its times as recorded (git's "racily clean" entries), so
 * such a build is always checked by its digest. (Any write from `at` on gets a change time of `at` or later.)
 */
export function statSignatureAt(root, at) {
  const sig = statSignature(root);
  for (const line of sig.split('\n')) {
    if (line === '') continue;
    if (Number(line.split('\0')[3]) >= at) return null;
  }
  return sig;
}

/**
 * 'fresh' | 'stale' | 'missing': the state of `root`/dist against the sources beside it. Fresh at once when no source
 * file was touched since the build (its stat signature); else by the digest of their bytes (a file touched but not
 * changed, a copy of the package, a checkout with new times: still fresh when the bytes are the same).
 */
export function distState(root) {
  const stamp = join(root, DIST, STAMP);
  if (!existsSync(stamp)) return 'missing';
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(stamp, 'utf8'));
  } catch {
    return 'stale';
  }
  if (typeof recorded.statSignature === 'string' && recorded.statSignature === statSignature(root)) return 'fresh';
  return recorded.sourceDigest === sourceDigest(root) ? 'fresh' : 'stale';
}

/**
 * The tree to run: { dist: true } for the build, { dist: false } for the sources, or { error } (exit 2) when
 * INTERLEAVE_FROM asks for something this install cannot give.
 */
export function chooseTree(root, from = 'auto') {
  if (from === 'src') return { dist: false };
  if (from !== 'auto' && from !== 'dist') {
    return { error: `interleave: INTERLEAVE_FROM=${from} is not one of auto, dist, src; unset it (auto: the build in dist/ when it matches the sources, else the sources)` };
  }
  const state = distState(root);
  if (state === 'fresh') return { dist: true };
  if (from === 'auto') return { dist: false };
  const why = state === 'missing' ? `there is no build in ${join(root, DIST)}` : `the build in ${join(root, DIST)} is stale (the sources changed since it was made)`;
  return { error: `interleave: INTERLEAVE_FROM=dist, but ${why}; run \`npm run build\` in ${root}, or unset INTERLEAVE_FROM to run the sources` };
}
