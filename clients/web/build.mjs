// Builds dist/ from src/ and static/: one bundle, no source maps or
// timestamps, so the output is the same on every machine (CI checks it
// is committed up to date).
import * as esbuild from "esbuild";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";

if (!existsSync("../ts/node_modules/@bufbuild/protobuf")) {
  console.error("clients/ts has no node_modules: run `npm ci` in clients/ts first (the SDK's dependencies come from there)");
  process.exit(1);
}

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
cpSync("static", "dist", { recursive: true });
await esbuild.build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome120", "firefox120", "safari17"],
  outfile: "dist/app.js",
  // @skirmish/sdk (../ts) is bundled from its TypeScript source, so the
  // SDK needs no build of its own first (its dependencies come from
  // ../ts/node_modules: npm ci there).
  conditions: ["source"],
  legalComments: "none",
  // tsconfig.json is for type-checking (npm run typecheck); the bundle
  // does not depend on it.
  tsconfigRaw: {},
  logLevel: "warning",
});
