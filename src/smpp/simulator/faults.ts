/**
 * The simulator's fault policy: what an unkind SMSC does to a submit_sm (throttle it, say its
 * queue is full, reject it, never answer, cut the link) and to a bind (refuse it), so the
 * gateway's reactions can be tested and benchmarked. Decides only; the session carries the
 * verdict out. Faults can be switched at runtime (SmscSimulator.setFaults).
 */
import { Status } from '../pdu.js';

export interface SimulatorFaults {
  /** 0..1 share of submit_sm answered ESME_RTHROTTLED (0x58). */
  throttleShare?: number;
  /** 0..1 share answered ESME_RMSGQFUL (0x14). */
  queueFullShare?: number;
  /**
   * Submits above this rate in any sliding 1 s window (per session) are answered 0x58. Only the
   * submits that passed this gate count towards the window, so a client that keeps pushing still
   * gets `maxTps` per second through.
   */
  maxTps?: number;
  /** Destroy the TCP link after N submit_sm received on a session (the Nth is not answered). */
  dropAfterSubmits?: number;
  /** 0..1 share of submit_sm never answered at all. */
  noAnswerShare?: number;
  /** 0..1 share answered with a permanent error ESME_RINVDSTADR (0x0B). */
  rejectShare?: number;
  /**
   * Refuse every bind: its bind_*_resp carries this command_status (`true`: ESME_RBINDFAIL), as
   * an SMSC in maintenance or one that barred the account does. Sessions already bound stay bound.
   */
  refuseBinds?: boolean | number;
}

/** ESME_ROK, or the command_status a bind is refused with under these faults. */
export function judgeBind(faults: SimulatorFaults): number {
  const refuse = faults.refuseBinds;
  if (refuse === undefined || refuse === false) return Status.ESME_ROK;
  return refuse === true ? Status.ESME_RBINDFAIL : refuse;
}

/** What happens to one submit_sm, and which counter of the stats it adds to. */
export type SubmitVerdict =
  | { readonly action: 'drop-link' | 'no-answer'; readonly counter: 'unanswered' }
  | { readonly action: 'answer'; readonly status: number; readonly counter: 'accepted' | 'throttled' | 'queueFull' | 'rejected' };

// Shared, never rebuilt: the verdict is taken on every submit_sm.
const DROP_LINK: SubmitVerdict = { action: 'drop-link', counter: 'unanswered' };
const NO_ANSWER: SubmitVerdict = { action: 'no-answer', counter: 'unanswered' };
const THROTTLED: SubmitVerdict = { action: 'answer', status: Status.ESME_RTHROTTLED, counter: 'throttled' };
const QUEUE_FULL: SubmitVerdict = { action: 'answer', status: Status.ESME_RMSGQFUL, counter: 'queueFull' };
const REJECTED: SubmitVerdict = { action: 'answer', status: Status.ESME_RINVDSTADR, counter: 'rejected' };
const ACCEPTED: SubmitVerdict = { action: 'answer', status: Status.ESME_ROK, counter: 'accepted' };

/** The verdict on a session's `submits`-th submit_sm, arrived at `now`. */
export function judgeSubmit(faults: SimulatorFaults, submits: number, tps: TpsGate, now: number): SubmitVerdict {
  if (faults.dropAfterSubmits && faults.dropAfterSubmits > 0 && submits >= faults.dropAfterSubmits) return DROP_LINK;
  if (share(faults.noAnswerShare)) return NO_ANSWER;
  if (share(faults.throttleShare) || (faults.maxTps !== undefined && faults.maxTps > 0 && !tps.admit(faults.maxTps, now))) return THROTTLED;
  if (share(faults.queueFullShare)) return QUEUE_FULL;
  if (share(faults.rejectShare)) return REJECTED;
  return ACCEPTED;
}

/** True for a random `value` share of the calls (0..1; absent = never). */
function share(value: number | undefined): boolean {
  return value !== undefined && value > 0 && (value >= 1 || Math.random() < value);
}

/** The maxTps gate of one session: a ring of its last `maxTps` admission times. */
export class TpsGate {
  private ring: Float64Array | null = null;
  private idx = 0;

  admit(maxTps: number, now: number): boolean {
    const size = Math.max(1, Math.floor(maxTps));
    let ring = this.ring;
    if (!ring || ring.length !== size) {
      ring = this.ring = new Float64Array(size).fill(-Infinity);
      this.idx = 0;
    }
    // ring[idx] is the oldest of the last `size` admissions.
    if (now - (ring[this.idx] as number) < 1000) return false;
    ring[this.idx] = now;
    this.idx = (this.idx + 1) % size;
    return true;
  }

  /** Start over (the limit changed): earlier admissions no longer count. */
  reset(): void {
    this.ring = null;
    this.idx = 0;
  }
}
