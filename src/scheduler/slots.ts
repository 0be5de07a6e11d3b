/**
 * Schedule slots in a time zone: today's run time of a schedule, as an instant. Plain Intl, no
 * time-zone table of our own: the zone rules are the runtime's.
 */
import type { Schedule } from '../services/campaigns/model.js';

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock date and time of an instant in `tz`. */
export function localParts(at: number, tz: string): LocalParts {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour), minute: Number(p.minute), weekday: WEEKDAYS.indexOf(p.weekday!) };
}

/** The instant at which the wall clock in `tz` shows this date and time. */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, tz: string): number {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wanted;
  // Two corrections settle it, offset changes included.
  for (let i = 0; i < 2; i++) {
    const p = localParts(guess, tz);
    guess += wanted - Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  }
  return guess;
}

const ymd = (p: { year: number; month: number; day: number }) => `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;

/** Today's slot of the schedule (in its zone) if it is due by `now` and allowed today; else null. */
export function dueSlot(s: Schedule, now: number): number | null {
  if (!s.is_active) return null;
  const today = localParts(now, s.timezone);
  const date = ymd(today);
  if (s.start_date && date < s.start_date) return null;
  if (s.end_date && date > s.end_date) return null;
  if (s.frequency === 'once' && date !== (s.start_date ?? date)) return null;
  if (s.frequency === 'weekly' && today.weekday !== (s.day_of_week ?? 1)) return null;
  if (s.frequency === 'monthly' && today.day !== (s.day_of_month ?? Number((s.start_date ?? '0000-00-01').slice(8, 10)))) return null;
  const [hour, minute] = s.time.split(':').map(Number) as [number, number];
  const slot = zonedInstant(today.year, today.month, today.day, hour, minute, s.timezone);
  return slot <= now ? slot : null;
}
