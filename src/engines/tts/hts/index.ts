export { HtsTtsEngine, SLT_VOICE_PATH, retime } from './hts-engine.ts';
export { FestivalFrontEnd, MAX_FRONTEND_CHARS, type HtsLabel, type FrontEndResult } from './festival.ts';
