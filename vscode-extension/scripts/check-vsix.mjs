// Checks that a .vsix holds exactly what the extension needs: the bundle, the trainlint wheel,
// the manifest, README and LICENSE; no node_modules, sources, tests or source maps; and is small.
//   node scripts/check-vsix.mjs trainlint-0.1.0.vsix
import { readFileSync, statSync } from "fs";
import { inflateRawSync } from "zlib";

const MAX_BYTES = 2 * 1024 * 1024;

/** The entries of a zip file, read from its central directory. */
export function zipEntries(buffer) {
    let eocd = -1;
    for (let i = buffer.length - 22; i >= Math.max(0, buffer.length - 22 - 65535); i--) {
        if (buffer.readUInt32LE(i) === 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
    const count = buffer.readUInt16LE(eocd + 10);
    let offset = buffer.readUInt32LE(eocd + 16);
    const entries = [];
    for (let n = 0; n < count; n++) {
        if (buffer.readUInt32LE(offset) !== 0x02014b50) throw new Error("corrupt central directory");
        const method = buffer.readUInt16LE(offset + 10);
        const compressedSize = buffer.readUInt32LE(offset + 20);
        const size = buffer.readUInt32LE(offset + 24);
        const nameLength = buffer.readUInt16LE(offset + 28);
        const extraLength = buffer.readUInt16LE(offset + 30);
        const commentLength = buffer.readUInt16LE(offset + 32);
        const localHeader = buffer.readUInt32LE(offset + 42);
        const name = buffer.toString("utf8", offset + 46, offset + 46 + nameLength);
        entries.push({ name, size, method, compressedSize, localHeader });
        offset += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}

function read(buffer, entry) {
    const start = entry.localHeader + 30 + buffer.readUInt16LE(entry.localHeader + 26) + buffer.readUInt16LE(entry.localHeader + 28);
    const data = buffer.subarray(start, start + entry.compressedSize);
    return entry.method === 0 ? data : inflateRawSync(data);
}

const file = process.argv[2];
if (!file) {
    console.error("usage: check-vsix.mjs FILE.vsix");
    process.exit(2);
}
const buffer = readFileSync(file);
const entries = zipEntries(buffer);
const names = entries.map((e) => e.name);

const required = [
    /^\[Content_Types\]\.xml$/,
    /^extension\.vsixmanifest$/,
    /^extension\/package\.json$/,
    /^extension\/readme\.md$/i,
    /^extension\/LICENSE(\.txt)?$/i,
    /^extension\/out\/extension\.js$/,
    /^extension\/bundled\/trainlint-[0-9][^/]*-py3-none-any\.whl$/,
];
const problems = [];
for (const pattern of required) {
    if (!names.some((n) => pattern.test(n))) problems.push(`missing: ${pattern}`);
}
for (const name of names) {
    if (!required.some((pattern) => pattern.test(name))) problems.push(`unexpected: ${name}`);
}
const size = statSync(file).size;
if (size > MAX_BYTES) problems.push(`too big: ${size} bytes > ${MAX_BYTES}`);

const pkg = JSON.parse(read(buffer, entries.find((e) => e.name === "extension/package.json")).toString("utf8"));
if (pkg.main !== "./out/extension.js") problems.push(`package.json main is ${pkg.main}`);
if (pkg.publisher !== "trainlint") problems.push(`publisher is ${pkg.publisher}`);
const bundle = read(buffer, entries.find((e) => e.name === "extension/out/extension.js")).toString("utf8");
if (/require\(["']vscode-languageclient/.test(bundle)) problems.push("out/extension.js requires vscode-languageclient at run time: not bundled");

for (const e of entries) console.log(`${String(e.size).padStart(9)}  ${e.name}`);
console.log(`${String(size).padStart(9)}  ${file} (${(size / 1024).toFixed(0)} KiB, ${entries.length} entries)`);
if (problems.length) {
    for (const p of problems) console.error(`vsix check: ${p}`);
    process.exit(1);
}
console.log("vsix check: ok");
