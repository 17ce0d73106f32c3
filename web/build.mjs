// Bundles web/src/map.js (with Leaflet) into static/build/map.js, and copies Leaflet's
// stylesheet beside it. Run by scripts/build-web; the output is generated, never edited.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'static', 'build');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'map.js')],
  outfile: join(out, 'map.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(here, 'node_modules', 'leaflet', 'dist', 'leaflet.css'), join(out, 'leaflet.css'));
console.log(`web: built ${out}`);
