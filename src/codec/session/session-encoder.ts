import { EncodeError, InvalidStateError } from '../../core/errors.ts';
import { type CodecMode, type CodedSpeakerEmbedding, type Frame, type FramePayload, DEFAULT_TIME_UNIT_MS, FORMAT_VERSION } from '../frame/index.ts';
import { PhraseClock } from './phrase-time.ts';
import type { PhraseCodec } from './phrase-codec.ts';

/** Codec generation written into SessionHeader.codec_version. */
/**
 * Bitstream version. 2: prosody level re-anchored on speaker changes, word-duration residuals
 * against letter counts, refitted prosody scales (issue #5); LM-coded phrases carry their start
 * in-band (./phrase-time.ts) and default time unit 100 ms.
 */
export const CODEC_VERSION = 2;

export interface SessionEncoderOptions {
  /** uint32 random id of the session. */
  sessionId: number;
  mode: CodecMode;
  /**
   * Unit of frame timestamps, ms. Default 100: phrase starts ±50 ms are inaudible after resynthesis,
   * and a 1-byte time delta then spans 12.7 s instead of 5.1 s (about 1 bit/s less on the dev corpus).
   */
  timeUnitMs: number;
  /** Sample rate of the sender's analysis audio, Hz. Default 16000. */
  sampleRateHz: number;
  /**
   * Profile hashes the receiver is known to hold (it acknowledged them in an earlier session and
   * keeps them: issue #16 item 5). Such a speaker is announced by a SpeakerRef (its hash) instead of
   * the full profile, so a known speaker's profile never crosses the link twice. Default: none.
   */
  knownProfileHashes?: { has(hash: number): boolean };
}

export const DEFAULT_SESSION_ENCODER_OPTIONS: Readonly<Omit<SessionEncoderOptions, 'sessionId'>> = Object.freeze({
  mode: 'balanced',
  timeUnitMs: 100,
  sampleRateHz: 16_000,
});

/** One phrase to send: its start (ms since session start), text, and optional prosody. */
export interface PhraseInput<P> {
  startMs: number;
  text: string;
  /** Phrase-level prosody, coded inside the TextSegment (reliable). */
  prosody?: P;
  /** Word-level prosody detail bytes for a separate ProsodyPhrase frame (best effort). */
  prosodyDetail?: Uint8Array;
}

/** Information content per channel of a frame's payload, bits (for the bitrate split). */
export type ChannelBits = Record<string, number>;

/** A frame and how its payload bits divide among channels (text, prosody, speaker, control). */
export interface AccountedFrame {
  frame: Frame;
  channelBits: ChannelBits;
}

/**
 * Turns phrases and speaker profiles into frames of one session. Pure: no I/O; the caller writes
 * the frames (FrameStreamWriter for files, the link layer for sockets).
 */
export class SessionEncoder<P> {
  readonly options: Readonly<SessionEncoderOptions>;
  private seq = 0;
  private started = false;
  private ended = false;
  private readonly speakerIds = new Map<number, number>();
  private currentSpeakerHash: number | undefined;
  private lastTime = 0;
  private readonly clock = new PhraseClock();

  constructor(
    private readonly codec: PhraseCodec<P>,
    options: Partial<SessionEncoderOptions> & { sessionId: number },
  ) {
    this.options = Object.freeze({ ...DEFAULT_SESSION_ENCODER_OPTIONS, ...options });
  }

  private frame(time: number, payload: FramePayload): Frame {
    return { version: FORMAT_VERSION, sessionId: this.options.sessionId, seq: this.seq++, time, payload };
  }

  private ensureOpen(): void {
    if (this.ended) throw new InvalidStateError('SessionEncoder used after end()');
    if (!this.started) throw new InvalidStateError('call start() before sending phrases');
  }

  /** The SessionHeader frame; call once, first. */
  start(): AccountedFrame {
    if (this.started) throw new InvalidStateError('start() called twice');
    this.started = true;
    const f = this.frame(0, {
      type: 'sessionHeader',
      codecVersion: CODEC_VERSION,
      mode: this.options.mode,
      textModelId: this.codec.textModelId,
      textModelHash: this.codec.textModelHash,
      sampleRateHz: this.options.sampleRateHz,
      timeUnitMs: this.options.timeUnitMs,
    });
    return { frame: f, channelBits: { control: 0 } };
  }

