// The console is built once with npm and the output committed (console/dist), so that
// serving it needs no Node.js. The service serves dist/ at /staff/.
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/staff/",
  plugins: [vue()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    // Vite's module-preload polyfill would be the only inline script; the strict CSP
    // (script-src 'self') forbids it and every browser we support preloads natively.
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        // The libraries change less often than the screens: separate files cache apart.
        manualChunks(id: string) {
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "echarts";
          if (id.includes("node_modules/element-plus") || id.includes("node_modules/@element-plus")) return "element-plus";
          if (id.includes("node_modules/")) return "vendor";
          return undefined;
        },
      },
    },
  },
});
