// Ablation against the truth on the landscape (issue 12, "Figures"): studies of the landscape
// template with the offline search, then `autoresearch ablate`; each line's measured gain (alone
// and in context) is set against its true gain, computed from the `true_val_bpb` every landscape
// run prints (the noise-free value of its knobs). The error should be within the measured noise:
// about 95% of the true gains inside the reported 95% intervals.
//
//   node --import tsx bench/analysis-landscape.ts [--studies 3] [--experiments 20] [--runs 3] [--slots 2]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from '../src/ledger/open.js';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const flag = (name: string, d: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d);
const studies = flag('--studies', 3);
const experiments = flag('--experiments', 20);
const runs = flag('--runs', 3);
const slots = flag('--slots', 2);
const ar = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8' });

interface Line {
  numbers: number[];
  description: string;
  alone: { value: number; se: number | null; half: number | null } | null;
  inContext: { value: number; se: number | null; half: number | null } | null;
}
const rows: string[] = [];
let inside = 0;
let total = 0;
let sumAbsT = 0;
const t0 = Date.now();
console.log(
  `machine: load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; ${studies} studies x ${experiments} experiments, ablate --runs ${runs}, ${slots} slots`,
);
for (let s = 0; s < studies; s++) {
  const dir = join(mkdtempSync(join(tmpdir(), 'abl-landscape-')), 'ws');
  const init = ar(['init', dir, '--template', 'landscape', '--tag', 'bench']);
  if (init.status !== 0) throw new Error(init.stderr);
  const toml = join(dir, 'autoresearch.toml');
  writeFileSync(toml, readFileSync(toml, 'utf8').replace(/^seed = \d+/m, `seed = ${s}`));
  execFileSync('git', ['-C', dir, 'add', '-A']);
  execFileSync('git', [
    '-C',
    dir,
    '-c',
    'user.name=b',
    '-c',
    'user.email=b@b',
    'commit',
    '-qm',
    'landscape',
    '--allow-empty',
  ]);
  const run = ar(['run', dir, '-n', String(experiments), '--slots', String(slots), '--json']);
  if (run.status !== 0) throw new Error(run.stderr);
  const abl = ar(['ablate', dir, '--runs', String(runs), '--slots', String(slots), '--json']);
  if (abl.status !== 0) {
    console.log(`study ${s}: ablate: ${abl.stderr.trim()}`);
    continue;
  }
  const a = JSON.parse(abl.stdout) as {
    measuredAs: Record<string, string>;
    changes: Line[];
    additivity: { additive: boolean | null; difference: { value: number; half: number | null } } | null;
  };
  // the truth of each variant: true_val_bpb of its runs (all equal: no noise in it)
  const ledger = await openLedger('sqlite:.autoresearch/ledger.db', { root: dir });
  const study = (await ledger.getStudy('bench'))!;
  const truth = new Map<string, number>();
  for (const r of await ledger.listRecords(study.id, 'ablation')) {
    const v = r.value as { variant?: string; metrics?: Record<string, number> };
    if (v.variant && v.metrics?.true_val_bpb !== undefined) truth.set(v.variant, v.metrics.true_val_bpb);
  }
  await ledger.close();
  const T = (v: string) => truth.get(a.measuredAs[v] ?? v);
  for (const l of a.changes) {
    const ids = l.numbers.join('+');
    const pairs: Array<[string, Line['alone'], number | undefined]> = [
      [
        'alone',
        l.alone,
        T('base') !== undefined && T(`only-${ids}`) !== undefined ? T('base')! - T(`only-${ids}`)! : undefined,
      ],
      [
        'in context',
        l.inContext,
        T(`without-${ids}`) !== undefined && T('best') !== undefined ? T(`without-${ids}`)! - T('best')! : undefined,
      ],
    ];
    for (const [what, est, tru] of pairs) {
      if (!est || tru === undefined || est.half === null || est.se === null) continue;
      const ok = Math.abs(est.value - tru) <= est.half;
      total++;
      if (ok) inside++;
      sumAbsT += Math.abs(est.value - tru) / est.se;
      rows.push(
        `| ${s} | #${l.numbers.join('+#')} ${l.description.slice(0, 40)} | ${what} | ${tru.toFixed(4)} | ${est.value.toFixed(4)} ± ${est.half.toFixed(4)} | ${(est.value - tru).toFixed(4)} | ${ok ? 'yes' : 'NO'} |`,
      );
    }
  }
  const add = a.additivity;
  console.log(
    `study ${s}: ${a.changes.length} lines; additivity ${add ? `${add.additive} (difference ${add.difference.value.toFixed(4)} ± ${add.difference.half?.toFixed(4)})` : '-'}`,
  );
}
console.log('\n| study | change | gain | true | measured ± 95% | error | truth inside |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(
  `\n${inside}/${total} true gains inside the 95% interval (${((100 * inside) / Math.max(1, total)).toFixed(0)}%); mean |error| / se = ${(sumAbsT / Math.max(1, total)).toFixed(2)} (about 0.8 expected); ${((Date.now() - t0) / 60000).toFixed(1)} min; load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
