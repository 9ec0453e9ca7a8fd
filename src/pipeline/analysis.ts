import type { MonoAudio } from '../audio/pcm.ts';
import { resample } from '../audio/index.ts';
import type { CodecMode, CodedSpeakerEmbedding } from '../codec/frame/index.ts';
import { PhraseProsodyCoder, encodeProsodyDetail, quantizePhraseProsody, type PhraseProsody } from '../codec/prosody/index.ts';
import { encodeCompactSpeakerProfile, encodeSpeakerProfile, encoderHashOf, quantizeEmbedding, speakerContentHash, type SpeakerProfile } from '../codec/speaker/index.ts';
import { AudioError } from '../core/errors.ts';
import type { AsrResult } from '../engines/asr/types.ts';
import { trackF0, type F0Track } from '../engines/prosody/index.ts';
import { SpeakerProfileAccumulator } from '../engines/speaker/index.ts';
import type { SpeakerEncoder } from '../engines/speaker/neural/types.ts';
import type { PhraseAnalyzer } from './sender.ts';
import { SpeakerTurnDetector, type SpeakerTurnOptions, type TurnDecision } from './speaker-turns.ts';

/** Options of {@link SenderAnalysis}. */
export interface SenderAnalysisOptions {
  /** Voiced speech needed before the first profile is announced (and in a phrase to test it for a speaker change), ms. Default 800. */
  minProfileVoicedMs: number;
  /**
   * DSP profile distance under which two profiles are the same speaker (voice messages match a
   * known profile with it, src/pipeline/message-encode.ts). Default 2: one phrase is a noisy
   * estimate (same-speaker phrases reach 1.5 on the dev corpus). The sender's own speaker turns
   * use the cepstral BIC test instead ({@link turns}).
   */
  dspChangeDistance: number;
  /** Speaker-turn test without a neural encoder (issue #17): BIC penalty weight, minimum frames, speakers remembered. */
  turns: Partial<SpeakerTurnOptions>;
  /**
   * With a neural speaker encoder: cosine distance (1 − cos) between a phrase's embedding and the
   * announced one above which the phrase is a new speaker. Default 0.6, i.e. cosine similarity
   * below 0.4. Whole-utterance scores of ResNet/ECAPA speaker encoders put different speakers
   * around cos 0–0.3 and the same speaker around 0.5–0.8; a single short phrase pulls same-speaker
   * scores down, and a false change costs ≈ 100 bytes while a missed one only keeps the old voice,
   * so the threshold sits at the lower edge of the same-speaker range. Tune per encoder.
   */
  embeddingChangeDistance: number;
  /** Longest audio kept for the first profile's embedding, ms (bounds memory on unvoiced input). Default 30000. */
  maxProfileAudioMs: number;
  /** Speakers remembered for a return (answered with a SpeakerRef instead of a new profile). Default 16. */
  maxRememberedSpeakers: number;
  /**
   * Profile bytes: `full` (32 bytes, version 1: what voice messages carry) or `compact` (12 bytes,
   * version 2, issue #17: what sessions send, see lmSenderPipeline). Default `full`.
   */
  profileLayout: 'full' | 'compact';
}

export const DEFAULT_SENDER_ANALYSIS_OPTIONS: Readonly<SenderAnalysisOptions> = Object.freeze({
  minProfileVoicedMs: 800,
  dspChangeDistance: 2,
  turns: Object.freeze({}),
  embeddingChangeDistance: 0.6,
  maxProfileAudioMs: 30_000,
  maxRememberedSpeakers: 16,
  profileLayout: 'full',
});

/** What the sender announces for one speaker. `hash` covers profile and embedding. */
export interface AnnouncedSpeaker {
  bytes: Uint8Array;
  hash: number;
  /** Quantized neural embedding of the same speech (only with a speaker encoder). */
  embedding?: CodedSpeakerEmbedding;
}

interface Announced extends AnnouncedSpeaker {
  profile: SpeakerProfile;
  /** Unquantized embedding, for change detection. */
  vector?: Float32Array;
}

/** Cosine distance of two unit vectors, 1 − a·b (0 = same direction, 2 = opposite). */
export function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return 1 - dot;
}

/**
 * Sender analysis: phrase prosody (F0 track + ASR word times → quantized phrase values, coded
 * in-band by the shared {@link PhraseProsodyCoder}; word detail for `high`) and the speaker
 * profile (accumulated over the first phrases, then frozen). Speaker turns (issue #17): every
 * later phrase is tested against the current speaker's cepstral model and the other speakers
 * heard ({@link SpeakerTurnDetector}, BIC); a new speaker gets a new profile made from that
 * phrase's speech alone, a return re-announces the earlier profile (a SpeakerRef on the wire).
 * With a neural {@link SpeakerEncoder} (issue #9) the profile also carries
 * the quantized embedding of the same speech, and speaker changes are decided by embedding cosine
 * distance instead of the DSP profile distance; a return to an earlier speaker reuses that
 * speaker's announcement (a SpeakerRef on the wire).
 */
