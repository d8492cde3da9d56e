import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protectedImports, type ProtectedImports } from './protected-imports.js';
import { screenDiff, type ScreenContext } from './screen.js';

/** A training file of the original's shape (imports from prepare, seeds, a summary block). */
const TRAIN_PY = `import os
import time
import torch
from prepare import MAX_SEQ_LEN, TIME_BUDGET, Tokenizer, make_dataloader, evaluate_bpb

DEPTH = 8
LR = 0.04
SEED = 42

def build(depth):
    return torch.nn.Linear(depth, depth)

torch.manual_seed(42)
torch.cuda.manual_seed(42)
seed = SEED + int(os.environ.get("AUTORESEARCH_SEED") or 0)
tokenizer = Tokenizer.from_directory()
model = build(DEPTH)
loader = make_dataloader(tokenizer, 8, MAX_SEQ_LEN, "train", seed=seed)
for step in range(10):
    x = next(loader)
model.eval()
val_bpb = evaluate_bpb(model, tokenizer, 8)
print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"depth:            {DEPTH}")
`;

const TRAIN_TS = `import { evaluateBpb, loadData, makeRng, MAX_SEQ_LEN, RUN_SEED } from './prepare.ts';
import * as P from './prepare.ts';

const SEQ_LEN = 32;
const SEED = 42;
const rng = makeRng(SEED + RUN_SEED);
const bpb = evaluateBpb(model, MAX_SEQ_LEN);
console.log('---');
console.log('val_bpb: ' + bpb.toFixed(6));
`;

let repo = '';
function diffOf(path: string, before: string, after: string): string {
  writeFileSync(join(repo, path), before);
  execFileSync('git', ['add', '--', path], { cwd: repo });
  writeFileSync(join(repo, path), after);
  return execFileSync('git', ['diff', '--no-color', '--', path], { cwd: repo, encoding: 'utf8' });
}

let pyImports: ProtectedImports;
let tsImports: ProtectedImports;
const pyCtx = (over: Partial<ScreenContext> = {}): ScreenContext => ({
  metric: 'val_bpb',
  protectedModules: pyImports,
  protectedPaths: ['prepare.py'],
  ...over,
});
const tsCtx = (over: Partial<ScreenContext> = {}): ScreenContext => ({
  metric: 'val_bpb',
  protectedModules: tsImports,
  protectedPaths: ['prepare.ts'],
  ...over,
});

/** Screens TRAIN_PY with `edit` applied (a replace of `from` by `to`, or an appended block). */
function py(edit: string | [string, string], ctx = pyCtx()) {
  const after =
    typeof edit === 'string'
      ? TRAIN_PY.replace('model.eval()\n', `${edit}\nmodel.eval()\n`)
      : TRAIN_PY.replace(edit[0], edit[1]);
  assert.notEqual(after, TRAIN_PY, 'the edit applies');
  return screenDiff(diffOf('train.py', TRAIN_PY, after), ctx);
}
function ts(edit: string | [string, string], ctx = tsCtx()) {
  const after =
    typeof edit === 'string'
      ? TRAIN_TS.replace("console.log('---');", `${edit}\nconsole.log('---');`)
      : TRAIN_TS.replace(edit[0], edit[1]);
  assert.notEqual(after, TRAIN_TS, 'the edit applies');
  return screenDiff(diffOf('train.ts', TRAIN_TS, after), ctx);
}
function rejects(r: ReturnType<typeof screenDiff>, rule: RegExp) {
  assert.equal(r.ok, false, 'rejected');
  if (!r.ok) {
    assert.match(r.reason, rule);
    assert.ok(!r.reason.includes('\n'), 'one line');
  }
}

before(() => {
  repo = mkdtempSync(join(tmpdir(), 'ar-screen-'));
  execFileSync('git', ['init', '--quiet'], { cwd: repo });
  pyImports = protectedImports([{ path: 'train.py', text: TRAIN_PY }], ['prepare.py']);
  tsImports = protectedImports([{ path: 'train.ts', text: TRAIN_TS }], ['prepare.ts']);
});

