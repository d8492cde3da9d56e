/**
 * `autoresearch join STUDY_URL [dir]`: makes a local workspace from a hub study: clones its
 * baseline bundle, checks out the baseline commit, and adds a `[hub]` section to
 * autoresearch.toml (marked skip-worktree, so the tree stays clean and `run` starts as usual).
 */
import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HubClient, parseStudyUrl } from '../../hub/client.js';
import { UserError } from '../common.js';
import { hubToken } from './publish.js';

/** The config text with its `[hub]` table (if any) replaced by one for this study. */
export function withHubSection(toml: string, url: string, study: string): string {
  const lines = toml.split('\n');
  const out: string[] = [];
  let inHub = false;
  for (const line of lines) {
    if (/^\s*\[/.test(line)) inHub = /^\s*\[hub\]\s*(#.*)?$/.test(line);
    if (!inHub) out.push(line);
  }
  const kept = out.join('\n').trimEnd();
  return `${kept}\n\n[hub]\nurl = ${JSON.stringify(url)}\nstudy = ${JSON.stringify(study)}\n`;
}

export function registerJoin(program: Command): void {
  program
    .command('join')
    .description('make a local workspace for a study on a hub (its baseline, config and program.md)')
    .argument('<study-url>', 'the URL `autoresearch publish` printed: http://HUB/studies/<id>')
    .argument('[dir]', 'new workspace directory (default: the study name)')
    .addHelpText(
      'after',
      `
Example:
  AUTORESEARCH_HUB_TOKEN=arh_... autoresearch join http://127.0.0.1:8787/studies/<id> mywork
  autoresearch run mywork`,
    )
    .action(async (studyUrl: string, dirArg: string | undefined) => {
      const where = parseStudyUrl(studyUrl);
      if (!where) throw new UserError(`"${studyUrl}" is not a study URL (expected http://HUB/studies/<id>)`);
      const client = new HubClient({ url: where.base, token: hubToken() });
      const s = await client.study(where.studyId);
      if (s.kind === 'unreachable') throw new UserError(`${s.message}; is the hub running?`);
      if (s.kind === 'refused') throw new UserError(`the hub refused: ${s.message}`);
      const study = s.value as { name: string; baselineCommit: string; config: string };
      const dir = resolve(dirArg ?? study.name.replace(/[^\w.-]+/g, '-'));
      if (existsSync(dir) && readdirSync(dir).length > 0)
        throw new UserError(`${dir} exists and is not empty; pick a new directory`);
      const b = await client.bundle(where.studyId);
      if (b.kind !== 'ok') throw new UserError(`cannot download the study's baseline: ${b.message}`);
      const tmp = mkdtempSync(join(tmpdir(), 'ar-join-'));
      try {
        writeFileSync(join(tmp, 'base.bundle'), b.value);
        const git = (args: string[], cwd = dir) =>
          execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
        try {
          git(['clone', '-q', join(tmp, 'base.bundle'), dir], tmp);
          git(['checkout', '-q', '-B', 'main', study.baselineCommit]);
          git(['remote', 'remove', 'origin']);
        } catch (err) {
          throw new UserError(
            `cannot make the workspace from the bundle: ${(err as { stderr?: string }).stderr ?? err}`,
          );
        }
        const configPath = join(dir, 'autoresearch.toml');
        const current = existsSync(configPath) ? readFileSync(configPath, 'utf8') : study.config;
        writeFileSync(configPath, withHubSection(current, where.base, where.studyId));
        // The [hub] section is this machine's, not the study's: keep it out of `git status`.
        if (git(['ls-files', 'autoresearch.toml'])) git(['update-index', '--skip-worktree', 'autoresearch.toml']);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      process.stdout.write(`joined ${study.name}: ${dir} (baseline ${study.baselineCommit.slice(0, 12)})\n`);
    });
}
