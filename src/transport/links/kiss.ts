import { DecodeError, InvalidStateError, TransportError, UsageError } from '../../core/errors.ts';
import { decodeAx25Ui, encodeAx25Ui, formatCallsign, parseCallsign, sameStation, AX25_UI_OVERHEAD_BYTES, type Callsign } from './ax25.ts';
import { KISS_MAX_FRAME_BYTES, kissCost } from './cost.ts';
import { openTncConnection, type TncConnection } from './kiss-carrier.ts';
import { encodeKissFrame, encodeKissParameters, KISS_COMMAND, KissStreamDecoder } from './kiss-frame.ts';
import { maxPaddedPayloadBytes, padKissPayload, unpadKissPayload } from './kiss-padding.ts';
import { DEFAULT_KISS_LINK_OPTIONS, formatKissEndpoint, KISS_BROADCAST_DESTINATION, parseKissUrl, type KissEndpoint, type KissLinkOptions } from './kiss-url.ts';
import { chargeIn, chargeOut, newDatagramLinkStats, type DatagramLink, type DatagramLinkStats, type LinkState, type PacketCostModel } from './types.ts';

/**
 * KISS TNC link adapter (issue #14): each datagram is one KISS data frame to a TNC (direwolf's
 * KISSPORT over TCP, or a serial TNC / direwolf's pseudo-terminal), which sends it on the air as one
 * HDLC frame; frames the TNC hears come back the same way.
 *
 * - Raw mode (no callsign): the frame is the datagram, padded to the TNC's 15-byte minimum as
 *   described in kiss-padding.ts. MTU = 2123 − 1 bytes.
 * - Amateur mode (`callsign`): the frame is an AX.25 UI frame from our callsign to the peer's (or to
 *   {@link KISS_BROADCAST_DESTINATION}); frames not addressed to us, from another source than the
 *   peer, or not UI/PID 0xF0 are dropped and counted (`foreign_source`). MTU = 2123 − 16 bytes.
 *   Refusing encryption in amateur mode is the session layer's rule; this adapter only identifies.
 *
 * There is no dialling or listening: both ends attach to their own TNC. The link is `connecting`
 * until the TNC's stream is open (the TNC parameters are then sent), `up` while it stays open, and
 * `down` when it is lost; it then retries by itself (250 ms doubling to 5 s) until {@link close}.
 * Every loss and failed attempt is reported to {@link onError} handlers as a TransportError.
 */

export interface KissLinkStats extends DatagramLinkStats {
  /** Bytes from the TNC outside any KISS frame (line noise, a TNC's banner). */
  garbageBytesIn: number;
  /** Non-data KISS frames from the TNC (ignored). */
  commandFramesIn: number;
  /** Successful attaches to the TNC (1 + reconnections). */
  attaches: number;
  /** Times the TNC's stream was lost or an attach failed. */
  failures: number;
}

