// The build's file steps, without dependencies: `clean` empties dist/, `copy` puts
// the static files (index.html, CSS, icons) beside the compiled modules.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const step = process.argv[2];

if (step === "clean") {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
} else if (step === "copy") {
  cpSync(join(root, "static"), dist, { recursive: true });
} else {
  console.error("usage: node scripts/dist.mjs clean|copy");
  process.exit(2);
}
