import { InvalidStateError, TransportError } from '../../core/errors.ts';
import type { DatagramLink, DatagramLinkStats, LinkKind, LinkState, PacketCostModel } from '../links/types.ts';
import type { AdmissionTicket, HandshakeAdmission } from './admission.ts';
import { AEAD_OVERHEAD_BYTES, AeadPacketOpener, AeadPacketSealer, type AeadOptions, type AeadOpenerStats } from './aead-packet.ts';
import { type EstablishedLink, type HandshakeStep, HS_MSG1, isHandshakeDatagram, LinkHandshakeInitiator, type LinkHandshakeOptions, LinkHandshakeResponder, type LocalIdentity, type PeerCredentials, refusedByPeer } from './link-handshake.ts';

/**
 * The issue-#20 handshake and packet protection over any {@link DatagramLink} (UDP, KISS TNC,
 * FreeDV): itself a DatagramLink whose datagrams are sealed (MTU and cost account for the 10 bytes),
 * `connecting` until the handshake completes, with retransmission of lost handshake messages.
 *
 * Demultiplexing without a type byte on data packets (which would cost an 11th byte): a datagram is
 * first tried as a data packet; only if that fails and it is a handshake message does the handshake
 * see it. A peer that restarts sends a new message 1 and the responder answers while the old keys
 * keep working until the new ones are ready. The initiator starts over when its opener lost sync
 * for good, the sealer is due for fresh keys, or a handshake timed out (after `retryMs`).
 */
export type SecureDatagramRole = { role: 'initiator'; me: LocalIdentity; peer: PeerCredentials } | { role: 'responder'; me: LocalIdentity; peers: readonly PeerCredentials[] };

export interface SecureDatagramOptions {
  handshake: Partial<LinkHandshakeOptions>;
  aead: Partial<AeadOptions>;
  /** Wait before the initiator tries again after a timed-out handshake, ms. Default 5000. */
  retryMs: number;
  /**
   * After the responder refused us (message R: a wrong key), try again after this long, ms
   * (a daemon: the far end's config may be fixed). Default: never (`stcts send` stops with the error).
   */
  refusedRetryMs?: number;
  /**
   * Initiator: while it keeps sending and nothing authenticated has come back for this long, ms, it
   * starts a new handshake (the responder restarted and lost the keys, or the path moved). Default 20000.
   */
  silenceRehandshakeMs: number;
  now: () => number;
  /** Timer functions (tests inject a virtual clock). */
  setTimer: (f: () => void, ms: number) => unknown;
  clearTimer: (t: unknown) => void;
  /**
   * Responder: caps and rate limits before a new handshake is started for a message 1 (issue #20
   * DoS limits); `address()` names the source of the datagram being handled (UDP: its IP address).
   * Refused messages are dropped (counted by the admission). Default: none.
   */
  admission?: { admission: HandshakeAdmission; address: () => string };
}

export interface SecureDatagramEvents {
  /** A handshake completed (also after a re-handshake). */
  established?: (link: EstablishedLink) => void;
  /** A handshake failed (auth_failed: a wrong key or identity; timeout). */
  failed?: (err: TransportError) => void;
  /** Responder: a message 3 was refused (a wrong key or name; message R told its sender), the handshake waits on. */
  refused?: (err: TransportError) => void;
}

export class SecureDatagramLink implements DatagramLink {
  readonly kind: LinkKind;
  readonly mtu: number;
  readonly cost: PacketCostModel;
  private readonly o: SecureDatagramOptions;
  private hs: LinkHandshakeInitiator | LinkHandshakeResponder | undefined;
  private sealer: AeadPacketSealer | undefined;
  private opener: AeadPacketOpener | undefined;
  /** The opener of the keys before a re-handshake, for packets still in flight. */
  private previousOpener: AeadPacketOpener | undefined;
  private current: EstablishedLink | undefined;
  private handler: (d: Uint8Array) => void = () => {};
  private stateHandler: (s: LinkState) => void = () => {};
  private timer: unknown;
  private secState: LinkState = 'connecting';
  private closed = false;
  private ticket: AdmissionTicket | undefined;
  /** When we first sent after the last authenticated packet from the peer (undefined: answered since), ms. */
  private unansweredSinceMs: number | undefined;
  /** Handshakes completed on this link. */
  handshakes = 0;

  constructor(
    private readonly inner: DatagramLink,
    private readonly who: SecureDatagramRole,
    options: Partial<SecureDatagramOptions> = {},
    private readonly events: SecureDatagramEvents = {},
  ) {
    this.o = { handshake: {}, aead: {}, retryMs: 5000, silenceRehandshakeMs: 20_000, now: () => Date.now(), setTimer: (f, ms) => setTimeout(f, ms), clearTimer: (t) => clearTimeout(t as NodeJS.Timeout), ...options };
    // Anyone on a radio channel or a UDP path can inject: a forged message 2/3 must not end a handshake.
    this.o.handshake = { maxBadMessages: 3, ...this.o.handshake };
    this.kind = inner.kind;
    this.mtu = inner.mtu - AEAD_OVERHEAD_BYTES;
    this.cost = {
      packetCost: (n) => inner.cost.packetCost(n + AEAD_OVERHEAD_BYTES),
      halfDuplex: inner.cost.halfDuplex,
      ...(inner.cost.channelBitsPerSecond !== undefined ? { channelBitsPerSecond: inner.cost.channelBitsPerSecond } : {}),
    };
    inner.onDatagram((d) => this.receive(d));
    inner.onState((s) => {
      if (s === 'closed' || s === 'down') this.setState(s);
      else if (s === 'up' && !this.hs && !this.current && who.role === 'initiator') this.startInitiator();
    });
    if (who.role === 'initiator') this.startInitiator();
  }