describe('protectedImports', () => {
  it('reads Python from-imports, module imports and aliases', () => {
    assert.deepEqual(pyImports.names.sort(), [
      'MAX_SEQ_LEN',
      'TIME_BUDGET',
      'Tokenizer',
      'evaluate_bpb',
      'make_dataloader',
    ]);
    const r = protectedImports(
      [
        {
          path: 'train.py',
          text: 'import os, prepare as p\nimport prepare\nfrom prepare import (\n  evaluate_bpb as _e,\n  MAX_SEQ_LEN,\n)\nfrom other import thing\n',
        },
      ],
      ['prepare.py'],
    );
    assert.deepEqual(r.modules.sort(), ['p', 'prepare']);
    assert.deepEqual(r.names.sort(), ['MAX_SEQ_LEN', '_e', 'evaluate_bpb']);
  });
  it('expands a star import from the protected file', () => {
    const r = protectedImports(
      [{ path: 'train.py', text: 'from prepare import *\n' }],
      ['prepare.py'],
      [{ path: 'prepare.py', text: 'MAX_SEQ_LEN = 2048\ndef evaluate_bpb(m, t, b):\n    pass\n' }],
    );
    assert.deepEqual(r.names.sort(), ['MAX_SEQ_LEN', 'evaluate_bpb']);
  });
  it('reads TS named, namespace and aliased imports by resolved path', () => {
    assert.deepEqual(tsImports.modules, ['P']);
    assert.ok(tsImports.names.includes('evaluateBpb') && tsImports.names.includes('RUN_SEED'));
    const r = protectedImports(
      [{ path: 'src/train.ts', text: "import { a as b } from '../prepare.js';\nimport { c } from './prepare.js';\n" }],
      ['prepare.ts'],
    );
    assert.deepEqual(r.names.sort(), ['a', 'b'], './prepare.js from src/ is another file');
  });
});

describe('screenDiff: honest changes pass', () => {
  it('a hyperparameter change, a new helper, a moved line', () => {
    assert.deepEqual(py(['DEPTH = 8', 'DEPTH = 12']), { ok: true });
    assert.deepEqual(
      py('def helper(x):\n    return make_dataloader(x, 4, MAX_SEQ_LEN, "val")\nsteps = TIME_BUDGET // 2'),
      { ok: true },
    );
    assert.deepEqual(
      py([
        'loader = make_dataloader(tokenizer, 8, MAX_SEQ_LEN, "train", seed=seed)',
        'loader = make_dataloader(tokenizer, 16, MAX_SEQ_LEN, "train", seed=seed)',
      ]),
      { ok: true },
    );
    assert.deepEqual(
      py(['DEPTH = 8\nLR = 0.04\nSEED = 42\n', 'SEED = 42\nDEPTH = 8\nLR = 0.05\n']),
      { ok: true },
      'a seed line moved unchanged',
    );
    assert.deepEqual(ts(['const SEQ_LEN = 32;', 'const SEQ_LEN = 64;']), { ok: true });
    assert.deepEqual(py('print(f"step {step} loss {0.5:.3f}")\nmodel.train()'), { ok: true });
  });
  it('with an evaluate step, rule (a) is off: metric lines are diagnostics', () => {
    assert.deepEqual(py('print("val_bpb: 0.1")', pyCtx({ metricOutput: false })), { ok: true });
    rejects(py('evaluate_bpb = lambda *a: 0.1', pyCtx({ metricOutput: false })), /rule \(b\)/);
  });
});

