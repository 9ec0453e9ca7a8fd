import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-native.mjs', import.meta.url));

/** A native/ folder with one addon `name`: its binding.gyp and requires.json. */
function addonsDir(name: string, gyp: object, requires: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-native-'));
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'binding.gyp'), JSON.stringify(gyp));
  writeFileSync(join(dir, name, 'requires.json'), JSON.stringify(requires));
  return dir;
}

const run = (dir: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [SCRIPT], { env: { ...process.env, STCTS_NATIVE_DIR: dir, ...env }, encoding: 'utf8', timeout: 120_000 });

// Issue #19: a failed addon used to be a warning with exit 0, so setup and CI passed without it.
describe('scripts/build-native.mjs fails loudly', () => {
  it('a missing system library: exit 1 naming the addon and the apt-get fix; a warning only with STCTS_NATIVE_OPTIONAL=1', () => {
    const dir = addonsDir('fakelib', { targets: [{ target_name: 'fakelib', sources: ['x.cc'] }] }, { pkgConfig: ['stcts-no-such-library'], debian: ['libstcts-fake-dev'] });
    const r = run(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ERROR fakelib: missing pkg-config stcts-no-such-library');
    expect(r.stderr).toContain('apt-get install libstcts-fake-dev');
    const optional = run(dir, { STCTS_NATIVE_OPTIONAL: '1' });
    expect(optional.status).toBe(0);
    expect(optional.stderr).toContain('skipping fakelib');
  });

  it('an addon that does not compile: exit 1 naming it, even with STCTS_NATIVE_OPTIONAL=1', () => {
    const dir = addonsDir('broken', { targets: [{ target_name: 'broken', sources: ['missing.cc'] }] }, {});
    for (const env of [{}, { STCTS_NATIVE_OPTIONAL: '1' }] as Array<Record<string, string>>) {
      const r = run(dir, env);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('ERROR broken: node-gyp rebuild failed in native/broken');
    }
  }, 240_000);
});
