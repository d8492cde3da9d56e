/** Where the shipped templates live (templates/ at the package root), and their names. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'templates');

/** Templates usable by `init`: custom, plus each folder that has a template.json. */
export function templateNames(): string[] {
  const names = existsSync(TEMPLATES_DIR)
    ? readdirSync(TEMPLATES_DIR).filter((n) => n !== 'custom' && existsSync(join(TEMPLATES_DIR, n, 'template.json')))
    : [];
  return ['custom', ...names.sort()];
}
