#!/usr/bin/env node
// Builds each N-API addon under native/<name>/ whose system libraries are present. A missing
// library is a warning, not a failure: the engine then reports EngineUnavailableError naming the
// Debian package, and the rest of the project still installs and runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');

function nodeGypCommand() {
  // npm ships node-gyp; lifecycle scripts put it on PATH, a plain `node` run may not.
  const candidates = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return [process.execPath, process.env.npm_config_node_gyp];
  for (const c of candidates) if (existsSync(c)) return [process.execPath, c];
  return ['node-gyp'];
}

function newestMtime(dir) {
  let t = 0;
  for (const f of readdirSync(dir)) {
    if (f === 'build') continue;
    const p = join(dir, f);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

if (!existsSync(nativeDir)) process.exit(0);
let failed = 0;
for (const name of readdirSync(nativeDir).sort()) {
  const dir = join(nativeDir, name);
  if (!existsSync(join(dir, 'binding.gyp'))) continue;
  const reqFile = join(dir, 'requires.json');
  const req = existsSync(reqFile) ? JSON.parse(readFileSync(reqFile, 'utf8')) : { pkgConfig: [], debian: [] };
  const ok = (req.pkgConfig ?? []).every((p) => spawnSync('pkg-config', ['--exists', p]).status === 0) && (req.headers ?? []).every((h) => existsSync(h));
  if (!ok) {
    console.warn(`build-native: skipping ${name}: missing ${[...(req.pkgConfig ?? []), ...(req.headers ?? [])].join(' ')} (apt-get install ${(req.debian ?? []).join(' ')})`);
    continue;
  }
  const out = join(dir, 'build', 'Release');
  const built = existsSync(out) && readdirSync(out).some((f) => f.endsWith('.node'));
  if (built && statSync(out).mtimeMs >= newestMtime(dir) && !process.argv.includes('--force')) {
    console.log(`build-native: ${name} up to date`);
    continue;
  }
  console.log(`build-native: building ${name}`);
  const [cmd, ...pre] = nodeGypCommand();
  try {
    execFileSync(cmd, [...pre, 'rebuild', '--nodedir=/usr'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    failed++;
    console.warn(`build-native: ${name} failed to build; its engine will be unavailable`);
  }
}
process.exit(0 * failed);
