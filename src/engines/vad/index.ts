import { EnergyVad, type Vad, type VadOptions } from '../../audio/vad.ts';
import { EngineUnavailableError } from '../../core/errors.ts';

export type VadId = 'silero' | 'energy' | 'auto';

/** A fresh VAD for one stream. `auto` (default, or env STCTS_VAD): Silero, else the energy VAD. */
export async function createVad(id: VadId = (process.env.STCTS_VAD as VadId | undefined) ?? 'auto', options: Partial<VadOptions> = {}): Promise<Vad> {
  if (id === 'energy') return new EnergyVad(options);
  try {
    const { SileroVad } = await import('./silero.ts');
    return await SileroVad.create(options);
  } catch (err) {
    if (id === 'silero' || !(err instanceof EngineUnavailableError)) throw err;
    return new EnergyVad(options);
  }
}
