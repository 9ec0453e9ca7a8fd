/**
 * Voice messages for message links (issue #16): a compact container around the session coding
 * (./message-codec.ts; phrase gaps ./message-time.ts), split into parts with (message id, part i
 * of n) (./parts.ts), carried as bytes or as GSM-7-safe SMS text (./alphabet.ts, ./channels.ts).
 * Pure: no I/O, no engines.
 */
export * from './alphabet.ts';
export * from './header.ts';
export * from './message-codec.ts';
export * from './parts.ts';
export * from './channels.ts';
export * from './message-time.ts';
