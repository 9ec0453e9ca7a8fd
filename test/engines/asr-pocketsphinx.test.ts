import { existsSync } from 'node:fs';
import { describe } from 'vitest';
import { createAsrEngine } from '../../src/engines/asr/registry.ts';
import { asrAccuracyConformance, asrStructuralConformance, festivalSpeech, HAVE_TEXT2WAVE } from './asr.conformance.ts';

const HAVE_PS = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin') && existsSync(new URL('../../native/pocketsphinx/build/Release/stcts_pocketsphinx.node', import.meta.url));

describe.skipIf(!HAVE_PS || !HAVE_TEXT2WAVE)('pocketsphinx ASR engine (needs pocketsphinx-en-us, the built addon and festival)', () => {
  let speech: ReturnType<typeof festivalSpeech> | undefined;
  asrStructuralConformance(() => createAsrEngine('pocketsphinx'), () => (speech ??= festivalSpeech('THE SHIP IS READY')));
  asrAccuracyConformance(() => createAsrEngine('pocketsphinx'));
});
