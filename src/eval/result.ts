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
  /** senderWer: the sender's recognizer on the original audio; judgeWerOnOriginal: the judge on the original audio (its own floor). */
  asr: { senderWer: number; senderMeanUtteranceWer: number; judgeWerOnOriginal: number };
  /**
   * wer: the judge's transcript of the decoded audio against the reference. The judge is an
   * independent recognizer configuration (src/eval/judge-lm.ts) unless `--score-asr` names another
   * engine; `judge` says which. werSameRecognizer: the sender's own recognizer instance and
   * configuration as the judge (the figure before issue #19; it shares the sender's LM and errors).
   * werVsSender: the judge's transcript against the sender's text.
   */
  roundTrip: { wer: number; werSameRecognizer: number; werVsSender: number; meanUtteranceWer: number; judge: string };
  /**
   * wordDurationCorr / pauseCorr: measured on the decoded audio — the judge's word times in the
   * decoded audio against its word times in the original, over the words found in both (pooled
   * Pearson; src/eval/timing.ts). timingMatchedWords of timingOriginalWords words took part.
   * planWordDurationCorr / planPauseCorr: the sender's word times against the times the TTS reports
   * for its own plan (not measured in audio; the figures reported before issue #19).
   */
  prosody: {
    f0Corr: number;
    f0RmseSemitones: number;
    f0ShapeRmseSemitones: number;
    wordDurationCorr: number;
    pauseCorr: number;
    timingMatchedWords: number;
    timingOriginalWords: number;
    planWordDurationCorr: number;
    planPauseCorr: number;
  };
  speaker: { idAccuracy: number; medianF0ErrorSemitones: number; profileBytes: number };
  speed: { encodeRtf: number; decodeRtf: number; peakRssMb: number };
  /** wer is the judge's (as roundTrip.wer); timing as prosody.wordDurationCorr / pauseCorr, measured the same way. */
  baselines: Array<{ name: string; bps: number; wer: number; werSameRecognizer?: number; wordDurationCorr?: number; pauseCorr?: number; encodeRtf: number; decodeRtf: number; speakerIdAccuracy?: number; skipped?: string }>;
  /** The same pipeline without prosody and speaker rendering (one voice, default intonation). */
  textOnly?: { f0Corr: number; idAccuracy: number; medianF0ErrorSemitones: number; roundTripWer: number; roundTripWerSameRecognizer: number; wordDurationCorr: number; pauseCorr: number };
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
    /** Judge's WER of the decoded audio; and with the sender's own recognizer. */
    roundTripWer: number;
    roundTripWerSameRecognizer: number;
    f0Corr: number;
    identifiedSpeaker?: string;
  }>;
  /** F0 contours of one utterance for the report's plot (10 ms frames, original timeline). */
  f0Example?: { id: string; originalHz: number[]; decodedHz: number[] };
  environment: { node: string; cpus: number; date: string; command: string };
}
