// Builds the dashboard into edge_http/dashboard/static/ (committed, so `make up` needs no Node):
//   cd dashboard && npm ci && npm run build      (or: make dashboard)
// `node build.mjs --out DIR` builds elsewhere (the test that the committed build is current).
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--out");
const out = flag > 0 ? process.argv[flag + 1] : join(here, "..", "edge_http", "dashboard", "static");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "dashboard.js"), join(here, "src", "dashboard.css")],
  outdir: out,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  legalComments: "linked",
  logLevel: "warning",
});
await copyFile(join(here, "index.html"), join(out, "index.html"));
console.log((await readdir(out)).sort().join("\n"));
