/**
 * Compensated summation. Money totals run over millions of rows whose amounts differ by orders of
 * magnitude; with a plain `+=` each small amount added to a large running total loses its low-order bits,
 * and totals, ratios and capture shares drift. Neumaier's variant of Kahan summation carries those lost
 * bits in a separate compensation term, and unlike Kahan's original it stays exact when an addend is
 * larger than the running total (e.g. 1 + 1e100 + 1 - 1e100 is 2, not 0).
 */
export class CompensatedSum {
  private total = 0;
  private compensation = 0;

  add(value: number): void {
    const next = this.total + value;
    // Whichever operand is smaller in magnitude is the one whose low-order bits `next` dropped.
    if (Math.abs(this.total) >= Math.abs(value)) this.compensation += this.total - next + value;
    else this.compensation += value - next + this.total;
    this.total = next;
  }

  get value(): number {
    return this.total + this.compensation;
  }
}

export function compensatedSum(values: ArrayLike<number>): number {
  const sum = new CompensatedSum();
  for (let i = 0; i < values.length; i++) sum.add(values[i]);
  return sum.value;
}
