import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JournalError } from './journal-error.ts';

/**
 * The files of `--state-dir DIR` (issue #16 item 5): `outbox.journal` (the sender's unacknowledged
 * frames), `inbox.journal` (the receiver's delivered frames and rendered mark), `profiles.journal`
 * (speaker profiles the receiver knows), `peer-profiles-<tag>.journal` (profile hashes one peer acknowledged).
 * One process per directory: a sender and a receiver may share one, two senders may not.
 */
export class StateDir {
  private constructor(readonly path: string) {}

  static open(path: string): StateDir {
    try {
      mkdirSync(path, { recursive: true });
    } catch (err) {
      throw new JournalError('io', `--state-dir ${path} cannot be created: ${(err as Error).message}`, { path }, { cause: err });
    }
    return new StateDir(path);
  }

  get outbox(): string {
    return join(this.path, 'outbox.journal');
  }

  get inbox(): string {
    return join(this.path, 'inbox.journal');
  }

  get profiles(): string {
    return join(this.path, 'profiles.journal');
  }

  /**
   * Profile hashes the peer at `peer` (its URL or name) acknowledged. One file per peer: a profile
   * one receiver keeps says nothing about another.
   */
  peerProfiles(peer: string): string {
    const tag = createHash('sha256').update(peer).digest('hex').slice(0, 12);
    return join(this.path, `peer-profiles-${tag}.journal`);
  }
}
