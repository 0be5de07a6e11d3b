/** Formatting for people: numbers, money, times (the browser's time zone), durations. */

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export const int = (n: number | null | undefined): string => (n === null || n === undefined || Number.isNaN(n) ? '—' : intFmt.format(n));
export const dec = (n: number | null | undefined): string => (n === null || n === undefined || Number.isNaN(n) ? '—' : decFmt.format(n));

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-12-01 14:02:11" in local time; "—" for null. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "14:02:11" when today, else the full date and time. */
export function shortTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : dateTime(iso);
}

/** "14:02" (minute of a chart's bucket). */
export function hourMinute(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "45 s", "3 min 20 s", "5 h 12 min", "2 d 3 h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86400)} d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)} h` : ''}`;
}

/** "for 3 min" since an ISO time. */
export function since(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  return duration((now - t) / 1000);
}

/** A value for <input type="datetime-local"> from an ISO time, and back. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** "12,500 XAF" (amounts are in the smallest currency unit). */
export function money(n: number | null | undefined, currency: string): string {
  return n === null || n === undefined ? '—' : `${int(n)} ${currency}`;
}

/** "12/01" from a UTC day "2026-12-01" (a chart's label). */
export function monthDay(day: string): string {
  const m = /^\d{4}-(\d{2})-(\d{2})$/.exec(day);
  return m ? `${m[1]}/${m[2]}` : day;
}

/** "1.5 %" (a rate given in percent). */
export function percent(n: number | null | undefined): string {
  return n === null || n === undefined || Number.isNaN(n) ? '—' : `${dec(n)} %`;
}