  get description(): string {
    return `${this.inner.description} (secured${this.current ? ` with ${this.current.remoteName}` : ''})`;
  }

  get state(): LinkState {
    return this.secState;
  }

  get stats(): DatagramLinkStats {
    return this.inner.stats;
  }

  /** The peer, once authenticated. */
  get remote(): EstablishedLink | undefined {
    return this.current;
  }

  /** Rejected and accepted data packets of the current keys. */
  get openerStats(): AeadOpenerStats | undefined {
    return this.opener?.stats;
  }

  send(datagram: Uint8Array): void {
    if (this.closed) throw new InvalidStateError('send after close');
    if (datagram.length > this.mtu) throw new TransportError('too_large', `datagram of ${datagram.length} bytes exceeds the secured MTU ${this.mtu}`);
    if (!this.sealer) {
      this.inner.stats.dropped.not_connected++;
      return;
    }
    if (this.who.role === 'initiator' && !this.hs) {
      if (this.sealer.rehandshakeDue) this.startInitiator();
      else {
        const now = this.o.now();
        this.unansweredSinceMs ??= now;
        if (now - this.unansweredSinceMs > this.o.silenceRehandshakeMs) {
          this.unansweredSinceMs = now; // (one new handshake per silent period)
          this.startInitiator();
        }
      }
    }
    this.inner.send(this.sealer.seal(datagram));
  }

  onDatagram(handler: (datagram: Uint8Array) => void): void {
    this.handler = handler;
  }

  onState(handler: (state: LinkState) => void): void {
    this.stateHandler = handler;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.o.clearTimer(this.timer);
    this.settleTicket('failed');
    this.setState('closed');
    await this.inner.close();
  }

  private receive(d: Uint8Array): void {
    if (this.closed) return;
    if (this.opener) {
      const r = this.opener.open(d);
      if ('packet' in r) {
        this.unansweredSinceMs = undefined;
        return this.handler(r.packet);
      }
      if (this.previousOpener) {
        const old = this.previousOpener.open(d);
        if ('packet' in old) {
          this.unansweredSinceMs = undefined;
          return this.handler(old.packet);
        }
      }
      if (this.opener.needsReconnect && this.who.role === 'initiator' && !this.hs) this.startInitiator();
    }
    if (!isHandshakeDatagram(d)) return;
    const now = this.o.now();
    if (this.who.role === 'responder' && d[0] === HS_MSG1) {
      // A new (or repeated) message 1: one pending responder at a time, so memory stays fixed.
      const step = this.hs?.receive(d, now);
      if (step && step.send.length > 0) return this.apply(step);
      const adm = this.o.admission;
      if (adm) {
        const r = adm.admission.admit(adm.address(), now);
        if ('refused' in r) return;
        this.settleTicket('failed'); // a newer message 1 replaces a pending handshake
        this.ticket = r.ticket;
      }
      this.hs = new LinkHandshakeResponder(this.who.me, this.who.peers, now, this.o.handshake);
    }
    if (this.hs) this.apply(this.hs.receive(d, now));
  }

  private startInitiator(): void {
    if (this.closed || this.who.role !== 'initiator') return;
    const hs = new LinkHandshakeInitiator(this.who.me, this.who.peer, this.o.now(), this.o.handshake);
    this.hs = hs;
    this.apply(hs.start(this.o.now()));
  }

  private apply(step: HandshakeStep): void {
    for (const d of step.send) this.inner.send(d);
    if (step.refused) this.events.refused?.(step.refused);
    if (step.established) {
      this.settleTicket('authenticated');
      this.install(step.established);
    }
    if (step.failed) {
      this.settleTicket(step.failed.code === 'timeout' ? 'timeout' : 'failed');
      this.hs = undefined;
      this.events.failed?.(step.failed);
      if (this.who.role === 'initiator' && step.failed.code === 'timeout' && !this.closed) {
        this.schedule(this.o.retryMs, () => this.startInitiator());
        return;
      }
      if (this.who.role === 'initiator' && refusedByPeer(step.failed) && this.o.refusedRetryMs !== undefined && !this.closed) {
        if (!this.current) this.setState('down');
        this.schedule(this.o.refusedRetryMs, () => this.startInitiator());
        return;
      }
      if (!this.current) this.setState('down');
    }
    this.rearm();
  }

  private settleTicket(outcome: 'authenticated' | 'failed' | 'timeout'): void {
    if (this.ticket) this.o.admission?.admission.finish(this.ticket, outcome);
    this.ticket = undefined;
  }

  private install(est: EstablishedLink): void {
    this.previousOpener = this.opener;
    this.sealer = new AeadPacketSealer(est.sendSecret, this.o.aead);
    this.opener = new AeadPacketOpener(est.receiveSecret, this.o.aead);
    this.current = est;
    this.unansweredSinceMs = undefined;
    this.handshakes++;
    // The responder keeps its handshake to answer a repeated message 3; the initiator is done.
    if (this.who.role === 'initiator') this.hs = undefined;
    this.setState('up');
    this.events.established?.(est);
  }

  private rearm(): void {
    const next = this.hs?.nextTimerMs() ?? Infinity;
    if (next === Infinity) return;
    this.schedule(Math.max(0, next - this.o.now()), () => {
      const hs = this.hs;
      if (hs) this.apply(hs.poll(this.o.now()));
    });
  }

  private schedule(ms: number, f: () => void): void {
    if (this.timer !== undefined) this.o.clearTimer(this.timer);
    this.timer = this.o.setTimer(() => {
      this.timer = undefined;
      f();
    }, ms);
  }

  private setState(s: LinkState): void {
    if (this.secState === s || this.secState === 'closed') return;
    this.secState = s;
    this.stateHandler(s);
  }
}
