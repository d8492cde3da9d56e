/**
 * `autoresearch init [dir] --template custom|tiny`: writes autoresearch.toml (+ program.md and,
 * for workload templates, the training files) into a new or existing git repository.
 *
 * In a directory that is not a repository it creates one and commits the files (the study's
 * baseline needs a commit). In an existing repository it writes the files and commits nothing:
 * the user's branches are never touched.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_FILE, defaultTag } from '../../config/load.js';
import { Git } from '../../workspace/git.js';
import { mustHaveGit, UserError } from '../common.js';
import { renderConfigToml, type InitAnswers } from '../../config/render.js';
import { detectOriginalLayout, onPath } from '../../config/detect.js';
import { guardOriginalLayout } from '../../config/guard.js';
import { TEMPLATES_DIR, templateNames } from '../../templates.js';
import { runTemplatePrepare } from '../template-prepare.js';

interface InitFlags {
  template?: string;
  command?: string;
  metric?: string;
  direction?: string;
  editable?: string;
  protected?: string;
  tag?: string;
  timeout?: string;
  force?: boolean;
  guard?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('set up a workspace: autoresearch.toml, program.md and (for workload templates) the training files')
    .argument('[dir]', 'directory (created if missing; made a git repository if it is not one)', '.')
    .option(
      '-t, --template <name>',
      `template: ${templateNames().join(', ')} (default: custom, or the original autoresearch layout when prepare.py, train.py and program.md are there)`,
    )
    .option('--command <cmd>', 'custom: the command that trains and prints the metric')
    .option('--metric <name>', 'custom: metric name', 'val_bpb')
    .option('--direction <dir>', 'custom: minimize or maximize', 'minimize')
    .option('--editable <files>', 'custom: comma-separated files the proposer may edit')
    .option('--protected <files>', 'custom: comma-separated files that hold the fixed evaluation', '')
    .option('--timeout <s>', 'hard timeout per run in seconds', '600')
    .option('--tag <tag>', 'study tag (default: today, e.g. nov27)')
    .option('--force', 'overwrite an existing autoresearch.toml')
    .option(
      '--guard',
      'original layout: add a protected evaluate step (evaluate.py, one checkpoint line in train.py, [run] evaluate); commits nothing',
    )
    .addHelpText(
      'after',
      `
Examples:
  autoresearch init myproj --template tiny
  autoresearch init . --command "python3 bench.py" --metric ms --editable solver.py --protected bench.py
  autoresearch init myproj --template custom     # asks for what is missing (on a terminal)
  autoresearch init --guard                      # a checkout of the original: evaluate outside train.py`,
    )
    .action(async (dir: string, flags: InitFlags) => {
      await initCommand(dir, flags);
    });
}

async function initCommand(dir: string, flags: InitFlags): Promise<void> {
  const root = resolve(dir);
  mustHaveGit();
  if (flags.guard) {
    const g = guardOriginalLayout(root, { tag: flags.tag });
    if (!g.ok) throw new UserError(g.message);
    process.stdout.write(g.report.map((l) => `${l}\n`).join(''));
    return;
  }
  const template = flags.template ?? 'custom';
  if (!templateNames().includes(template)) {
    throw new UserError(`unknown template "${template}"; available: ${templateNames().join(', ')}`);
  }
  mkdirSync(root, { recursive: true });
  if (existsSync(join(root, CONFIG_FILE)) && !flags.force) {
    throw new UserError(`${join(root, CONFIG_FILE)} already exists; use --force to overwrite it`);
  }
  const git = new Git(root);
  const isRepo = (await git.run(['rev-parse', '--show-toplevel'])).code === 0;

  const written: string[] = [];
  const templateDir = join(TEMPLATES_DIR, template);
  let answers: InitAnswers;
  let prepareCommand: string | undefined;
  const original =
    flags.template === undefined && flags.command === undefined
      ? detectOriginalLayout(root, { tag: flags.tag, ignoreExistingConfig: flags.force === true })
      : { detected: false as const };
  if (original.detected) {
    answers = original.answers;
    process.stdout.write(original.notes.map((n) => `${n}\n`).join(''));
  } else if (template === 'custom') {
    answers = await customAnswers(flags);
  } else {
    const preset = JSON.parse(readFileSync(join(templateDir, 'template.json'), 'utf8')) as Omit<InitAnswers, 'tag'> & {
      prepare?: string;
    };
    prepareCommand = preset.prepare;
    answers = { ...preset, tag: flags.tag ?? defaultTag() };
    if (/^uv run /.test(answers.command) && !onPath('uv', process.env.PATH ?? '')) {
      // the evaluate step follows the training command: both with uv, or both with python3
      const noUv = (cmd: string) => cmd.replace(/^uv run /, 'python3 ');
      answers = {
        ...answers,
        command: noUv(answers.command),
        ...(answers.evaluate ? { evaluate: noUv(answers.evaluate) } : {}),
      };
      process.stdout.write(`uv is not installed: using "${answers.command}" (edit [run].command to change)\n`);
    }
    for (const name of readdirSync(templateDir)) {
      if (
        name === 'template.json' ||
        name === '__pycache__' ||
        name === 'data' ||
        name === 'out' ||
        name.endsWith('.test.ts')
      )
        continue;
      if (existsSync(join(root, name)) && !flags.force)
        throw new UserError(`${join(root, name)} already exists; use --force to overwrite it`);
      cpSync(join(templateDir, name), join(root, name), { recursive: true });
      written.push(name);
    }
  }
  writeFileSync(join(root, CONFIG_FILE), renderConfigToml(answers));
  written.push(CONFIG_FILE);
  if (template === 'custom' && !existsSync(join(root, 'program.md'))) {
    writeFileSync(
      join(root, 'program.md'),
      renderProgram(readFileSync(join(templateDir, 'program.md'), 'utf8'), answers),
    );
    written.push('program.md');
  }

  const out = process.stdout;
  out.write(`wrote ${written.join(', ')} in ${root}\n`);
  if (prepareCommand) {
    // The template's data (untracked; e.g. tiny's data/, linked into every worktree).
    out.write(`preparing the data: ${prepareCommand}\n`);
    const p = runTemplatePrepare(root, prepareCommand);
    out.write(p.output);
    if (!p.ok)
      out.write(`note: "${prepareCommand}" failed; fix the problem above and run it again before "autoresearch run"\n`);
  }
  if (!isRepo) {
    await git.ok(['init', '--quiet']);
    await git.ok(['add', '-A']);
    await git.ok([
      ...(await git.identityArgs()),
      'commit',
      '--quiet',
      '-m',
      `autoresearch init (${original.detected ? 'original layout' : `${template} template`})`,
    ]);
    out.write(
      `created a git repository and committed the files\n\nnext: autoresearch run ${dir === '.' ? '' : dir}\n`.replace(
        / \n/,
        '\n',
      ),
    );
    return;
  }
  const missing = [...answers.editable, ...answers.protected].filter((f) => !existsSync(join(root, f)));
  out.write('\n');
  if (missing.length)
    out.write(`note: ${missing.join(', ')} do(es) not exist yet; create and commit them before running\n`);
  else if (template !== 'custom' && !original.detected)
    out.write(
      `commit the new files first (the baseline is your last commit): git add -A && git commit -m "autoresearch ${template} template"\n`,
    );
  out.write(`next: autoresearch run ${dir === '.' ? '' : dir}\n`.replace(/ \n/, '\n'));
}

async function customAnswers(flags: InitFlags): Promise<InitAnswers> {
  let command = flags.command;
  let editable = flags.editable;
  if ((!command || !editable) && process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      command ||= (await rl.question('command that trains and prints the metric (e.g. "python3 train.py"): ')).trim();
      editable ||= (await rl.question('file(s) the proposer may edit, comma-separated (e.g. train.py): ')).trim();
    } finally {
      rl.close();
    }
  }
  const missing = [!command && '--command', !editable && '--editable'].filter(Boolean);
  if (missing.length)
    throw new UserError(
      `the custom template needs ${missing.join(' and ')} (e.g. --command "python3 train.py" --editable train.py)`,
    );
  if (flags.direction !== 'minimize' && flags.direction !== 'maximize')
    throw new UserError(`--direction must be minimize or maximize, got "${flags.direction}"`);
  const timeout = Number(flags.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UserError(`--timeout expects seconds > 0, got "${flags.timeout}"`);
  return {
    tag: flags.tag ?? defaultTag(),
    command: command!,
    metric: flags.metric ?? 'val_bpb',
    direction: flags.direction,
    editable: splitList(editable!),
    protected: splitList(flags.protected ?? ''),
    timeoutS: timeout,
  };
}

function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function renderProgram(text: string, a: InitAnswers): string {
  const quote = (xs: string[]) => (xs.length ? xs.map((x) => `\`${x}\``).join(', ') : '(none)');
  const vars: Record<string, string> = {
    editable: a.editable.join('`, `'),
    editable_list: quote(a.editable),
    protected_list: quote(a.protected),
    metric: a.metric,
    direction_words: a.direction === 'minimize' ? 'lower is better' : 'higher is better',
    command: a.command,
    timeout_s: String(a.timeoutS),
  };
  return text.replace(/\{\{(\w+)\}\}/g, (m, k: string) => vars[k] ?? m);
}
