import { mulberry32 } from '../prng.ts';

/** Seeded standard normal samples (Box–Muller over Mulberry32): the HF simulator's only randomness. */
export class GaussianSource {
  private readonly uniform: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.uniform = mulberry32(seed);
  }

  /** One N(0, 1) sample. */
  next(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const phi = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  }
}

/** Derives independent sub-seeds from one seed (noise, path 1, path 2…). */
export const subSeed = (seed: number, stream: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
