#!/usr/bin/env node
// Builds every N-API addon under native/<name>/ (any folder with a binding.gyp; its optional
// requires.json lists the pkg-config names, headers and Debian packages it needs).
//
// Exits non-zero when any addon fails to build or its system libraries are missing, naming the addon
// and the command that fixes it (issue #19: a silently missing addon made CI skip its tests and pass).
// STCTS_NATIVE_OPTIONAL=1 turns a missing library into a warning (a developer machine without the
// Debian packages still gets node_modules; the engine then reports EngineUnavailableError and its
// tests skip); a build that fails with its libraries present is an error even then.
// Flags: --force rebuilds even when up to date.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// STCTS_NATIVE_DIR: another addons folder (the build script's own test uses one).
const nativeDir = process.env.STCTS_NATIVE_DIR ?? join(root, 'native');
const optional = process.env.STCTS_NATIVE_OPTIONAL === '1';
const force = process.argv.includes('--force');

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

/** What native/<name>/requires.json asks for and is not on this machine. */
function missingRequirements(dir) {
  const reqFile = join(dir, 'requires.json');
  const req = existsSync(reqFile) ? JSON.parse(readFileSync(reqFile, 'utf8')) : {};
  const missing = [
    ...(req.pkgConfig ?? []).filter((p) => spawnSync('pkg-config', ['--exists', p]).status !== 0).map((p) => `pkg-config ${p}`),
    ...(req.headers ?? []).filter((h) => !existsSync(h)),
    ...(req.files ?? []).filter((f) => !existsSync(f)),
  ];
  return { missing, debian: req.debian ?? [] };
}

const fixOf = (debian) => (debian.length ? `apt-get install ${debian.join(' ')} (or bash scripts/setup.sh), then node scripts/build-native.mjs` : 'bash scripts/setup.sh, then node scripts/build-native.mjs');

if (!existsSync(nativeDir)) process.exit(0);
const failures = [];
const warnings = [];
for (const name of readdirSync(nativeDir).sort()) {
  const dir = join(nativeDir, name);
  if (!existsSync(join(dir, 'binding.gyp'))) continue;
  const { missing, debian } = missingRequirements(dir);
  if (missing.length) {
    const msg = `${name}: missing ${missing.join(', ')}; fix: ${fixOf(debian)}`;
    if (optional) {
      warnings.push(msg);
      console.warn(`build-native: skipping ${msg} (STCTS_NATIVE_OPTIONAL=1: its engine will be unavailable)`);
    } else {
      failures.push(msg);
      console.error(`build-native: ERROR ${msg}`);
    }
    continue;
  }
  const out = join(dir, 'build', 'Release');
  const built = existsSync(out) && readdirSync(out).some((f) => f.endsWith('.node'));
  if (built && !force && statSync(out).mtimeMs >= newestMtime(dir)) {
    console.log(`build-native: ${name} up to date`);
    continue;
  }
  console.log(`build-native: building ${name}`);
  const [cmd, ...pre] = nodeGypCommand();
  try {
    execFileSync(cmd, [...pre, 'rebuild', '--nodedir=/usr'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (!readdirSync(out).some((f) => f.endsWith('.node'))) throw new Error('no .node file produced');
  } catch (err) {
    const msg = `${name}: node-gyp rebuild failed in native/${name} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the compiler output is above; fix: ${fixOf(debian)}`;
    failures.push(msg);
    console.error(`build-native: ERROR ${msg}`);
  }
}
if (failures.length) {
  console.error(`build-native: ${failures.length} addon(s) not built:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  console.error('build-native: (STCTS_NATIVE_OPTIONAL=1 lets a machine without the Debian libraries install anyway; the engines are then unavailable)');
  process.exit(1);
}
if (warnings.length) console.warn(`build-native: ${warnings.length} addon(s) skipped (STCTS_NATIVE_OPTIONAL=1)`);