export class SenderAnalysis implements PhraseAnalyzer<PhraseProsody> {
  readonly options: Readonly<SenderAnalysisOptions>;
  private acc = new SpeakerProfileAccumulator();
  private pending: MonoAudio[] = [];
  private pendingSamples = 0;
  private announced: Announced | undefined;
  private readonly known: Announced[] = [];
  private readonly encoderHash: number | undefined;
  private readonly turns: SpeakerTurnDetector<Announced>;
  /** The last phrase's turn decision (for benchmarks and inspection). */
  lastTurn: TurnDecision<AnnouncedSpeaker> | undefined;

  constructor(
    readonly prosodyCoder: PhraseProsodyCoder,
    private readonly speakerEncoder?: SpeakerEncoder,
    options: Partial<SenderAnalysisOptions> = {},
  ) {
    this.options = Object.freeze({ ...DEFAULT_SENDER_ANALYSIS_OPTIONS, ...options });
    this.encoderHash = speakerEncoder && encoderHashOf(speakerEncoder.id);
    this.turns = new SpeakerTurnDetector({ ...this.options.turns, maxSpeakers: this.options.maxRememberedSpeakers });
  }

  // The phrase's F0 track, computed once for the speaker and the prosody analysis (latency, issue #7).
  private lastTrack: { audio: MonoAudio; track: F0Track } | undefined;
  // Work done ahead on a tentative phrase (see prepare()).
  private prepared: { startMs: number; endMs: number; track: F0Track; probe: SpeakerProfileAccumulator | undefined } | undefined;

  private f0Of(audio: MonoAudio, startMs: number | undefined): F0Track {
    if (this.lastTrack?.audio !== audio) this.lastTrack = { audio, track: this.preparedTrack(audio, startMs) ?? trackF0(audio) };
    return this.lastTrack.track;
  }

  /** The prepared segment's track over `audio` (stream time startMs), if the segment covers it. */
  private preparedTrack(audio: MonoAudio, startMs: number | undefined): F0Track | undefined {
    const p = this.covering(audio, startMs);
    if (!p) return undefined;
    const frames = Math.ceil(audio.samples.length / Math.round((p.track.frameMs * audio.sampleRateHz) / 1000));
    const first = Math.round((startMs! - p.startMs) / p.track.frameMs);
    if (first < 0 || first + frames > p.track.f0Hz.length) return undefined;
    const cut = (a: Float32Array) => a.slice(first, first + frames);
    return { frameMs: p.track.frameMs, f0Hz: cut(p.track.f0Hz), periodicity: cut(p.track.periodicity), voicedProb: cut(p.track.voicedProb) };
  }

  private covering(audio: MonoAudio, startMs: number | undefined) {
    const p = this.prepared;
    if (!p || startMs === undefined) return undefined;
    const endMs = startMs + (audio.samples.length * 1000) / audio.sampleRateHz;
    return startMs >= p.startMs && endMs <= p.endMs + 1 ? p : undefined;
  }

  /**
   * Analyses a tentative phrase's audio (16 kHz, stream time `startMs`) ahead of its recognition
   * result — the F0 track and, once a speaker is announced, the speaker-change probe — so that
   * {@link updateSpeaker} and {@link analyzePhrase} of a phrase inside it only slice that work
   * (call it while the recognizer decodes: issue #7, latency). Optional: without it, or for a
   * phrase outside the segment, everything is computed on the phrase itself.
   */
  prepare(audio: MonoAudio, startMs: number): void {
    const track = trackF0(audio);
    let probe: SpeakerProfileAccumulator | undefined;
    if (this.announced && !this.speakerEncoder) {
      probe = new SpeakerProfileAccumulator();
      probe.add(audio, track);
    }
    this.prepared = { startMs, endMs: startMs + (audio.samples.length * 1000) / audio.sampleRateHz, track, probe };
  }

  analyzePhrase(audio: MonoAudio, result: AsrResult, mode: CodecMode): { prosody?: PhraseProsody; detail?: Uint8Array } {
    const words = result.words.map((w) => ({ word: w.word, startMs: w.startMs - result.startMs, endMs: w.endMs - result.startMs }));
    const track = this.f0Of(audio, result.startMs);
    const { prosody, detail } = quantizePhraseProsody({ words, f0Hz: track.f0Hz, f0FrameMs: track.frameMs }, mode, this.prosodyCoder.state);
    return { prosody, ...(detail ? { detail: encodeProsodyDetail(detail).coded } : {}) };
  }

