// Builds the console into <repo>/build/console (served by sluice at /console/).
// SLUICE_CONSOLE_OUT points elsewhere for other build dirs (CMake sets it).
import { defineConfig } from 'vite';
import path from 'node:path';

const outDir = process.env.SLUICE_CONSOLE_OUT || path.resolve(__dirname, '..', 'build', 'console');

export default defineConfig({
  base: '/console/',
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
