import type { Logger } from '../core/log.ts';
import { FORMAT_VERSION } from '../codec/frame/index.ts';
import { outboxHooks } from '../pipeline/live.ts';
import type { OutboxJournal, ProfileStore } from '../transport/journal/index.ts';
import { LinkSession } from '../transport/link-session.ts';
import type { DaemonStateDir } from './durable.ts';
import type { PeerLink } from './peer-link.ts';

/** An outgoing session a previous run left unacknowledged, being finished by this one. */
export interface ResumedSession {
  sessionId: number;
  outbox: OutboxJournal;
  /** Settles when the peer acknowledged everything (the outbox is then gone), or on close/time-out (it stays). */
  done: Promise<void>;
  close(): void;
}

/**
 * The outgoing sessions of `peer` in the state dir that a previous run did not finish (issue #16
 * item 5): each is resumed as it stood, same session id and seqs (the frames are already coded, and
 * the peer's decoder state depends on exactly them), its unacknowledged frames resent in order and
 * an End added if it had none (the microphone of that call is gone). An empty or finished outbox
 * is removed.
 */
export function resumeOutgoing(state: DaemonStateDir, peer: PeerLink, peerProfiles: ProfileStore, log: Logger, drainTimeoutMs: number): ResumedSession[] {
  const out: ResumedSession[] = [];
  for (const sessionId of state.outboxes(peer.name)) {
    let outbox: OutboxJournal;
    try {
      outbox = state.outbox(peer.name, sessionId);
    } catch (err) {
      // Quarantined by the journal (moved aside, never silently dropped): say so and go on with the rest.
      log.error('outgoing session journal unusable; moved aside', { peer: peer.name, session: sessionId, error: err as Error });
      continue;
    }
    if (!outbox.current || outbox.done || outbox.current.sessionId !== sessionId) {
      outbox.complete();
      continue;
    }
    out.push(resumeOne(sessionId, outbox, peer, peerProfiles, log, drainTimeoutMs));
  }
  return out;
}

function resumeOne(sessionId: number, outbox: OutboxJournal, peer: PeerLink, peerProfiles: ProfileStore, log: Logger, drainTimeoutMs: number): ResumedSession {
  const link = new LinkSession(sessionId, { ...peer.sessionOptions(sessionId), journal: outboxHooks(outbox, peerProfiles) });
  peer.addSession(sessionId, link);
  const pending = outbox.pending();
  link.restoreSender(pending, outbox.acknowledgedBelow);
  if (!outbox.ended) link.send({ version: FORMAT_VERSION, sessionId, seq: outbox.nextSeq, time: outbox.lastTime, payload: { type: 'end', reason: 'normal' } });
  log.info('outgoing session resumed from its journal', { peer: peer.name, session: sessionId, frames: pending.length, fromSeq: pending[0]?.seq ?? outbox.nextSeq });
  let closed = false;
  let wake: () => void = () => {};
  const done = (async () => {
    const deadline = performance.now() + drainTimeoutMs;
    while (!closed && !link.sender.idle && performance.now() < deadline) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100).unref?.();
      });
    }
    if (closed) return;
    if (!link.sender.idle) log.warn('resumed session not acknowledged in time; kept for the next start', { peer: peer.name, session: sessionId, frames: link.sender.outstanding });
    // Answer the peer's last retransmission requests a moment, then forget the session.
    await new Promise((r) => setTimeout(r, 2000).unref?.());
    finish();
  })();
  function finish(): void {
    if (closed) return;
    closed = true;
    peer.removeSession(sessionId);
    link.close();
    if (outbox.done) outbox.complete();
    else outbox.close();
  }
  return {
    sessionId,
    outbox,
    done,
    close() {
      finish();
      wake();
    },
  };
}
