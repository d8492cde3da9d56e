/**
 * templates/landscape LANDSCAPE_SEED_NOISE: a seed effect every version of the code shares (like a
 * GPU run's initialisation and data order), on top of LANDSCAPE_NOISE (the part a change scrambles).
 * What bench/judge-paired.ts and bench/judge-noop-keeps.ts measure paired seeds on.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const PREPARE = new URL('../templates/landscape/prepare.mjs', import.meta.url).pathname;

function values(env: Record<string, string>): Array<[number, number]> {
  const code =
    `const m = await import(${JSON.stringify(PREPARE)}); const out = [];` +
    'for (let s = 1; s <= 60; s++) { process.env.AUTORESEARCH_SEED = String(s);' +
    ' out.push([m.score({ ...m.OPTIMUM }).value, m.score({ ...m.OPTIMUM, LR: 0.05 }).value]); }' +
    'console.log(JSON.stringify(out));';
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const sd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

describe('landscape seed effect (LANDSCAPE_SEED_NOISE)', () => {
  it('shifts every version alike on one seed: the spread over seeds is large, the paired difference small', () => {
    const v = values({ LANDSCAPE_SEED_NOISE: '0.01', LANDSCAPE_NOISE: '0.001' });
    const a = v.map((x) => x[0]);
    const d = v.map((x) => x[1] - x[0]);
    assert.ok(sd(a) > 0.006 && sd(a) < 0.015, `spread over seeds ${sd(a)}`);
    assert.ok(sd(d) > 0.0008 && sd(d) < 0.0022, `paired differences ${sd(d)} (sqrt(2) x 0.001)`);
    // the true difference (LR 0.05 vs 0.04: 0.08 x log2(1.25)^2) shows through the seed's luck
    const truth = 0.08 * Math.log2(1.25) ** 2;
    assert.ok(Math.abs(d.reduce((s, x) => s + x, 0) / d.length - truth) < 0.001);
  });

  it('is off by default: the same seed gives unrelated draws to two versions', () => {
    const v = values({ LANDSCAPE_NOISE: '0.01' });
    const d = v.map((x) => x[1] - x[0]);
    assert.ok(sd(d) > 0.01, `differences ${sd(d)} (sqrt(2) x 0.01)`);
  });
});
