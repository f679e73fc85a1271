// Builds the web inbox into dist/: one bundle (mqtt included; nothing is fetched from a CDN at run time)
// and one stylesheet, both with content hashes in their names, and index.html pointing at them.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'main.js')],
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  outdir: join(dist, 'assets'),
  entryNames: 'app-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const pick = (ext) => outputs.find((name) => name.endsWith(ext));
cpSync(join(here, 'public'), dist, { recursive: true });
const index = readFileSync(join(here, 'public', 'index.html'), 'utf8')
  .replace('%APP_JS%', `assets/${pick('.js')}`)
  .replace('%APP_CSS%', `assets/${pick('.css')}`);
writeFileSync(join(dist, 'index.html'), index);
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`web/dist: ${outputs.filter((n) => !n.endsWith('.map')).join(', ')} (${Math.round(bytes / 1024)} KiB with maps)`);
