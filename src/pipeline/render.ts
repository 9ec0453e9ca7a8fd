import { decodeProsodyDetail, renderProsody, splitWords, type PhraseProsody } from '../codec/prosody/index.ts';
import { decodeSpeakerProfile, type SpeakerProfile } from '../codec/speaker/index.ts';
import { DecodeError } from '../core/errors.ts';
import type { TtsEngine, TtsRequest, TimbreControls } from '../engines/tts/types.ts';
import type { PhraseRenderer } from './receiver.ts';
import type { MonoAudio } from '../audio/pcm.ts';
import { matchCepstralMean } from '../engines/tts/envelope.ts';

/**
 * Receiver post-processing at 16 kHz: the speaker's long-term spectral envelope (the profile's mean
 * mel-cepstrum) imposed on the synthesized phrase. Identity without a profile or when disabled.
 */
export function timbrePostProcess(options: RenderOptions): (audio16k: MonoAudio, profileBytes: Uint8Array | undefined) => MonoAudio {
  return (audio, profileBytes) => {
    if (!options.useSpeaker || !profileBytes) return audio;
    try {
      return matchCepstralMean(audio, decodeSpeakerProfile(profileBytes).melCepstrumMean);
    } catch (err) {
      if (err instanceof DecodeError) return audio;
      throw err;
    }
  };
}

export interface RenderOptions {
  useProsody: boolean;
  useSpeaker: boolean;
}

/** Average adult female formant scale relative to male (the slt voice's own). */
const VOICE_FORMANT_SCALE = 1.17;
/**
 * All-pass change per unit of log formant scale. A larger alpha warps the spectrum towards lower
 * frequencies (longer vocal tract), so a speaker with smaller formantScale than the voice gets a
 * larger alpha. Kept small: HTS speech degrades quickly when alpha moves far from the voice's own.
 */
const ALPHA_PER_LOG_SCALE = 0.35;

/** Timbre controls that move the voice towards a speaker profile. */
export function timbreFor(profile: SpeakerProfile, defaultAlpha: number): TimbreControls {
  const scale = Math.max(0.8, Math.min(1.4, profile.formantScale || 1));
  const alpha = defaultAlpha - ALPHA_PER_LOG_SCALE * Math.log(scale / VOICE_FORMANT_SCALE);
  return { allpassAlpha: Math.max(defaultAlpha - 0.08, Math.min(defaultAlpha + 0.08, alpha)) };
}

/** Builds TTS requests from decoded phrases: text, plus transmitted prosody and timbre when enabled. */
export function phraseRenderer(tts: TtsEngine, options: RenderOptions): PhraseRenderer<unknown> {
  const defaultAlpha = (tts as { defaultAlpha?: number }).defaultAlpha ?? 0.42;
  return (phrase, profileBytes, detailBytes): TtsRequest => {
    const req: TtsRequest = { text: phrase.text };
    let profile: SpeakerProfile | undefined;
    if (options.useSpeaker && profileBytes) {
      try {
        profile = decodeSpeakerProfile(profileBytes);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
      }
    }
    if (profile) {
      req.timbre = timbreFor(profile, defaultAlpha);
      req.f0MedianHz = profile.medianF0Hz;
      req.f0RangeSemitones = profile.f0RangeSemitones;
    }
    const prosody = phrase.prosody as PhraseProsody | undefined;
    if (options.useProsody && prosody) {
      const words = splitWords(phrase.text);
      let detail;
      if (detailBytes) {
        try {
          detail = decodeProsodyDetail(detailBytes, words.length);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
      }
      const r = renderProsody(prosody, words, detail ? { detail } : {});
      req.f0Hz = r.f0Hz;
      req.f0FrameMs = r.f0FrameMs;
      req.f0TimeBase = r.f0TimeBase;
      if (r.wordDurationsMs) {
        req.wordDurationsMs = r.wordDurationsMs;
        req.pausesAfterMs = r.pausesAfterMs;
      } else {
        req.speechDurationMs = r.spanMs;
      }
    }
    return req;
  };
}
