/**
 * The JSON that `stcts eval --json` writes. Field names are stable (documented in the README).
 * Rates are bits per second of source audio; WERs are corpus-level (Σ errors / Σ reference words).
 */
export interface EvalResult {
  utterances: number;
  audioSeconds: number;
  mode: string;
  bitrate: {
    /** Every byte of every frame on the wire (length prefixes, envelopes, header, End) / audio seconds. */
    totalBps: number;
    textBps: number;
    prosodyBps: number;
    speakerBps: number;
    /** Framing, session header, End, and coder rounding: totalBps minus the three payload channels. */
    overheadBps: number;
    /** totalBps without the once-per-session frames (SessionHeader, the first SpeakerProfile, End): what a long call costs per second. */
    sustainedBps: number;
  };
  asr: { senderWer: number; senderMeanUtteranceWer: number };
  roundTrip: { wer: number; werVsSender: number; meanUtteranceWer: number };
  prosody: { f0Corr: number; f0RmseSemitones: number; f0ShapeRmseSemitones: number; wordDurationCorr: number; pauseCorr: number };
  speaker: { idAccuracy: number; medianF0ErrorSemitones: number; profileBytes: number };
  speed: { encodeRtf: number; decodeRtf: number; peakRssMb: number };
  baselines: Array<{ name: string; bps: number; wer: number; encodeRtf: number; decodeRtf: number; speakerIdAccuracy?: number; skipped?: string }>;
  /** The same pipeline without prosody and speaker rendering (one voice, default intonation). */
  textOnly?: { f0Corr: number; idAccuracy: number; medianF0ErrorSemitones: number; roundTripWer: number };
  sweep?: Array<{ mode: string; totalBps: number; sustainedBps: number; prosodyBps: number; f0Corr: number; f0RmseSemitones: number; roundTripWer: number }>;
  perUtterance: Array<{
    id: string;
    speaker: string;
    seconds: number;
    bits: number;
    reference: string;
    senderText: string;
    decodedText: string;
    senderWer: number;
    roundTripWer: number;
    f0Corr: number;
    identifiedSpeaker?: string;
  }>;
  /** F0 contours of one utterance for the report's plot (10 ms frames, original timeline). */
  f0Example?: { id: string; originalHz: number[]; decodedHz: number[] };
  environment: { node: string; cpus: number; date: string; command: string };
}
