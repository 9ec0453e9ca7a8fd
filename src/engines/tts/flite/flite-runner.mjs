// One flite synthesis in its own process: flite.wasm has crashed when one process switched voices,
// so each request gets a fresh instance. argv[2] = JSON {wasmPath, outDir, args}; the CLI's stdout
// (-psdur phone end times) is passed through.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const { wasmPath, outDir, args } = JSON.parse(process.argv[2]);
const wasm = await WebAssembly.compile(readFileSync(wasmPath));
const wasi = new WASI({ version: 'preview1', args: ['flite', ...args], env: {}, preopens: { '/out': outDir }, returnOnExit: true });
const instance = await WebAssembly.instantiate(wasm, wasi.getImportObject());
process.exitCode = wasi.start(instance);
