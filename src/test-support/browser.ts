/**
 * Test support: a real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and a
 * folder for screenshots (test-artifacts/, ignored by git). A missing browser fails the test
 * with a message saying how to install it; nothing is skipped.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.AUTORESEARCH_TEST_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set AUTORESEARCH_TEST_CHROMIUM`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** test-artifacts/<sub> at the repository root, created. */
export function artifactsDir(sub: string): string {
  const dir = join(fileURLToPath(new URL('../..', import.meta.url)), 'test-artifacts', sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
