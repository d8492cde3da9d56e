/**
 * `autoresearch init --guard`: gives a repository of the original autoresearch layout a
 * protected evaluate step, so that its objective no longer comes from the edited train.py:
 * - writes `evaluate.py` (see guard-evaluate.ts for how it rebuilds and checks the model);
 * - inserts one line into train.py, before its own final evaluation, that saves the trained model
 *   (state dict + config) to $AUTORESEARCH_OUTPUT/model.pt;
 * - sets `[run] evaluate` and adds evaluate.py to `[files].protected` in autoresearch.toml
 *   (creating the file for the original layout when missing).
 * It commits nothing: the user reviews the changes and commits them (`run` refuses a dirty tree).
 *
 * Contract: checks everything before writing anything; returns a failure value (never throws)
 * with a message saying what is missing; running it twice changes nothing the second time.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { CONFIG_FILE } from './load.js';
import { detectOriginalLayout, hasOriginalFiles, onPath } from './detect.js';
import { CHECKPOINT_LINE, EVALUATE_PY, GUARD_MARKER } from './guard-evaluate.js';
import { renderConfigToml } from './render.js';

export const EVALUATE_FILE = 'evaluate.py';

export type GuardOutcome = { ok: true; changed: string[]; report: string[] } | { ok: false; message: string };

export interface GuardOptions {
  /** PATH to look for `uv` in (default: process.env.PATH). */
  pathVar?: string;
  /** Study tag when the config is created. */
  tag?: string;
}

const fail = (message: string): GuardOutcome => ({ ok: false, message: `--guard: ${message}` });

