#!/usr/bin/env node
// Entry point: registers the TypeScript loader and the model resolution hooks (bin/register.mjs), then runs the CLI.
import { registerLoaders } from './register.mjs';
registerLoaders();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
