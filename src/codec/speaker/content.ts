import { createHash } from 'node:crypto';
import type { CodedSpeakerEmbedding } from '../frame/types.ts';
import { profileHash } from './speaker-codec.ts';

/**
 * Identifies an embedding space on the wire (SpeakerProfile.encoder_hash): the first 32 bits,
 * big-endian, of the SHA-256 of the encoder's model id (e.g. `wespeaker-resnet34`). uint32.
 */
export function encoderHashOf(modelId: string): number {
  return createHash('sha256').update(modelId, 'utf8').digest().readUInt32BE(0);
}

/**
 * Content hash of what a SpeakerProfile frame announces (the SpeakerRef / receiver-cache key), uint32.
 * Without an embedding it is exactly {@link profileHash} of the profile bytes (streams and caches
 * from before issue #9 keep their keys); with one it also covers the embedding bytes, the encoder
 * hash and the dimension, so a different embedding with the same DSP profile is a different speaker.
 */
export function speakerContentHash(profile: Uint8Array, embedding?: CodedSpeakerEmbedding): number {
  return profileHash(speakerContentBytes(profile, embedding));
}

/**
 * The bytes {@link speakerContentHash} hashes: the profile alone, or profile ‖ embedding ‖
 * encoder hash (4 bytes BE) ‖ dimension (2 bytes BE). Receivers hash these with their injected hash.
 */
export function speakerContentBytes(profile: Uint8Array, embedding?: CodedSpeakerEmbedding): Uint8Array {
  if (!embedding) return profile;
  const all = new Uint8Array(profile.length + embedding.coded.length + 6);
  all.set(profile, 0);
  all.set(embedding.coded, profile.length);
  const view = new DataView(all.buffer, profile.length + embedding.coded.length, 6);
  view.setUint32(0, embedding.encoderHash >>> 0, false);
  view.setUint16(4, embedding.dim & 0xffff, false);
  return all;
}
