import { JournalError } from './journal-error.ts';
import { RecordLog } from './record-log.ts';

const T_PROFILE = 1;

/**
 * Speaker profiles by content hash on disk (issue #16 item 5). The receiver keeps the profiles it
 * decoded (a {@link PersistentProfileCache} passed as receiveFrames' `profileCache`), so a later
 * session may name a known speaker by its hash; the sender keeps the hashes the peer acknowledged
 * (bytes empty), so it knows which profiles need not cross the link again.
 */
export class ProfileStore {
  private readonly entries = new Map<number, Uint8Array>();
  /** Profiles kept in memory only because the file reached its bound. */
  notPersisted = 0;

  private constructor(private readonly log: RecordLog) {}

  static open(path: string, options: { maxBytes?: number } = {}): ProfileStore {
    const { log, records } = RecordLog.open(path, { kind: 'P', maxBytes: options.maxBytes ?? 1024 * 1024 });
    const s = new ProfileStore(log);
    for (const r of records) {
      if (r.type !== T_PROFILE || r.body.length < 4) {
        log.close();
        throw new JournalError('corrupt', `${path}: unknown profile record`, { path });
      }
      s.entries.set(new DataView(r.body.buffer, r.body.byteOffset).getUint32(0, true), r.body.slice(4));
    }
    return s;
  }

  has(hash: number): boolean {
    return this.entries.has(hash >>> 0);
  }

  get(hash: number): Uint8Array | undefined {
    return this.entries.get(hash >>> 0);
  }

  hashes(): number[] {
    return [...this.entries.keys()];
  }

  /** Adds a profile (durable on return); a known hash is not written again. False when only kept in memory (bound reached). */
  add(hash: number, bytes: Uint8Array = new Uint8Array(0)): boolean {
    const h = hash >>> 0;
    if (this.entries.has(h)) return true;
    this.entries.set(h, bytes.slice());
    const body = new Uint8Array(4 + bytes.length);
    new DataView(body.buffer).setUint32(0, h, true);
    body.set(bytes, 4);
    try {
      this.log.append(T_PROFILE, body);
      return true;
    } catch (err) {
      if (err instanceof JournalError && err.code === 'full') {
        this.notPersisted++;
        return false;
      }
      throw err;
    }
  }

  /** A Map view for SessionDecoder's profile cache: every set() is persisted. */
  cache(): PersistentProfileCache {
    return new PersistentProfileCache(this);
  }

  close(): void {
    this.log.close();
  }
}

/** A profile cache (hash → profile bytes) whose additions go to a {@link ProfileStore}. */
export class PersistentProfileCache extends Map<number, Uint8Array> {
  constructor(private readonly store: ProfileStore) {
    super();
    for (const h of store.hashes()) super.set(h, store.get(h)!);
  }

  override set(hash: number, profile: Uint8Array): this {
    super.set(hash, profile);
    // (Map's constructor calls set() before `store` is assigned.)
    this.store?.add(hash, profile);
    return this;
  }
}