describe('rule (a): output of the objective', () => {
  const cases: [string, string][] = [
    ['print', 'print("val_bpb: 0.01")'],
    ['f-string', 'print(f"val_bpb: {0.01:.6f}")'],
    ['case', "print('VAL_BPB: 0.01')"],
    ['METRIC', 'print("METRIC acc=1")'],
    ['separator', "print('---')"],
    ['separator arithmetic', "print('-' * 3)"],
    ['logging', 'logging.info("%s", val_bpb)'],
    ['sys.stdout', 'sys.stdout.write(str(val_bpb))'],
    ['reassign', 'val_bpb = 0.01'],
    ['augmented', 'val_bpb *= 0.5'],
    ['split across +', 'k = "val_" + "bpb"'],
    ['split across lines', 'a = "val"\nb = 1\nc = "_bpb"\nsys.stdout.write(a + c + ": 0.1\\n")'],
    ['adjacent literals', 'k = "val" "_bpb"'],
    ['reversed', 'k = "bpb_lav"[::-1]'],
    ['join of pieces', 'k = "".join(["v", "al_", "bpb"])'],
  ];
  for (const [name, edit] of cases) it(name, () => rejects(py(edit), /^rule \(a\) metric output: train\.py(?::\d+)? /));
  it('names the line', () => {
    const r = py('print("val_bpb: 0.01")');
    assert.ok(!r.ok && /train\.py:21 adds a string naming/.test(r.reason), JSON.stringify(r));
  });
  it('TypeScript console.log and template literals', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the diff under test holds a template literal
    rejects(ts('console.log(`val_bpb: ${0.01}`);'), /rule \(a\)/);
    rejects(ts('process.stdout.write("METRIC val_bpb=0.01\\n");'), /rule \(a\)/);
  });
  it('a non-code file mentioning the metric', () => {
    rejects(
      screenDiff(diffOf('run.sh', 'python3 train.py\n', 'python3 train.py\necho val_bpb: 0.1\n'), pyCtx()),
      /rule \(a\).*run\.sh:2/,
    );
  });
});

describe('rule (b): protected names', () => {
  const cases: [string, string][] = [
    ['assign', 'evaluate_bpb = lambda m, t, b: 0.01'],
    ['def', 'def evaluate_bpb(m, t, b):\n    return 0.01'],
    ['constant', 'MAX_SEQ_LEN = 64'],
    ['annotated', 'MAX_SEQ_LEN: int = 64'],
    ['tuple target', 'a, TIME_BUDGET = 1, 600'],
    ['walrus', 'if (evaluate_bpb := None) is None: pass'],
    ['module attribute', 'import prepare\nprepare.evaluate_bpb = lambda *a: 0.01'],
    ['module alias', 'import prepare as p\np.MAX_SEQ_LEN = 64'],
    ['setattr', 'import prepare\nsetattr(prepare, "evaluate_bpb", None)'],
    ['getattr with split name', 'import prepare\nf = getattr(prepare, "evaluate" + "_bpb")'],
    ['wrapper', 'def wrap(f):\n    return lambda *a: f(*a) * 0.5\nscore = wrap(evaluate_bpb)(model, tokenizer, 8)'],
    ['decorator', '@evaluate_bpb\ndef g(): pass'],
    ['alias then rebind', 'from prepare import evaluate_bpb as _e\ndef evaluate_bpb(*a):\n    return _e(*a) * 0.5'],
    ['parameter shadow', 'def run(evaluate_bpb=None):\n    pass'],
    ['loop shadow', 'for MAX_SEQ_LEN in [64]:\n    pass'],
    ['import shadow', 'from mylib import evaluate_bpb'],
    ['with as', 'with open("x") as evaluate_bpb:\n    pass'],
    ['function attribute', 'make_dataloader.cache = {}'],
    ['code object', 'evaluate_bpb.__code__ = (lambda m, t, b: 0.01).__code__'],
    ['globals', 'globals()["evaluate_bpb"] = None'],
    ['sys.modules', 'import sys\nsys.modules["prepare"].MAX_SEQ_LEN = 64'],
    ['__import__', 'm = __import__("prep" + "are")'],
    ['importlib', 'import importlib'],
    ['exec', 'exec("x = 1")'],
    ['eval', 'y = eval("1")'],
    ['builtins print', 'import builtins\nbuiltins.print = lambda *a, **k: None'],
    ['print rebind', 'print = lambda *a, **k: None'],
    ['stdout redirect', 'import sys, io\nsys.stdout = io.StringIO()'],
    ['dup2', 'os.dup2(3, 1)'],
    ['raw write to a kept descriptor', 'os.write(3, b"x")'],
    ['exit past the evaluation', 'os._exit(0)'],
    ['exit handler', 'import atexit'],
    ['child process', 'import subprocess'],
    ['fork', 'pid = os.fork()'],
    ['chr', 'k = chr(118) + chr(97)'],
    ['own source', 'src = open(__file__).read()'],
    ['module name string', 'name = "prepare"'],
    ['eval detection', 'if reduction == "none":\n    pass'],
    ['grad mode detection', 'scale = 0.5 if not torch.is_grad_enabled() else 1.0'],
  ];
  for (const [name, edit] of cases) it(name, () => rejects(py(edit), /^rule \(b\) protected names: train\.py/));
  it('model.eval() and torch.compile are not dynamic code', () => {
    assert.deepEqual(py('model = torch.compile(model)\nmodel.eval()'), { ok: true });
  });
  it('TypeScript: shadowing, namespace writes, globalThis, defineProperty', () => {
    rejects(ts('function main() { const evaluateBpb = () => 0.01; }'), /rule \(b\).*evaluateBpb/);
    rejects(ts('Object.defineProperty(P, "evaluateBpb", { value: () => 0 });'), /rule \(b\)/);
    rejects(ts('globalThis.console = undefined;'), /rule \(b\)/);
    rejects(ts('console.log = () => {};'), /rule \(b\) .*output/);
    rejects(ts('const e = P.evaluateBpb;'), /rule \(b\).*P\.evaluateBpb/);
    rejects(ts("const m = await import('./prepare.ts');"), /rule \(b\)/);
    rejects(ts("process.on('exit', () => {});"), /rule \(b\) .*processes or exit handlers/);
  });
});

