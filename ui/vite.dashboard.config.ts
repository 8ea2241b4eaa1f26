import { defineConfig } from "vite";

// The organizer's dashboard (../dashboard): built with the app's toolchain into
// ../dashboard/dist under fixed names, which the server compiles in and serves.
export default defineConfig({
  root: "../dashboard",
  base: "./",
  clearScreen: false,
  server: { fs: { allow: [".."] } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    rollupOptions: {
      output: {
        entryFileNames: "dashboard.js",
        chunkFileNames: "dashboard-[name].js",
        assetFileNames: "dashboard[extname]",
      },
    },
  },
});
