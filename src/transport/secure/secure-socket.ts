import { WebSocket } from 'ws';
import { AEAD_OVERHEAD_BYTES } from './aead-packet.ts';

/** Bytes each protected link packet costs on top of the packet (AES-128-CCM: 2-byte packet number + 8-byte tag). */
export const PROTECTION_OVERHEAD_BYTES = AEAD_OVERHEAD_BYTES;

/** Why a packet was not accepted. */
export type RejectReason = 'malformed' | 'tamper' | 'replay';

export interface OpenerStats {
  accepted: number;
  rejected: Record<RejectReason, number>;
  /** Packet numbers skipped (never received, or not yet): lost on the link, as seen by the receiver. */
  gaps: number;
}

/** WebSocket close code for a failed authentication (4000–4999: application codes). */
export const CLOSE_AUTH_FAILED = 4401;
/** WebSocket close code asking the dialer to reconnect for fresh keys (age/packet limit, or lost sync). */
export const CLOSE_REKEY = 4409;

/** What seals a connection's outgoing packets (`AeadPacketSealer`). */
export interface LinkPacketSealer {
  seal(packet: Uint8Array): Uint8Array;
  /** True when the keys are due for a new handshake (the connection then closes with {@link CLOSE_REKEY}). */
  readonly rehandshakeDue?: boolean;
}

/** What opens a connection's incoming packets; never throws on bad input. */
export interface LinkPacketOpener {
  readonly stats: OpenerStats;
  open(bytes: Uint8Array): { packet: Uint8Array } | { rejected: RejectReason };
  /** True when the receiver lost its place for good (the connection then closes with {@link CLOSE_REKEY}). */
  readonly needsReconnect?: boolean;
}

/** What the daemon knows about a peer: the pair's pre-shared key (hashed into the Noise PSK). */
export interface PeerSecrets {
  psk: string | Uint8Array;
}

/**
 * An authenticated, encrypted WebSocket between two edge boxes. Each binary message is one link
 * packet sealed with AES-128-CCM (`AeadPacketSealer`, 10 bytes of overhead); rejected packets are counted and
 * reported, never thrown.
 */
export class SecureConnection {
  private readonly sealer: LinkPacketSealer;
  readonly opener: LinkPacketOpener;
  private packetHandler: (packet: Uint8Array) => void = () => {};
  private rejectHandler: (reason: RejectReason) => void = () => {};
  private readonly closeHandlers: Array<(code: number) => void> = [];
  private closeCode = 1006;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    /** Name the peer authenticated as. */
    readonly remoteName: string,
    /** The peer's per-process id, hex: changes when the peer restarts. */
    readonly remoteInstance: string,
    sealer: LinkPacketSealer,
    opener: LinkPacketOpener,
    /**
     * A secret-free value unique to this connection's keys (the Noise handshake hash; empty for the
     * legacy handshake): bind a session resume to it, or derive a per-session resume secret from it.
     */
    readonly channelBinding: Uint8Array = new Uint8Array(0),
  ) {
    this.sealer = sealer;
    this.opener = opener;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.rejectHandler('malformed');
        return;
      }
      const r = this.opener.open(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if ('packet' in r) this.packetHandler(r.packet);
      else {
        this.rejectHandler(r.rejected);
        if (this.opener.needsReconnect) this.close(CLOSE_REKEY);
      }
    });
    ws.on('error', (e: Error & { code?: string }) => {
      // ws closes the socket (1009) on a message beyond maxPayload: count it as a rejected packet.
      if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.rejectHandler('malformed');
    });
    ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      for (const h of this.closeHandlers.splice(0)) h(code);
    });
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes each packet costs on top of the link packet. */
  get overheadBytes(): number {
    return PROTECTION_OVERHEAD_BYTES;
  }

  onPacket(h: (packet: Uint8Array) => void): void {
    this.packetHandler = h;
  }

  onReject(h: (reason: RejectReason) => void): void {
    this.rejectHandler = h;
  }

  /** `h` gets the WebSocket close code ({@link CLOSE_REKEY}: new keys due, reconnect at once). */
  onClose(h: (code: number) => void): void {
    if (this.closed) h(this.closeCode);
    else this.closeHandlers.push(h);
  }

  /** Seals and sends one link packet; returns the bytes put on the socket (0 when closed). */
  send(packet: Uint8Array): number {
    if (!this.open) return 0;
    if (this.sealer.rehandshakeDue) {
      this.close(CLOSE_REKEY);
      return 0;
    }
    const sealed = this.sealer.seal(packet);
    this.ws.send(sealed);
    return sealed.length;
  }

  /** True when the keys are due for a new handshake: close with {@link CLOSE_REKEY} and reconnect. */
  get rehandshakeDue(): boolean {
    return this.sealer.rehandshakeDue === true;
  }

  /** Seals without sending (the caller puts it on the wire later, e.g. through the link emulator). */
  seal(packet: Uint8Array): Uint8Array {
    return this.sealer.seal(packet);
  }

  /** Sends already sealed bytes; false when the socket is gone. */
  sendSealed(sealed: Uint8Array): boolean {
    if (!this.open) return false;
    this.ws.send(sealed);
    return true;
  }

  /** Idempotent. */
  close(code = 1000): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    else this.ws.terminate();
  }
}