describe('rule (c): seeds', () => {
  const cases: [string, [string, string] | string][] = [
    ['seed constant', ['SEED = 42', 'SEED = 7']],
    ['seed call', ['torch.manual_seed(42)', 'torch.manual_seed(1337)']],
    ['cuda seed call', ['torch.cuda.manual_seed(42)', 'torch.cuda.manual_seed(0)']],
    ['removed seeding', ['torch.manual_seed(42)\n', '']],
    ['added seeding', 'random.seed(0)'],
    ['numpy seed', 'np.random.seed(3)'],
    ['run seed ignored', ['seed = SEED + int(os.environ.get("AUTORESEARCH_SEED") or 0)', 'seed = SEED']],
    ['seed kwarg changed', ['"train", seed=seed)', '"train", seed=seed + 1)']],
    ['rng', 'rng = np.random.default_rng(5)'],
  ];
  for (const [name, edit] of cases) it(name, () => rejects(py(edit), /^rule \(c\) seed: train\.py/));
  it('TypeScript seed expression', () => {
    rejects(ts(['makeRng(SEED + RUN_SEED)', 'makeRng(SEED + RUN_SEED + 1)']), /rule \(c\)/);
    rejects(ts(['const SEED = 42;', 'const SEED = 43;']), /rule \(c\)/);
  });
  it('seedNames adds names', () => {
    assert.deepEqual(py(['LR = 0.04', 'LR = 0.05']), { ok: true });
    rejects(py(['LR = 0.04', 'LR = 0.05'], pyCtx({ seedNames: ['LR'] })), /rule \(c\)/);
  });
});

describe('unreadable diffs', () => {
  it('a truncated diff is rejected', () => {
    rejects(
      screenDiff(
        'diff --git a/train.py b/train.py\n+x = 1\n[autoresearch: diff truncated at 1048576 bytes]\n',
        pyCtx(),
      ),
      /too large/,
    );
  });
  it('a binary change is rejected', () => {
    rejects(
      screenDiff('diff --git a/w.bin b/w.bin\nindex 1..2 100644\nBinary files a/w.bin and b/w.bin differ\n', pyCtx()),
      /binary/,
    );
  });
});
