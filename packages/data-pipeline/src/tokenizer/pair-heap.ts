// A binary min-heap of number pairs, used by the BPE merge loop and the trainer.

/** Binary min-heap of (primary, secondary) number pairs, ordered by primary then secondary. */
export class PairHeap {
  private primary: number[] = [];
  private secondary: number[] = [];

  get size(): number {
    return this.primary.length;
  }

  topPrimary(): number {
    return this.primary[0]!;
  }

  topSecondary(): number {
    return this.secondary[0]!;
  }

  private less(a: number, b: number): boolean {
    const ra = this.primary[a]!;
    const rb = this.primary[b]!;
    return ra < rb || (ra === rb && this.secondary[a]! < this.secondary[b]!);
  }

  private swap(a: number, b: number): void {
    const r = this.primary[a]!;
    this.primary[a] = this.primary[b]!;
    this.primary[b] = r;
    const p = this.secondary[a]!;
    this.secondary[a] = this.secondary[b]!;
    this.secondary[b] = p;
  }

  push(primary: number, secondary: number): void {
    this.primary.push(primary);
    this.secondary.push(secondary);
    let i = this.primary.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    const last = this.primary.length - 1;
    this.swap(0, last);
    this.primary.pop();
    this.secondary.pop();
    const n = this.primary.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
