/**
 * How much send work is in hand at once, in recipients. Planning and committing a send hold
 * every recipient's plan in memory, so memory grew with the number of big sends posted at once.
 * Beyond the budget a send waits its turn (first come, first served) before it plans, holding
 * only its parsed body; the database takes one writer at a time anyway (1 000 000 queued through
 * 10 000-recipient sends, 4 clients: ~100 000 msg/s either way). A send larger than the whole
 * budget goes alone.
 */
export class Admission {
  private inHand = 0;
  private readonly waiting: { weight: number; grant: () => void }[] = [];

  constructor(private readonly budget: number) {}

  async run<T>(weight: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(weight);
    try {
      return await fn();
    } finally {
      this.release(weight);
    }
  }

  private acquire(weight: number): Promise<void> {
    if (!this.waiting.length && (this.inHand === 0 || this.inHand + weight <= this.budget)) {
      this.inHand += weight;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ weight, grant }));
  }

  private release(weight: number): void {
    this.inHand -= weight;
    while (this.waiting.length) {
      const next = this.waiting[0]!;
      if (this.inHand !== 0 && this.inHand + next.weight > this.budget) return;
      this.waiting.shift();
      this.inHand += next.weight;
      next.grant();
    }
  }
}
