// Builds the console into <repo>/build/console (served by sluice at /console/).
// SLUICE_CONSOLE_OUT points elsewhere for other build dirs (CMake sets it).
import { defineConfig, Plugin } from 'vite';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const outDir = process.env.SLUICE_CONSOLE_OUT || path.resolve(__dirname, '..', 'build', 'console');

// Pre-compressed copies beside every text asset: <file>.gz (gzip -9) and
// <file>.br (brotli, quality 11, from Node's own zlib — no extra package). The
// server sends the one the browser accepts, with Content-Encoding and Vary;
// compressing once at build time costs nothing per request.
function precompress(): Plugin {
  return {
    name: 'sluice-precompress',
    apply: 'build',
    writeBundle(opts) {
      const dir = opts.dir || outDir;
      const walk = (d: string): string[] =>
        fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
      for (const f of walk(dir)) {
        if (!/\.(js|mjs|css|html|svg|json)$/.test(f)) continue;
        const raw = fs.readFileSync(f);
        if (raw.length < 512) continue;
        fs.writeFileSync(f + '.gz', zlib.gzipSync(raw, { level: 9 }));
        fs.writeFileSync(
          f + '.br',
          zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
        );
      }
    },
  };
}

export default defineConfig({
  base: '/console/',
  plugins: [precompress()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/console/api': process.env.SLUICE_DEV_API || 'http://127.0.0.1:8080' },
  },
});
