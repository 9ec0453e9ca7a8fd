import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/core/errors.ts';
import { decodeStcFile } from '../../src/pipeline/decode-file.ts';

describe('decodeStcFile', () => {
  it('refuses a file of which no frame decodes, and creates no output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-dec-'));
    const input = join(dir, 'garbage.stc');
    writeFileSync(input, Uint8Array.from({ length: 200 }, (_, i) => (i * 97 + 13) & 255));
    const output = join(dir, 'out.wav');
    const err = await decodeStcFile(input, output, { tts: 'auto', outputRateHz: 16000, useProsody: true, useSpeaker: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect(['truncated', 'malformed', 'too_large', 'unsupported_version']).toContain((err as DecodeError).code);
    expect(existsSync(output)).toBe(false);
  });
});
