/** Speaker profile: the type and its wire quantizations (32 bytes; compact 12 bytes, issue #17); neural embeddings (≤ 64 bytes). */
export type { SpeakerProfile } from './profile.ts';
export { encodeSpeakerProfile, decodeSpeakerProfile, profileHash, SPEAKER_PROFILE_VERSION, SPEAKER_PROFILE_BYTES, SPEAKER_CEPSTRA, SPEAKER_FIELD_STEPS } from './speaker-codec.ts';
export { quantizeEmbedding, dequantizeEmbedding, embeddingLayout, EMBEDDING_MAX_BYTES, EMBEDDING_MAX_DIM, EMBEDDING_ROTATION_SEED } from './embedding.ts';
export { encoderHashOf, speakerContentBytes, speakerContentHash } from './content.ts';
export { encodeCompactSpeakerProfile, COMPACT_PROFILE_BYTES, COMPACT_PROFILE_VERSION } from './compact-profile.ts';
