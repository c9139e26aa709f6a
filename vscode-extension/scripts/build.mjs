// Bundles the extension (and, with --tests, the unit tests) with esbuild.
//   node scripts/build.mjs            -> out/extension.js, the only code in the .vsix
//   node scripts/build.mjs --tests    -> also out/test/*.test.js for `node --test out/test/`
import { build } from "esbuild";
import { readdirSync, rmSync } from "fs";
import { dirname, join } from "path";
import { fileURLToPath } from "url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const withTests = process.argv.includes("--tests");

const common = {
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    logLevel: "warning",
    absWorkingDir: root,
};

rmSync(join(root, "out"), { recursive: true, force: true });
await build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "out/extension.js",
    external: ["vscode"],
    minify: true,
    sourcemap: false,
});

if (withTests) {
    const tests = readdirSync(join(root, "test", "unit"))
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => `test/unit/${f}`);
    // The unit tests must not need VS Code: leaving `vscode` unresolved makes an import of it fail loudly.
    await build({ ...common, entryPoints: tests, outdir: "out/test", sourcemap: "inline" });
}