  /**
   * Adds a phrase's voice (stream time `startMs`, if known) to the profile (or detects a speaker
   * change). Call before {@link analyzePhrase}; async because the neural encoder is (resolves at
   * once without one).
   */
  async updateSpeaker(audio: MonoAudio, startMs?: number): Promise<void> {
    const min = this.options.minProfileVoicedMs;
    const f0 = this.f0Of(audio, startMs);
    if (this.announced) {
      // Speaker change: this phrase alone against the announced profile (prepared, if it was).
      let probe = this.covering(audio, startMs)?.probe;
      if (!probe) {
        probe = new SpeakerProfileAccumulator();
        probe.add(audio, f0);
      }
      if (!this.speakerEncoder || !this.announced.vector) {
        const turn = this.turns.classify(probe.turnModel);
        this.lastTurn = turn;
        if (turn.kind === 'same' || turn.kind === 'return') {
          this.turns.accept(turn.speaker, turn.kind === 'return' ? turn.model : probe.turnModel);
          this.announced = turn.speaker;
        } else if (turn.kind === 'new') {
          // The profile from this phrase's speech alone; the turn model may also cover the one before (look-back).
          this.acc = probe;
          this.announced = this.describe(probe.profile(), undefined);
          this.turns.add(this.announced, turn.model);
        }
        return;
      }
      if (probe.voicedMs < min) return;
      const vector = await this.embed([audio]);
      if (!vector || cosineDistance(vector, this.announced.vector) <= this.options.embeddingChangeDistance) return;
      // Someone else: an earlier speaker if one is close enough (cheapest on the wire), else a new one.
      const back = this.closestKnown(vector);
      this.acc = probe;
      this.announced = back ?? this.remember(this.describe(probe.profile(), vector));
      return;
    }
    this.acc.add(audio, f0);
    if (this.speakerEncoder && this.pendingSamples < (this.options.maxProfileAudioMs / 1000) * audio.sampleRateHz) {
      this.pending.push(audio);
      this.pendingSamples += audio.samples.length;
    }
    if (this.acc.voicedMs < min) return;
    const vector = this.speakerEncoder ? await this.embed(this.pending) : undefined;
    this.pending = [];
    this.pendingSamples = 0;
    this.announced = this.remember(this.describe(this.acc.profile(), vector));
    this.turns.add(this.announced, this.acc.turnModel);
  }

  /** The current announcement (undefined until enough speech was heard); same object until a change. */
  speakerProfile(): AnnouncedSpeaker | undefined {
    const a = this.announced;
    return a && { bytes: a.bytes, hash: a.hash, ...(a.embedding ? { embedding: a.embedding } : {}) };
  }

  private describe(profile: SpeakerProfile, vector: Float32Array | undefined): Announced {
    const bytes = this.options.profileLayout === 'compact' ? encodeCompactSpeakerProfile(profile) : encodeSpeakerProfile(profile);
    const embedding: CodedSpeakerEmbedding | undefined = vector && { coded: quantizeEmbedding(vector), dim: vector.length, encoderHash: this.encoderHash! };
    return { profile, bytes, hash: speakerContentHash(bytes, embedding), ...(embedding ? { embedding, vector } : {}) };
  }

  private remember(a: Announced): Announced {
    if (a.vector) {
      this.known.push(a);
      if (this.known.length > this.options.maxRememberedSpeakers) this.known.shift();
    }
    return a;
  }

  private closestKnown(vector: Float32Array): Announced | undefined {
    let best: Announced | undefined;
    let bestD = this.options.embeddingChangeDistance;
    for (const k of this.known) {
      const d = cosineDistance(vector, k.vector!);
      if (d <= bestD) [best, bestD] = [k, d];
    }
    return best;
  }

  /** Embedding of the concatenated audio (16 kHz), or undefined when it is too short for the encoder. */
  private async embed(parts: MonoAudio[]): Promise<Float32Array | undefined> {
    const at16 = parts.map((p) => (p.sampleRateHz === 16000 ? p : resample(p, 16000)));
    const all = new Float32Array(at16.reduce((s, p) => s + p.samples.length, 0));
    let at = 0;
    for (const p of at16) {
      all.set(p.samples, at);
      at += p.samples.length;
    }
    try {
      return await this.speakerEncoder!.embed(all);
    } catch (err) {
      if (err instanceof AudioError && err.code === 'empty') return undefined;
      throw err;
    }
  }
}
