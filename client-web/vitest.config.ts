// Vitest settings: the vite config plus a DOM (happy-dom) for component tests.
// Invariant: unit tests never need a server binary or a browser; e2e/ runs separately.
import { defineConfig, mergeConfig } from "vitest/config";
import viteConfig from "./vite.config";

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      environment: "happy-dom",
      include: ["test/**/*.test.{ts,tsx}"],
      setupFiles: ["test/setup.ts"],
    },
  }),
);
