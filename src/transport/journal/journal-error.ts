import { StctsError } from '../../core/errors.ts';

export type JournalErrorCode = 'full' | 'corrupt' | 'io' | 'closed';

/**
 * The durable outbox / receiver state on disk (issue #16 item 5): `full` (the size bound was
 * reached: nothing more is accepted until the peer acknowledges), `corrupt` (the file failed its
 * checks and was renamed aside: `details.quarantinedTo`), `io` (the disk refused a write or fsync),
 * `closed` (used after close()).
 */
export class JournalError extends StctsError {
  declare readonly code: JournalErrorCode;
  constructor(code: JournalErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}
