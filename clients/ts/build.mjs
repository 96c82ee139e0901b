// Builds dist/index.js, one ES module with the SDK's dependencies left as
// imports (the app's bundler resolves them once); `tsc -p
// tsconfig.build.json` writes the .d.ts files beside it.
import * as esbuild from "esbuild";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
await esbuild.build({
  entryPoints: ["src/index.ts"],
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: ["es2022"],
  outfile: "dist/index.js",
  external: ["@bufbuild/protobuf", "@bufbuild/protobuf/*", "@connectrpc/connect", "@connectrpc/connect-web"],
  legalComments: "none",
  tsconfigRaw: {},
  logLevel: "warning",
});
