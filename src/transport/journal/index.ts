export { JournalError, type JournalErrorCode } from './journal-error.ts';
export { RecordLog, MAX_RECORD_BYTES, type LogRecord, type OpenedLog, type RecordLogOptions } from './record-log.ts';
export { OutboxJournal, DEFAULT_OUTBOX_OPTIONS, type OutboxOptions, type OutboxSession } from './outbox.ts';
export { InboxJournal, DEFAULT_INBOX_OPTIONS, type InboxOptions } from './inbox.ts';
export { ProfileStore, PersistentProfileCache } from './profile-store.ts';
export { StateDir } from './state-dir.ts';
