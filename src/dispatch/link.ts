/**
 * The contract between the dispatcher and an SMPP session (a Bind, or anything that stands in
 * for one). A link:
 * - MUST resolve every submit with an outcome, never reject, and never call back twice;
 * - MUST hold its own window and pacing: the dispatcher only reads `available` to size its claims;
 * - MAY refuse a submit after accepting it (link lost before it was sent): `{kind:'link_lost', sent:false}`;
 * - MUST report `canSubmit` false while it cannot send (not bound, receiver-only, stopping);
 * - MUST, when given `written`, keep the window slot of a part it sent until `written` settles
 *   (the outcome is durable) or it stops: answered outcomes not yet committed are what a kill -9
 *   would submit again, so they count against the window.
 * Receipts and MO come out of the link as events the daemon hands to the ledger; the dispatcher
 * never sees them.
 */
import type { SubmitOutcome, SubmitPart } from '../smpp/bind.js';

export type { SubmitOutcome, SubmitPart };

export interface SmppLink {
  readonly name: string;
  readonly operator: string;
  /** Configured TPS: the dispatcher spreads load by queue length over TPS. */
  readonly tps: number;
  readonly sends: boolean;
  readonly canSubmit: boolean;
  /** Parts this link would take now without queueing past its window and ~½ s of pacing. */
  readonly available: number;
  /** Parts queued or in the window. */
  readonly load: number;
  submit(part: SubmitPart, written?: Promise<unknown>): Promise<SubmitOutcome>;
}
