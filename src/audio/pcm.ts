/** A block of mono audio at a known rate, samples in [-1, 1]. */
export interface MonoAudio {
  readonly samples: Float32Array;
  readonly sampleRateHz: number;
}

/** 16 kHz mono signed 16-bit PCM: what the recognizer and VAD consume. */
export type Pcm16k = Int16Array;

/** The sample rate of {@link Pcm16k}. */
export const PCM16K_RATE_HZ = 16_000;

export function durationMsOf(audio: MonoAudio): number {
  return (audio.samples.length / audio.sampleRateHz) * 1000;
}
