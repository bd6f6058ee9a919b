// Module resolution hooks (node:module register) that let a model live in any folder: its bare imports of
// xstate, @xstate/* and interleave resolve from this install (one xstate for the model and the compiler),
// whatever the model's folder holds, and a .ts model loads as an ES module even where no package.json says
// "type": "module". Plain JavaScript: hooks run on node's loader thread, before any TypeScript loader.
import { pathToFileURL } from 'node:url';
import { sep } from 'node:path';
import { readFileSync } from 'node:fs';

let rootUrl = '';
/** Export conditions added to the imports of interleave it maps: `interleave-dist` when the tool runs from dist/. */
let conditions = [];

export function initialize(data) {
  rootUrl = pathToFileURL(data.root + sep).href;
  conditions = data.dist ? ['interleave-dist'] : [];
}

const OURS = /^(xstate|@xstate\/[^/]+|interleave)(\/.*)?$/;
const inside = (url) => url.startsWith(rootUrl);
const foreign = (url) => typeof url === 'string' && url.startsWith('file:') && !inside(url) && !url.includes('/node_modules/');

/** The "type" of the package.json nearest the file, or undefined (none, or it names no type). */
function packageType(url) {
  for (let dir = new URL('.', url); ; dir = new URL('..', dir)) {
    try {
      return JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')).type;
    } catch (e) {
      if (e?.code !== 'ENOENT') return undefined;
    }
    if (dir.pathname === '/') return undefined;
  }
}

/** Whether the file has a top-level import or export statement (a rough look, as node's own detection). */
function hasModuleSyntax(url) {
  try {
    return /^\s*(import\s*[\w{*'"]|export\s)/m.test(readFileSync(new URL(url), 'utf8'));
  } catch {
    return false;
  }
}

export async function resolve(specifier, context, nextResolve) {
  if (foreign(context.parentURL) && OURS.test(specifier)) {
    // As if imported from interleave's own package.json: xstate from its dependencies, interleave by its exports.
    // From the build (dist/), `interleave` and `interleave/kernel` resolve to its compiled files, the ones the
    // tool itself runs: one copy of each module, and no TypeScript to load.
    return nextResolve(specifier, {
      ...context,
      parentURL: new URL('package.json', rootUrl).href,
      conditions: [...conditions, ...(context.conditions ?? [])],
    });
  }
  const r = await nextResolve(specifier, context);
  // A .ts file outside this install and outside node_modules is a user's model (or its helpers): an ES module.
  if (foreign(r.url) && /\.tsx?$/.test(new URL(r.url).pathname) && (r.format === 'commonjs' || r.format === 'commonjs-typescript')) {
    return { ...r, format: 'module' };
  }
  // A .js file whose package.json (if any) names no "type": node detects import/export and loads it as a module;
  // the TypeScript loader took it for CommonJS and failed (require() of an ES module in a cycle).
  if (foreign(r.url) && (r.format == null || r.format === 'commonjs') && /\.js$/.test(new URL(r.url).pathname) && !packageType(r.url) && hasModuleSyntax(r.url)) {
    return { ...r, format: 'module' };
  }
  return r;
}
