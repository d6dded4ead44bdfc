// The watch floor's production build: dashboards/web -> dashboards/public, which the ops server
// serves (ops-server/http.ts `defaultPublicDir`). Run by `npm ci` (prepare) and before `npm test`.
import { URL, fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  publicDir: false,
  build: {
    outDir: here('../public'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 900,
  },
});
