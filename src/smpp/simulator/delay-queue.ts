/**
 * The simulator's timed work (delayed submit_sm_resp, receipts, receipt retries): a time-ordered
 * queue of callbacks run by a single timer. Items usually arrive in due order (constant delay), so
 * insertion is O(1) at the tail; an out-of-order item (delay changed at runtime) is inserted in
 * place.
 */
interface Item {
  due: number;
  run: () => void;
}

export class DelayQueue {
  private items: Item[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;

  constructor(private readonly onError: (err: unknown) => void) {}

  push(delayMs: number, run: () => void): void {
    const due = Date.now() + Math.max(0, delayMs);
    const items = this.items;
    let i = items.length;
    while (i > this.head && (items[i - 1] as Item).due > due) i--;
    if (i === items.length) items.push({ due, run });
    else items.splice(i, 0, { due, run });
    if (due < this.timerDue) this.arm(due);
  }

  private arm(due: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.drain(), Math.max(0, due - Date.now()));
  }

  private drain(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = Date.now();
    const items = this.items;
    while (this.head < items.length) {
      const item = items[this.head] as Item;
      if (item.due > now) break;
      this.head++;
      try {
        item.run();
      } catch (err) {
        this.onError(err);
      }
    }
    this.compact();
    if (this.head < this.items.length) this.arm((this.items[this.head] as Item).due);
  }

  /** Forget the items already run: all of them, or the head once it is most of the array. */
  private compact(): void {
    const items = this.items;
    if (this.head >= items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    this.items = [];
    this.head = 0;
  }
}
