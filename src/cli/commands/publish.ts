/**
 * `autoresearch publish [dir] --hub URL --tolerance X`: uploads the workspace's HEAD (as a git
 * bundle), its autoresearch.toml and program.md to a hub as a new study and prints its URL.
 * The token comes from AUTORESEARCH_HUB_TOKEN (never a flag: flags show in `ps`).
 */
import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubClient } from '../../hub/client.js';
import { mustLoadConfig, numberFlag, UserError } from '../common.js';

export function hubToken(): string {
  const token = process.env.AUTORESEARCH_HUB_TOKEN?.trim();
  if (!token)
    throw new UserError(
      'set AUTORESEARCH_HUB_TOKEN to your hub token (the hub operator makes one: autoresearch hub token create NAME)',
    );
  return token;
}

function git(cwd: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new UserError(`git ${args[0]} failed in ${cwd}: ${(e.stderr || e.message).trim().split('\n')[0]}`);
  }
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description("publish this workspace's baseline (HEAD), config and program.md as a study on a hub")
    .argument('[dir]', 'workspace', '.')
    .requiredOption('--hub <url>', 'the hub, e.g. http://127.0.0.1:8787')
    .requiredOption(
      '--tolerance <x>',
      "the study's noise (absolute, in metric units): a reproduction within this of a claim verifies it",
      numberFlag('--tolerance'),
    )
    .option('--name <name>', 'study name (default: [study].tag)')
    .option('--json', 'print {id, url} as JSON')
    .addHelpText(
      'after',
      `
Example:
  AUTORESEARCH_HUB_TOKEN=arh_... autoresearch publish . --hub http://127.0.0.1:8787 --tolerance 0.002
  # -> http://127.0.0.1:8787/studies/<id>; others run: autoresearch join <that URL> mydir`,
    )
    .action(async (dir: string, flags: { hub: string; tolerance: number; name?: string; json?: boolean }) => {
      const token = hubToken();
      const config = mustLoadConfig(dir);
      const root = config.root;
      const commit = git(root, ['rev-parse', 'HEAD']);
      if (git(root, ['status', '--porcelain', '--untracked-files=no']))
        process.stderr.write('note: uncommitted changes are not published (the baseline is HEAD)\n');
      const tmp = mkdtempSync(join(tmpdir(), 'ar-publish-'));
      try {
        git(root, ['bundle', 'create', '-q', join(tmp, 'base.bundle'), 'HEAD']);
        const programPath = join(root, 'program.md');
        const client = new HubClient({ url: flags.hub, token });
        const r = await client.publish({
          name: flags.name ?? config.study.tag,
          metric: config.objective.metric,
          direction: config.objective.direction,
          tolerance: flags.tolerance,
          baselineCommit: commit,
          bundle: readFileSync(join(tmp, 'base.bundle')),
          config: readFileSync(config.configPath, 'utf8'),
          program: existsSync(programPath) ? readFileSync(programPath, 'utf8') : '',
        });
        if (r.kind === 'unreachable') throw new UserError(`${r.message}; is the hub running at ${flags.hub}?`);
        if (r.kind === 'refused') throw new UserError(`the hub refused the study: ${r.message}`);
        process.stdout.write(flags.json ? `${JSON.stringify(r.value)}\n` : `${r.value.url}\n`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
}
