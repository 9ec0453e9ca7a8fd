/**
 * Paces packets to a link rate: after a packet of n bits the link is busy for n / rate seconds.
 * One pacer per link direction; every sender that shares the link (the edge daemon's calls to one
 * peer, and the acks it sends there) charges the same pacer, so together they never exceed it.
 * Turns: when the link frees up, the waiting sender with the most urgent packet goes first (lower
 * priority number: text and control before speaker before prosody), the longest waiter among equals.
 */
import type { PacketCostModel } from '../links/types.ts';

/** How long after the link frees up a waiting sender keeps its place without asking again, ms. */
const STALE_AFTER_FREE_MS = 100;

export class LinkPacer {
  private freeAt = 0;
  /** Senders refused a turn: since when they wait, when they last asked, how urgent their packet is. */
  private readonly waiting = new Map<object, { since: number; seen: number; priority: number }>();

  /**
   * `cost`: the link's packet cost model (src/transport/links): a packet then occupies the link for
   * its airtime on a radio (key-up, headers and tail at the modem rate) or for its wire bytes
   * (link headers included) at `bitsPerSecond` on an IP link. Without it, for its payload bits.
   */
  constructor(readonly bitsPerSecond: number, readonly cost?: PacketCostModel) {
    if (!(bitsPerSecond > 0)) throw new RangeError(`link rate must be positive, got ${bitsPerSecond}`);
  }

  /** How long a packet of `payloadBytes` occupies the link, ms. */
  packetMs(payloadBytes: number): number {
    if (!this.cost) return (payloadBytes * 8 * 1000) / this.bitsPerSecond;
    const c = this.cost.packedCost ? this.cost.packedCost(payloadBytes) : this.cost.packetCost(payloadBytes);
    return this.cost.channelBitsPerSecond ? c.airtimeMs : (c.wireBytes * 8 * 1000) / this.bitsPerSecond;
  }

  /** Records a packet of `payloadBytes` put on the link at `nowMs` (see {@link charge}); returns its link time, ms. */
  chargePacket(payloadBytes: number, nowMs: number, who?: object): number {
    const ms = this.packetMs(payloadBytes);
    this.freeAt = Math.max(this.freeAt, nowMs) + ms;
    if (who) this.waiting.delete(who);
    return ms;
  }

  /** When the link can take the next packet, ms (same clock as the callers'). */
  get freeAtMs(): number {
    return this.freeAt;
  }

  /**
   * May `who` put a packet of `priority` on the link now? No while the link is busy or while a
   * more urgent or longer-waiting sender is queued (`who` is then queued for a turn). A sender that
   * is told yes must {@link charge} its packet or {@link leave}.
   */
  mayStart(who: object, nowMs: number, priority = 0): boolean {
    const mine = this.waiting.get(who);
    if (mine) {
      mine.seen = nowMs;
      mine.priority = priority;
    }
    let first: object | undefined;
    let best: { since: number; priority: number } | undefined;
    for (const [w, t] of this.waiting) {
      // A waiter that did not come back once the link was free (gone, or with nothing to send) loses its place.
      if (nowMs > this.freeAt + STALE_AFTER_FREE_MS && t.seen < this.freeAt) this.waiting.delete(w);
      else if (!best || t.priority < best.priority || (t.priority === best.priority && t.since < best.since)) [first, best] = [w, t];
    }
    // Someone goes before `who`: the best waiter if `who` waits too, else any waiter at least as urgent
    // (at equal priority it has waited longer than `who`, who only just asked).
    const ahead = mine ? first !== who : best !== undefined && best.priority <= priority;
    if (nowMs >= this.freeAt && !ahead) return true;
    if (!mine) this.waiting.set(who, { since: nowMs, seen: nowMs, priority });
    return false;
  }

  /** Records a packet put on the link at `nowMs` (queued behind one still being serialized). */
  charge(bits: number, nowMs: number, who?: object): void {
    this.freeAt = Math.max(this.freeAt, nowMs) + (bits / this.bitsPerSecond) * 1000;
    if (who) this.waiting.delete(who);
  }

  /** `who` has nothing to send (or is closed): it no longer holds a place in the queue. */
  leave(who: object): void {
    this.waiting.delete(who);
  }
}
