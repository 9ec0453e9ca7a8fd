import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineUnavailableError, UsageError } from '../../src/core/errors.ts';
import { createAsrEngine, listAsrEngines } from '../../src/engines/asr/registry.ts';

describe('ASR registry', () => {
  it('lists pocketsphinx, the Whisper exports and the short aliases', () => {
    const ids = listAsrEngines().map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['pocketsphinx', 'whisper-tiny.en', 'whisper-base.en', 'whisper-base']));
  });

  it('an alias loads its target: missing weights name the real model id', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'stcts-reg-'));
    const err = await createAsrEngine('whisper-base', { modelDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as EngineUnavailableError).remedy).toBe('stcts models fetch whisper-base.en');
  });

  it('an unknown id is a UsageError', async () => {
    await expect(createAsrEngine('nope')).rejects.toBeInstanceOf(UsageError);
  });
});
