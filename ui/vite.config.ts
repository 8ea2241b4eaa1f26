import { defineConfig } from "vite";

// Tauri loads dist/ from disk: relative asset URLs, nothing fetched from the network.
export default defineConfig({
  base: "./",
  clearScreen: false,
  // The catalogue (../locales) sits beside ui/, shared with the dashboard and the Rust side.
  server: { port: 1420, strictPort: true, fs: { allow: [".."] } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    // One bundle is fine for a desktop app; CodeMirror alone is past the default warning.
    chunkSizeWarningLimit: 1500,
  },
});
