// Vite build of the editor into dist/, which apps/server serves at `/`. The dev server
// proxies /api and /healthz to a local flowsafe server so `pnpm dev` works against it.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      '/api': process.env.FLOWSAFE_API ?? 'http://127.0.0.1:8080',
      '/healthz': process.env.FLOWSAFE_API ?? 'http://127.0.0.1:8080',
    },
  },
});
