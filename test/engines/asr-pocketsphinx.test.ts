import { describe } from 'vitest';
import { createAsrEngine } from '../../src/engines/asr/registry.ts';
import { asrAccuracyConformance, asrStructuralConformance, festivalSpeech } from './asr.conformance.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL } from '../fixtures/components.ts';


describeWith('pocketsphinx ASR engine', [POCKETSPHINX_MODEL, POCKETSPHINX_ADDON, FESTIVAL], () => {
  let speech: ReturnType<typeof festivalSpeech> | undefined;
  asrStructuralConformance(() => createAsrEngine('pocketsphinx'), () => (speech ??= festivalSpeech('THE SHIP IS READY')));
  asrAccuracyConformance(() => createAsrEngine('pocketsphinx'));
});
