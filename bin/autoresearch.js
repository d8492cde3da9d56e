#!/usr/bin/env node
// Entry point of the `autoresearch` binary: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  console.error('autoresearch: the CLI is not built yet. Run `npm run build` in ' + join(here, '..') + ' first.');
  process.exit(1);
}
await import(main);
