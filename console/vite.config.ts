// The console is built once with npm and the output committed (console/dist), so that
// serving it needs no Node.js. The service serves dist/ at /staff/.
import vue from "@vitejs/plugin-vue";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
import Components from "unplugin-vue-components/vite";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/staff/",
  // Element Plus on demand (its documented way): each screen imports the components and
  // styles its template uses, so the first screen parses a fraction of the library.
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: "css" })], dts: false })],
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
        // ECharts changes less often than the screens and only the dashboard needs it: a
        // file of its own. Element Plus is split by the screens that use each component.
        manualChunks(id: string) {
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "echarts";
          return undefined;
        },
      },
    },
  },
});