export function guardOriginalLayout(root: string, opts: GuardOptions = {}): GuardOutcome {
  if (!hasOriginalFiles(root))
    return fail(
      `${root} is not of the original autoresearch layout (prepare.py and train.py); for other workspaces set [run] evaluate yourself`,
    );
  const prepare = readFileSync(join(root, 'prepare.py'), 'utf8');
  const missingPrepare = [
    [
      /^def evaluate_bpb\(\s*model\s*,\s*tokenizer\s*,\s*batch_size\s*\)/m,
      'def evaluate_bpb(model, tokenizer, batch_size)',
    ],
    [/^class Tokenizer\b/m, 'class Tokenizer'],
    [/^def make_dataloader\(/m, 'def make_dataloader('],
    [/^MAX_SEQ_LEN\s*=/m, 'MAX_SEQ_LEN'],
  ]
    .filter(([re]) => !(re as RegExp).test(prepare))
    .map(([, what]) => what as string);
  if (missingPrepare.length) return fail(`prepare.py lacks ${missingPrepare.join(', ')}, which evaluate.py relies on`);

  const train = readFileSync(join(root, 'train.py'), 'utf8');
  const newTrain = train.includes(GUARD_MARKER) ? train : insertCheckpoint(train);
  if (typeof newTrain !== 'string') return newTrain;

  const evalPath = join(root, EVALUATE_FILE);
  const oldEval = existsSync(evalPath) ? readFileSync(evalPath, 'utf8') : null;
  if (oldEval !== null && !oldEval.includes(GUARD_MARKER))
    return fail(`${EVALUATE_FILE} already exists and was not written by --guard; move it away first`);

  const cfgPath = join(root, CONFIG_FILE);
  let cfg: string;
  let created = false;
  if (existsSync(cfgPath)) cfg = readFileSync(cfgPath, 'utf8');
  else {
    const found = detectOriginalLayout(root, { pathVar: opts.pathVar, tag: opts.tag, ignoreExistingConfig: true });
    if (!found.detected) return fail(`${root} lacks program.md; run \`autoresearch init\` first`);
    cfg = renderConfigToml(found.answers);
    created = true;
  }
  const command = evaluateCommand(cfg, opts.pathVar ?? process.env.PATH ?? '');
  const newCfg = editConfig(cfg, command);
  if (typeof newCfg !== 'string') return newCfg;

  const changed: string[] = [];
  const report: string[] = [];
  if (oldEval !== EVALUATE_PY) {
    writeFileSync(evalPath, EVALUATE_PY);
    changed.push(EVALUATE_FILE);
    report.push(
      `${oldEval === null ? 'wrote' : 'updated'} ${EVALUATE_FILE}: loads $AUTORESEARCH_OUTPUT/model.pt, rebuilds GPT from train.py's definitions (its training never runs), and prints val_bpb from prepare.evaluate_bpb`,
    );
  }
  if (newTrain !== train) {
    writeFileSync(join(root, 'train.py'), newTrain);
    changed.push('train.py');
    const n = newTrain.split('\n').findIndex((l) => l.includes(GUARD_MARKER)) + 1;
    report.push(
      `train.py line ${n}: one line added that saves the trained model for evaluate.py, before train.py's own evaluation`,
    );
  }
  if (newCfg !== cfg || created) {
    writeFileSync(cfgPath, newCfg);
    changed.push(CONFIG_FILE);
    report.push(
      `${CONFIG_FILE}${created ? ' (written for the original layout)' : ''}: [run] evaluate = "${command}"; ${EVALUATE_FILE} added to [files].protected`,
    );
  }
  if (changed.length === 0)
    return {
      ok: true,
      changed,
      report: [
        'already guarded: evaluate.py, the checkpoint line in train.py and [run] evaluate are in place; nothing changed',
      ],
    };
  report.push(
    '',
    'what this changes:',
    '- the objective now comes from evaluate.py, a fresh process run after training from a protected file; the val_bpb line train.py prints is kept as a diagnostic only',
    '- evaluation time is counted apart from the training budget; train.py still runs its own evaluation unless you remove it (the proposer may too)',
    "- the model's forward(idx) must return logits: evaluate.py computes the loss itself and refuses a model whose earlier logits depend on later tokens",
    '- the proposer may not change evaluate.py; changes that drop the checkpoint line end as crashes',
    '- run by hand, train.py now also writes model.pt (into $AUTORESEARCH_OUTPUT, else the current directory)',
    '',
    `review and commit before \`autoresearch run\` (it refuses a dirty tree): git add ${changed.join(' ')} && git commit -m "autoresearch: protected evaluate step"`,
  );
  return { ok: true, changed, report };
}

/** The evaluate command, with the same launcher as the training command (uv when available). */
function evaluateCommand(cfg: string, pathVar: string): string {
  let command = '';
  try {
    const run = (parse(cfg) as { run?: { command?: unknown } }).run;
    if (typeof run?.command === 'string') command = run.command;
  } catch {
    // invalid TOML: editConfig reports it
  }
  const launcher = /^\s*((?:uv run|\S*python[\d.]*))\s+train\.py\b/.exec(command)?.[1];
  if (launcher) return `${launcher} ${EVALUATE_FILE}`;
  return onPath('uv', pathVar) ? `uv run ${EVALUATE_FILE}` : `python3 ${EVALUATE_FILE}`;
}

/**
 * Inserts the checkpoint line before train.py's own final evaluation: the top-level statement
 * that calls evaluate_bpb (after the training loop), above the `model.eval()` and comment lines
 * that lead to it.
 */
export function insertCheckpoint(train: string): string | GuardOutcome {
  const lines = train.split('\n');
  const needs: [RegExp, string][] = [
    [/^class GPTConfig\b/m, 'class GPTConfig'],
    [/^class GPT\b/m, 'class GPT'],
    [/^import os\b|^import .*\bos\b/m, 'import os'],
    [/^import torch\b/m, 'import torch'],
    [/^from dataclasses import .*\basdict\b/m, 'from dataclasses import asdict'],
    [/^config\s*=/m, 'a top-level `config = ...`'],
    [/^\s*model\s*=/m, 'a `model = ...`'],
  ];
  const missing = needs.filter(([re]) => !re.test(train)).map(([, w]) => w);
  if (missing.length)
    return fail(
      `train.py lacks ${missing.join(', ')}; the checkpoint line needs them (add the save by hand, see the README)`,
    );
  const calls = lines
    .map((l, i) => (/\bevaluate_bpb\s*\(/.test(l) && !/^\s*(?:#|def\b)/.test(l) ? i : -1))
    .filter((i) => i >= 0);
  if (calls.length !== 1) {
    return fail(
      `train.py has ${calls.length} calls of evaluate_bpb(...); expected exactly one (its final evaluation) to put the checkpoint line before it`,
    );
  }
  const topLevel = (l: string) => /^\S/.test(l) && !/^#/.test(l);
  let stmt = calls[0]!;
  while (stmt > 0 && !topLevel(lines[stmt]!)) stmt--;
  if (!topLevel(lines[stmt]!) || /^(?:def|class|async|if\s+__name__)\b/.test(lines[stmt]!)) {
    return fail(
      'train.py evaluates inside a function or a main guard; add the checkpoint line by hand, right after training',
    );
  }
  if (!lines.slice(0, stmt).some((l) => /^(?:while|for)\b/.test(l)))
    return fail('train.py has no top-level training loop before its evaluation; add the checkpoint line by hand');
  let at = stmt;
  while (at > 0 && (/^#/.test(lines[at - 1]!) || /^\w+\.eval\(\)\s*(?:#.*)?$/.test(lines[at - 1]!))) at--;
  return [...lines.slice(0, at), CHECKPOINT_LINE, ...lines.slice(at)].join('\n');
}

/** Sets [run].evaluate and adds evaluate.py to [files].protected, keeping the file's comments. */
export function editConfig(cfg: string, command: string): string | GuardOutcome {
  const lines = cfg.split('\n');
  const section = (name: string): [number, number] | null => {
    const start = lines.findIndex((l) => l.trim() === `[${name}]`);
    if (start < 0) return null;
    let end = start + 1;
    while (end < lines.length && !/^\s*\[/.test(lines[end]!)) end++;
    return [start, end];
  };
  const quoted = JSON.stringify(command);
  const run = section('run');
  if (!run) return fail(`${CONFIG_FILE} has no [run] section`);
  const ev = lines.slice(run[0], run[1]).findIndex((l) => /^\s*evaluate\s*=/.test(l));
  const evLine = `evaluate = ${quoted}       # protected evaluation (autoresearch init --guard): the objective comes from its output`;
  if (ev >= 0) {
    if (!/^\s*evaluate\s*=\s*"[^"]*"/.test(lines[run[0] + ev]!) || !lines[run[0] + ev]!.includes(quoted))
      lines[run[0] + ev] = evLine;
  } else {
    const cmd = lines.slice(run[0], run[1]).findIndex((l) => /^\s*command\s*=/.test(l));
    lines.splice(cmd >= 0 ? run[0] + cmd + 1 : run[0] + 1, 0, evLine);
  }
  const files = section('files');
  if (!files) return fail(`${CONFIG_FILE} has no [files] section`);
  const pi = lines.slice(files[0], files[1]).findIndex((l) => /^\s*protected\s*=/.test(l));
  if (pi < 0) lines.splice(files[0] + 1, 0, `protected = ["${EVALUATE_FILE}"]`);
  else {
    const line = lines[files[0] + pi]!;
    const m = /^(\s*protected\s*=\s*)(\[[^\]]*\])(.*)$/.exec(line);
    if (!m) return fail(`${CONFIG_FILE}: [files].protected spans several lines; add "${EVALUATE_FILE}" to it by hand`);
    const list = (parse(`x = ${m[2]}`) as { x: string[] }).x;
    if (!list.includes(EVALUATE_FILE))
      lines[files[0] + pi] = `${m[1]}${stringify({ x: [...list, EVALUATE_FILE] })
        .replace(/^x = /, '')
        .trim()}${m[3]}`;
  }
  const out = lines.join('\n');
  try {
    const t = parse(out) as { run?: { evaluate?: unknown }; files?: { protected?: unknown } };
    if (
      t.run?.evaluate !== command ||
      !Array.isArray(t.files?.protected) ||
      !t.files.protected.includes(EVALUATE_FILE)
    ) {
      return fail(
        `could not edit ${CONFIG_FILE} safely; set [run] evaluate = ${quoted} and add "${EVALUATE_FILE}" to [files].protected by hand`,
      );
    }
  } catch (err) {
    return fail(`${CONFIG_FILE} is not valid TOML (${(err as Error).message.split('\n')[0]})`);
  }
  return out;
}
