import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built by scripts/setup.sh (`npx vite build console`); `foresight serve` serves dist/ under /console/.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
});
