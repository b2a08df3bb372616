// A fixed-size ring of numbers. Metrics arrive 5-10 times a second for minutes; charts need the
// last N samples as arrays without allocating per frame. Invariant: `length` <= capacity, and
// `toArray` returns samples oldest first.
export class Ring {
  private readonly buf: Float64Array;
  private start = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  push(v: number): void {
    if (this.len < this.capacity) {
      this.buf[(this.start + this.len) % this.capacity] = v;
      this.len += 1;
    } else {
      this.buf[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The newest sample, or undefined when empty. */
  last(): number | undefined {
    return this.len === 0 ? undefined : this.buf[(this.start + this.len - 1) % this.capacity];
  }

  clear(): void {
    this.start = 0;
    this.len = 0;
  }

  /** Copies the samples, oldest first, into `out` (reused when big enough). */
  toArray(out?: number[]): number[] {
    const a = out ?? [];
    a.length = this.len;
    for (let i = 0; i < this.len; i++) a[i] = this.buf[(this.start + i) % this.capacity] ?? 0;
    return a;
  }
}
