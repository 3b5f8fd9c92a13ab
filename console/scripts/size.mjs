// Prints the gzipped size of the JavaScript and CSS that index.html loads on
// first visit, and fails above the budget (60 KB of JavaScript gzipped, issue 22).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const BUDGET = 60 * 1024;
const dir = process.argv[2] || process.env.SLUICE_CONSOLE_OUT;
if (!dir) {
  console.error('usage: node scripts/size.mjs <built console dir>');
  process.exit(2);
}
const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
// Everything index.html references (script, modulepreload, stylesheet).
const refs = [...html.matchAll(/(?:src|href)="\/console\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let js = 0, css = 0;
for (const r of refs) {
  const gz = zlib.gzipSync(fs.readFileSync(path.join(dir, r)), { level: 9 }).length;
  if (r.endsWith('.js')) js += gz;
  else css += gz;
}
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`console first load: ${kb(js)} JavaScript + ${kb(css)} CSS gzipped (budget ${kb(BUDGET)} of JavaScript)`);
if (js > BUDGET) {
  console.error(`console: the first-load JavaScript (${kb(js)} gzipped) is over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
