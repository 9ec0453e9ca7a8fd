/**
 * Push-to-talk control of a radio (issue #15 part 3): the FreeDV link keys the transmitter before
 * a turn's audio and releases it after. `set` resolves once the radio (or its control daemon)
 * confirmed the change; the link then sends TX-delay silence before the modem audio.
 */
export interface Ptt {
  /** `rigctld` or `none`. */
  readonly kind: string;
  /** For logs: where the PTT goes. */
  readonly description: string;
  /** Keys (true) or releases (false) the transmitter; rejects with a TransportError. */
  set(keyed: boolean): Promise<void>;
  /** Reads the transmitter state back from the radio. */
  get(): Promise<boolean>;
  /** Idempotent; releases the transmitter first when it is keyed. */
  close(): Promise<void>;
}

/** No PTT line (VOX, or the audio interface keys the radio itself). */
export class NoPtt implements Ptt {
  readonly kind = 'none';
  readonly description = 'no PTT (VOX)';
  private keyed = false;
  async set(keyed: boolean): Promise<void> {
    this.keyed = keyed;
  }
  async get(): Promise<boolean> {
    return this.keyed;
  }
  async close(): Promise<void> {
    this.keyed = false;
  }
}
