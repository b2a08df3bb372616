// Vite build and dev-server settings for the browser client.
// Invariant: `npm run build` writes `dist/` with hashed assets under `assets/` (the server marks
// those immutable) and a plain `index.html` (served no-cache), which the Rust server embeds.
/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const target = process.env.STAMPEDE_DEV_SERVER ?? "127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // The room screen (React Flow, uPlot) loads lazily; the entry must stay small.
    chunkSizeWarningLimit: 600,
  },
  // Unit and component tests (vitest): a DOM, no server, no browser; e2e/ runs separately.
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.{ts,tsx}"],
    setupFiles: ["test/setup.ts"],
  },
  server: {
    proxy: {
      "/ws": { target: `ws://${target}`, ws: true },
      "/api": `http://${target}`,
    },
  },
});
