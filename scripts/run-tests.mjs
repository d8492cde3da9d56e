#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [filter-substring...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
walk(join(root, 'src'));
walk(join(root, 'test'));
walk(join(root, 'templates'));
const chosen = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
chosen.sort();

// One throw-away PostgreSQL cluster for the whole run (tests create a database each). The helper
// stops it when its stdin closes, so it dies with this process.
const env = { ...process.env };
let pgHelper = null;
if (!env.AUTORESEARCH_TEST_PG_URL) {
  pgHelper = spawn(process.execPath, ['--import', 'tsx', 'src/test-support/pg-main.ts'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  env.AUTORESEARCH_TEST_PG_URL = await new Promise((resolve, reject) => {
    let out = '';
    pgHelper.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    pgHelper.once('exit', (code) => reject(new Error(`could not start the test PostgreSQL cluster (exit ${code})`)));
  });
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...chosen], {
  cwd: root,
  stdio: 'inherit',
  env,
});
const status = await new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
if (pgHelper) {
  const gone = new Promise((resolve) => pgHelper.once('exit', resolve));
  pgHelper.stdin.end();
  await gone;
}
process.exit(status);
