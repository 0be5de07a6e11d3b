/**
 * Whether the database can take writes. A full disk, a read-only file or an I/O error is not a
 * bug to crash on: the write fails as `StorageUnavailable`, the gateway says so (503, /readyz)
 * and keeps serving reads. While it cannot write, a probe that needs new space tries every few
 * seconds; the first that commits says the space is back.
 */

/** A write the database could not take (disk full, read-only, I/O error); nothing of it committed. */
export class StorageUnavailable extends Error {
  constructor(readonly sqliteCode: string, message: string) {
    super(`database cannot write (${sqliteCode}): ${message}`);
    this.name = 'StorageUnavailable';
  }
}

/** SQLite's answers that mean "the storage", not "the statement". */
export function isStorageError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN');
}

export interface WriteHealthView {
  writable: boolean;
  /** Why not, while not (the SQLite code and its message). */
  reason: string | null;
  /** Since when (epoch ms), while not. */
  since: number | null;
}

export class WriteHealth {
  private state: WriteHealthView = { writable: true, reason: null, since: null };
  private readonly listeners: ((h: WriteHealthView) => void)[] = [];

  get writable(): boolean {
    return this.state.writable;
  }

  view(): WriteHealthView {
    return { ...this.state };
  }

  /** Called on every change of state (the daemon logs it once, not per failed write). */
  onChange(fn: (h: WriteHealthView) => void): void {
    this.listeners.push(fn);
  }

  /** A storage error: from now on, not writable; the error to throw instead. */
  failed(err: Error & { code: string }): StorageUnavailable {
    if (this.state.writable) this.set({ writable: false, reason: `${err.code}: ${err.message}`, since: Date.now() });
    return new StorageUnavailable(err.code, err.message);
  }

  /** A probe that needed new space committed. */
  recovered(): void {
    if (!this.state.writable) this.set({ writable: true, reason: null, since: null });
  }

  private set(s: WriteHealthView): void {
    this.state = s;
    for (const fn of this.listeners) fn(this.view());
  }
}