  /**
   * Declares the current speaker. The first time a profile is seen it is sent in full (≤ 32 bytes);
   * later, and after a change back, only a SpeakerRef. Returns undefined when nothing changed.
   * `embedding` (issue #9, ≤ 64 bytes) rides in the same frame; `profileHash` must cover it
   * (src/codec/speaker speakerContentHash).
   */
  speaker(profile: Uint8Array, profileHash: number, atMs: number, embedding?: CodedSpeakerEmbedding): AccountedFrame | undefined {
    this.ensureOpen();
    if (profileHash === this.currentSpeakerHash) return undefined;
    this.currentSpeakerHash = profileHash;
    const time = this.timeOf(atMs);
    this.codec.speakerChanged?.(profile);
    const known = this.speakerIds.get(profileHash);
    if (known !== undefined) {
      return { frame: this.frame(time, { type: 'speakerRef', id: known, profileHash }), channelBits: { speaker: 0 } };
    }
    const id = this.speakerIds.size + 1;
    this.speakerIds.set(profileHash, id);
    if (this.options.knownProfileHashes?.has(profileHash >>> 0)) {
      return { frame: this.frame(time, { type: 'speakerRef', id, profileHash }), channelBits: { speaker: 0 } };
    }
    return {
      frame: this.frame(time, { type: 'speakerProfile', id, profile, ...(embedding ? { embedding } : {}) }),
      channelBits: { speaker: (profile.length + (embedding?.coded.length ?? 0)) * 8 },
    };
  }

  private timeOf(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new EncodeError('invalid_value', `time must be ≥ 0 ms, got ${ms}`);
    // Phrases never go back in time on the wire (keeps implied timestamps monotonic).
    const t = Math.max(this.lastTime, Math.round(ms / this.options.timeUnitMs));
    this.lastTime = t;
    this.clock.sawFrame(t); // speaker and End frames: reliable, so both sides see them
    return t;
  }

  /** Frames for one phrase: optionally a ProsodyPhrase (word-level detail), then the TextSegment (text + phrase prosody). */
  phrase(input: PhraseInput<P>): AccountedFrame[] {
    this.ensureOpen();
    let time: number;
    let encoded: { coded: Uint8Array; bitsByChannel: Record<string, number> };
    if (this.codec.inbandTime) {
      // The start travels in-band as a gap to the predicted start; the envelope time stays implied.
      if (!Number.isFinite(input.startMs) || input.startMs < 0) throw new EncodeError('invalid_value', `time must be ≥ 0 ms, got ${input.startMs}`);
      const startUnits = Math.round(input.startMs / this.options.timeUnitMs);
      time = this.lastTime;
      encoded = this.codec.encode(input.text, input.prosody, startUnits - this.clock.predictedUnits);
      this.clock.phrase(startUnits, (this.codec.expectedDurationMs?.(input.text, input.prosody) ?? 0) / this.options.timeUnitMs);
    } else {
      time = this.timeOf(input.startMs);
      encoded = this.codec.encode(input.text, input.prosody);
    }
    const { coded, bitsByChannel } = encoded;
    this.codec.commit(input.text);
    const out: AccountedFrame[] = [];
    // Detail first: the receiver then has it when the text arrives and renders without waiting.
    if (input.prosodyDetail && input.prosodyDetail.length > 0) {
      out.push({
        frame: this.frame(time, { type: 'prosody', coded: input.prosodyDetail }),
        channelBits: { prosody: input.prosodyDetail.length * 8 },
      });
    }
    const textFrame = this.frame(time, { type: 'text', coding: this.codec.coding, coded });
    out.push({ frame: textFrame, channelBits: splitBits(coded.length * 8, bitsByChannel) });
    return out;
  }

  /** The End frame. Idempotent in effect: a second call throws. */
  end(atMs: number): AccountedFrame {
    this.ensureOpen();
    const f = this.frame(this.timeOf(atMs), { type: 'end', reason: 'normal' });
    this.ended = true;
    return { frame: f, channelBits: { control: 0 } };
  }
}

/**
 * Splits the whole bytes of a coded payload among channels in proportion to their information
 * content (the range coder's accounting), so the parts add up to exactly what is on the wire.
 */
export function splitBits(totalBits: number, info: Record<string, number>): ChannelBits {
  const entries = Object.entries(info).filter(([, v]) => v > 0);
  const sum = entries.reduce((s, [, v]) => s + v, 0);
  if (sum === 0) return { text: totalBits };
  const out: ChannelBits = {};
  let assigned = 0;
  entries.forEach(([k, v], i) => {
    const share = i === entries.length - 1 ? totalBits - assigned : Math.round((totalBits * v) / sum);
    out[k] = share;
    assigned += share;
  });
  return out;
}
