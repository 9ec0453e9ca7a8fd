/** Speaker profile: the type and its fixed 32-byte wire quantization. */
export type { SpeakerProfile } from './profile.ts';
export { encodeSpeakerProfile, decodeSpeakerProfile, profileHash, SPEAKER_PROFILE_VERSION, SPEAKER_PROFILE_BYTES, SPEAKER_CEPSTRA, SPEAKER_FIELD_STEPS } from './speaker-codec.ts';
