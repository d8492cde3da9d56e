/**
 * Where the page's files are: src/dashboard/assets next to this module (run from source), or the
 * same folder in the package when run from dist/. uPlot is served from its npm package: nothing
 * is fetched from the network at run time.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function assetsDir(): string {
  const candidates = [join(here, 'assets'), join(here, '..', '..', 'src', 'dashboard', 'assets')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard assets not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** uPlot's browser build and stylesheet, from node_modules. */
export function uplotFiles(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return { js: join(dist, 'uPlot.iife.min.js'), css: join(dist, 'uPlot.min.css') };
}
