/**
 * The uuid Mifumo clients know a message by, derived from the message itself instead of stored:
 * a UUIDv7 whose timestamp is the message's creation time and whose random bits carry its id. No column, no index to keep on the hot path; the same message always has the same uuid,
 * and a uuid names one message, which the caller's account must still own.
 */
const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-7000-8([0-9a-f]{3})-([0-9a-f]{12})$/i;

export function messageUuid(id: number, createdAt: number): string {
  const time = createdAt.toString(16).padStart(12, '0');
  // Variant bits 10 and two zero bits make the "8"; the id fills the 15 hex digits after it.
  const tail = id.toString(16).padStart(15, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7000-8${tail.slice(0, 3)}-${tail.slice(3)}`;
}

/** The message id and creation time a uuid stands for, or null when it is not one of ours. */
export function parseMessageUuid(uuid: string): { id: number; createdAt: number } | null {
  const m = UUID.exec(uuid);
  if (!m) return null;
  const id = parseInt(`${m[3]}${m[4]}`, 16);
  return Number.isSafeInteger(id) && id > 0 ? { id, createdAt: parseInt(`${m[1]}${m[2]}`, 16) } : null;
}
