import type { MonoAudio } from '../audio/pcm.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import { PhraseProsodyCoder, encodeProsodyDetail, quantizePhraseProsody, type PhraseProsody } from '../codec/prosody/index.ts';
import { encodeSpeakerProfile, profileHash, type SpeakerProfile } from '../codec/speaker/index.ts';
import type { AsrResult } from '../engines/asr/types.ts';
import { trackF0 } from '../engines/prosody/index.ts';
import { isDifferentSpeaker, SpeakerProfileAccumulator } from '../engines/speaker/index.ts';
import type { PhraseAnalyzer } from './sender.ts';

/** Voiced speech needed before the first profile is announced, ms. */
const MIN_PROFILE_VOICED_MS = 800;
/**
 * Profile distance that counts as a new speaker for a single phrase. One phrase is a noisy
 * estimate (same-speaker phrases reach 1.5 on the dev corpus), and a false change costs 32 bytes.
 */
const SPEAKER_CHANGE_DISTANCE = 2;

/**
 * Sender analysis: phrase prosody (F0 track + ASR word times → quantized phrase values, coded
 * in-band by the shared {@link PhraseProsodyCoder}; word detail for `high`) and the speaker
 * profile (accumulated over the first phrases, then frozen; a new one only when a phrase's voice
 * is clearly different).
 */
export class SenderAnalysis implements PhraseAnalyzer<PhraseProsody> {
  private acc = new SpeakerProfileAccumulator();
  private announced: { profile: SpeakerProfile; bytes: Uint8Array; hash: number } | undefined;

  constructor(readonly prosodyCoder: PhraseProsodyCoder) {}

  analyzePhrase(audio: MonoAudio, result: AsrResult, mode: CodecMode): { prosody?: PhraseProsody; detail?: Uint8Array } {
    const words = result.words.map((w) => ({ word: w.word, startMs: w.startMs - result.startMs, endMs: w.endMs - result.startMs }));
    const track = trackF0(audio);
    const { prosody, detail } = quantizePhraseProsody({ words, f0Hz: track.f0Hz, f0FrameMs: track.frameMs }, mode, this.prosodyCoder.state);
    return { prosody, ...(detail ? { detail: encodeProsodyDetail(detail).coded } : {}) };
  }

  /** Adds a phrase's voice to the profile (or detects a speaker change). Call before {@link analyzePhrase}. */
  updateSpeaker(audio: MonoAudio): void {
    if (this.announced) {
      // Speaker change: this phrase alone against the announced profile.
      const probe = new SpeakerProfileAccumulator();
      probe.add(audio);
      if (probe.voicedMs >= MIN_PROFILE_VOICED_MS && isDifferentSpeaker(this.announced.profile, probe.profile(), SPEAKER_CHANGE_DISTANCE)) {
        this.acc = probe;
        this.announce();
      }
      return;
    }
    this.acc.add(audio);
    if (this.acc.voicedMs >= MIN_PROFILE_VOICED_MS) this.announce();
  }

  private announce(): void {
    const profile = this.acc.profile();
    const bytes = encodeSpeakerProfile(profile);
    this.announced = { profile, bytes, hash: profileHash(bytes) };
  }

  speakerProfile(): { bytes: Uint8Array; hash: number } | undefined {
    return this.announced && { bytes: this.announced.bytes, hash: this.announced.hash };
  }
}
