/**
 * What the simulator keeps about the traffic: counters (cheap, always on) and the submit_sm it
 * received (for tests; a long-running simulator turns that list off).
 */

export interface ReceivedSubmit {
  seq: number;
  at: number;
  systemId: string;
  source: string;
  destination: string;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  text: string;
  concat?: { reference: number; total: number; sequence: number };
  messageId?: string;
  /** command_status answered, -1 = never answered. */
  status: number;
}

export interface SimulatorStats {
  bindsAccepted: number;
  bindsRefused: number;
  submits: number;
  accepted: number;
  throttled: number;
  queueFull: number;
  rejected: number;
  unanswered: number;
  receiptsSent: number;
  /** Receipts that had no bound receiver/transceiver session of the same system_id. */
  receiptsDropped: number;
  moSent: number;
  enquireLinks: number;
  unbinds: number;
  /** TCP sessions accepted since start (cumulative). */
  sessions: number;
  genericNacks: number;
  /** Most submit_sm any one session sent in a sliding second, by arrival time: the SMSC's view of a bind's TPS. */
  maxSubmitsInOneSecond: number;
}

export function emptyStats(): SimulatorStats {
  return {
    bindsAccepted: 0,
    bindsRefused: 0,
    submits: 0,
    accepted: 0,
    throttled: 0,
    queueFull: 0,
    rejected: 0,
    unanswered: 0,
    receiptsSent: 0,
    receiptsDropped: 0,
    moSent: 0,
    enquireLinks: 0,
    unbinds: 0,
    sessions: 0,
    genericNacks: 0,
    maxSubmitsInOneSecond: 0,
  };
}

/** Arrival times of one session's submits in the last second (a queue: times[head..]). */
export class LastSecond {
  private times: number[] = [];
  private head = 0;

  /** Count an arrival; returns how many arrived in the second up to it. */
  add(now: number): number {
    this.times.push(now);
    while (now - this.times[this.head]! >= 1000) this.head++;
    // Drop the expired prefix now and then, not on every call.
    if (this.head > 4096) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }
}

/** Most submits (in arrival order) inside any window of `windowMs`. */
export function maxInAnyWindow(list: readonly ReceivedSubmit[], windowMs: number): number {
  let max = 0;
  let i = 0;
  for (let j = 0; j < list.length; j++) {
    const at = (list[j] as ReceivedSubmit).at;
    while (i < j && (list[i] as ReceivedSubmit).at <= at - windowMs) i++;
    if (j - i + 1 > max) max = j - i + 1;
  }
  return max;
}