export class KissLink implements DatagramLink {
  readonly kind = 'kiss' as const;
  readonly description: string;
  readonly mtu: number;
  readonly cost: PacketCostModel & { readonly options: ReturnType<typeof kissCost>['options'] };
  readonly stats: KissLinkStats = { ...newDatagramLinkStats(), garbageBytesIn: 0, commandFramesIn: 0, attaches: 0, failures: 0 };
  readonly options: Readonly<KissLinkOptions>;
  private _state: LinkState = 'connecting';
  private conn: TncConnection | undefined;
  private readonly decoder = new KissStreamDecoder();
  private readonly parameterFrames: Uint8Array[];
  private readonly self: Callsign | undefined;
  private readonly peer: Callsign | undefined;
  private readonly destination: Callsign | undefined;
  private datagramHandler: (datagram: Uint8Array) => void = () => {};
  private readonly stateHandlers: ((s: LinkState) => void)[] = [];
  private readonly errorHandlers: ((e: TransportError) => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private attempt: Promise<void> | undefined;

  /** Use {@link openKissLink}; the constructor validates and starts the first attach. */
  constructor(
    readonly endpoint: KissEndpoint,
    options: Partial<KissLinkOptions> = {},
  ) {
    const o: KissLinkOptions = { ...DEFAULT_KISS_LINK_OPTIONS, ...options, tnc: { ...DEFAULT_KISS_LINK_OPTIONS.tnc, ...options.tnc } };
    if (!Number.isInteger(o.tncPort) || o.tncPort < 0 || o.tncPort > 15) throw new UsageError(`KISS TNC port must be 0–15, got ${o.tncPort}`);
    if (!(o.modemBaud > 0)) throw new UsageError(`modem baud rate must be > 0, got ${o.modemBaud}`);
    if (!(o.reconnectMinMs > 0) || !(o.reconnectMaxMs >= o.reconnectMinMs)) throw new UsageError('reconnectMinMs must be > 0 and ≤ reconnectMaxMs');
    if (o.peerCallsign !== undefined && o.callsign === undefined) throw new UsageError('a peer callsign needs our own callsign too (--callsign)');
    this.parameterFrames = encodeKissParameters(o.tnc, o.tncPort); // throws UsageError on bad values
    this.self = o.callsign === undefined ? undefined : parseCallsign(o.callsign);
    this.peer = o.peerCallsign === undefined ? undefined : parseCallsign(o.peerCallsign);
    this.destination = this.self && (this.peer ?? parseCallsign(KISS_BROADCAST_DESTINATION));
    this.options = Object.freeze(o);
    const ax25 = this.self !== undefined;
    // Values the TNC will really use: KISS sends 10 ms units.
    const tenMs = (ms: number | undefined, dflt: number) => (ms === undefined ? dflt : Math.round(ms / 10) * 10);
    this.cost = kissCost({ baud: o.modemBaud, txDelayMs: tenMs(o.tnc.txDelayMs, 300), txTailMs: tenMs(o.tnc.txTailMs, 100), ax25 });
    this.mtu = ax25 ? KISS_MAX_FRAME_BYTES - AX25_UI_OVERHEAD_BYTES : maxPaddedPayloadBytes(KISS_MAX_FRAME_BYTES);
    const who = this.self ? ` as ${formatCallsign(this.self)}${this.peer ? ` to ${formatCallsign(this.peer)}` : ''}` : '';
    this.description = `${formatKissEndpoint(endpoint)}${o.tncPort ? ` port ${o.tncPort}` : ''}${who}`;
    this.retryMs = o.reconnectMinMs;
    this.attempt = this.attach();
  }

  get state(): LinkState {
    return this._state;
  }

  /** Settles when the first attach attempt has finished (up, or down and retrying). */
  whenAttempted(): Promise<void> {
    return this.attempt ?? Promise.resolve();
  }

  /** Resolves when the link is up; TransportError `timeout` after `timeoutMs`, `closed` if closed meanwhile. */
  waitUntilUp(timeoutMs: number): Promise<void> {
    if (this._state === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.stateHandlers.splice(this.stateHandlers.indexOf(watch), 1);
      };
      const timer = setTimeout(() => {
        done();
        reject(new TransportError('timeout', `${this.description}: TNC not attached within ${timeoutMs} ms`));
      }, timeoutMs);
      const watch = (s: LinkState): void => {
        if (s === 'up') resolve();
        else if (s === 'closed') reject(new TransportError('closed', `${this.description} closed`));
        else return;
        done();
      };
      this.stateHandlers.push(watch);
    });
  }

  send(datagram: Uint8Array): void {
    if (this._state === 'closed') throw new InvalidStateError(`${this.description} is closed`);
    if (datagram.length > this.mtu) throw new TransportError('too_large', `datagram of ${datagram.length} bytes exceeds the KISS link MTU of ${this.mtu}`, { bytes: datagram.length, mtu: this.mtu });
    const conn = this.conn;
    if (this._state !== 'up' || !conn) {
      this.stats.dropped.not_connected++;
      return;
    }
    const frame = this.self ? encodeAx25Ui(this.destination!, this.self, datagram) : padKissPayload(datagram);
    const bytes = encodeKissFrame({ port: this.options.tncPort, command: KISS_COMMAND.data, data: frame });
    if (conn.pendingBytes + bytes.length > this.options.maxWriteQueueBytes) {
      this.stats.dropped.queue_full++;
      return;
    }
    conn.write(bytes);
    chargeOut(this.stats, this.cost, datagram.length);
  }

  onDatagram(handler: (datagram: Uint8Array) => void): void {
    this.datagramHandler = handler;
  }

  onState(handler: (state: LinkState) => void): void {
    this.stateHandlers.push(handler);
  }

  /** Lifecycle errors (TNC lost, attach failed): typed, never thrown at the caller. */
  onError(handler: (error: TransportError) => void): void {
    this.errorHandlers.push(handler);
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    clearTimeout(this.retryTimer);
    this.conn?.destroy();
    this.conn = undefined;
    this.setState('closed');
  }

  /** A getter, so TypeScript does not narrow the state across awaits. */
  private get closed(): boolean {
    return this._state === 'closed';
  }

  private setState(s: LinkState): void {
    if (s === this._state) return;
    this._state = s;
    for (const h of [...this.stateHandlers]) h(s);
  }

  private fail(error: TransportError): void {
    this.stats.failures++;
    for (const h of [...this.errorHandlers]) h(error);
    if (this._state === 'closed') return;
    this.setState('down');
    this.retryTimer = setTimeout(() => {
      this.attempt = this.attach();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, this.options.reconnectMaxMs);
  }

  private async attach(): Promise<void> {
    if (this._state === 'closed') return;
    this.setState('connecting');
    let conn: TncConnection;
    try {
      conn = await openTncConnection(this.endpoint, { serialBaud: this.options.serialBaud });
    } catch (err) {
      if (!this.closed) this.fail(err instanceof TransportError ? err : new TransportError('refused', `${this.description}: ${(err as Error).message}`, undefined, { cause: err }));
      return;
    }
    if (this.closed) {
      conn.destroy();
      return;
    }
    this.conn = conn;
    this.decoder.reset();
    conn.onData((chunk) => this.receive(chunk));
    conn.onEnd((error) => {
      if (this.conn !== conn) return;
      this.conn = undefined;
      this.fail(error ?? new TransportError('closed', `${this.description}: TNC closed the connection`));
    });
    for (const f of this.parameterFrames) conn.write(f);
    this.stats.controlPacketsOut += this.parameterFrames.length;
    this.stats.attaches++;
    this.retryMs = this.options.reconnectMinMs;
    this.setState('up');
  }

  private receive(chunk: Uint8Array): void {
    const d = this.decoder.stats;
    const before = { garbage: d.garbageBytes, malformed: d.malformed, tooLarge: d.tooLarge };
    const frames = this.decoder.push(chunk);
    this.stats.garbageBytesIn += d.garbageBytes - before.garbage;
    this.stats.dropped.malformed += d.malformed - before.malformed;
    this.stats.dropped.too_large += d.tooLarge - before.tooLarge;
    for (const f of frames) {
      if (f.command !== KISS_COMMAND.data) {
        this.stats.commandFramesIn++;
        continue;
      }
      if (f.port !== this.options.tncPort) {
        this.stats.dropped.foreign_source++;
        continue;
      }
      const payload = this.unwrap(f.data);
      if (payload === undefined || this._state === 'closed') continue;
      chargeIn(this.stats, this.cost, payload.length);
      this.datagramHandler(payload);
    }
  }

  /** The datagram a received frame carries, or undefined (counted) when it is not ours. */
  private unwrap(frame: Uint8Array): Uint8Array | undefined {
    try {
      if (!this.self) return unpadKissPayload(frame);
      const ui = decodeAx25Ui(frame);
      const forUs = sameStation(ui.destination, this.self) || (!this.peer && sameStation(ui.destination, this.destination!));
      if (!forUs || (this.peer && !sameStation(ui.source, this.peer)) || sameStation(ui.source, this.self)) {
        this.stats.dropped.foreign_source++;
        return undefined;
      }
      return ui.info;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      // Other traffic on the channel (connected mode, APRS) is someone else's, not damage.
      if (err.code === 'unsupported_version') this.stats.dropped.foreign_source++;
      else this.stats.dropped.malformed++;
      return undefined;
    }
  }
}

/**
 * Opens a KISS link from a URL (see {@link parseKissUrl}); `options` override the URL's. Resolves
 * after the first attach attempt, up or not: a TNC that is not there yet is retried, never fatal.
 * UsageError for a bad URL or bad options.
 */
export async function openKissLink(url: string, options: Partial<KissLinkOptions> = {}): Promise<KissLink> {
  const parsed = parseKissUrl(url);
  const merged: Partial<KissLinkOptions> = { ...parsed.options, ...options, tnc: { ...parsed.options.tnc, ...options.tnc } };
  const link = new KissLink(parsed.endpoint, merged);
  await link.whenAttempted();
  return link;
}
