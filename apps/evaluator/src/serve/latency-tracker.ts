/** Request latencies over a sliding window of recent requests, with nearest-rank percentiles. */
export class LatencyTracker {
  private readonly samples: number[] = [];
  private next = 0;
  /** Requests recorded since start. */
  count = 0;

  constructor(private readonly window = 10_000) {}

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    this.count++;
    if (this.samples.length < this.window) this.samples.push(ms);
    else {
      this.samples[this.next] = ms;
      this.next = (this.next + 1) % this.window;
    }
  }

  /** The q-th percentile (0 < q ≤ 100) by nearest rank, or null with no samples. */
  percentile(q: number): number | null {
    if (this.samples.length === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((q / 100) * sorted.length))) - 1]!;
  }

  /** p50, p99, mean and max of the window. */
  summary(): {
    count: number;
    p50: number | null;
    p99: number | null;
    mean: number | null;
    max: number | null;
  } {
    const n = this.samples.length;
    return {
      count: this.count,
      p50: this.percentile(50),
      p99: this.percentile(99),
      mean: n === 0 ? null : this.samples.reduce((a, b) => a + b, 0) / n,
      max: n === 0 ? null : Math.max(...this.samples),
    };
  }
}
