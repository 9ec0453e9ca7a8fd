import type { Frame } from '../../codec/frame/index.ts';

/** Stream a frame belongs to, for priorities and bit accounting. */
export type StreamClass = 'text' | 'speaker' | 'prosody' | 'control';

export function streamOf(frame: Frame): StreamClass {
  switch (frame.payload.type) {
    case 'text':
      return 'text';
    case 'speakerProfile':
    case 'speakerRef':
      return 'speaker';
    case 'prosody':
      return 'prosody';
    default:
      return 'control';
  }
}

/** Prosody detail is best effort (the phrase prosody inside the text is enough); all else is retransmitted. */
export function isReliable(frame: Frame): boolean {
  return frame.payload.type !== 'prosody' && frame.payload.type !== 'ack';
}

/** Lower sends first: session control and text, then speaker, then prosody. */
export function priorityOf(frame: Frame): number {
  const s = streamOf(frame);
  return s === 'control' || s === 'text' ? 0 : s === 'speaker' ? 1 : 2;
}
