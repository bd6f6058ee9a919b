#!/usr/bin/env node
// Entry point: registers the TypeScript loader and the model resolution hooks (bin/register.mjs), then runs the CLI.
import { registerLoaders } from './register.mjs';
// A reader that stops early (interleave list | head) closes the pipe: stop quietly, not with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
registerLoaders();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
