/** The little linear algebra the models need: ridge regression by normal equations and Cholesky. */

/** Solves (A + λI)·X = B in place for a symmetric positive semi-definite A (p×p, row-major) and B (p×k). */
export function solveRidge(a: Float64Array, b: Float64Array, p: number, k: number, lambda: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * p + j]! + (i === j ? lambda : 0);
      for (let m = 0; m < j; m++) sum -= l[i * p + m]! * l[j * p + m]!;
      if (i === j) l[i * p + i] = Math.sqrt(Math.max(sum, 1e-12));
      else l[i * p + j] = sum / l[j * p + j]!;
    }
  }
  const x = new Float64Array(p * k);
  const column = new Float64Array(p);
  for (let c = 0; c < k; c++) {
    // Forward: L·z = b; backward: Lᵀ·x = z.
    for (let i = 0; i < p; i++) {
      let sum = b[i * k + c]!;
      for (let m = 0; m < i; m++) sum -= l[i * p + m]! * column[m]!;
      column[i] = sum / l[i * p + i]!;
    }
    for (let i = p - 1; i >= 0; i--) {
      let sum = column[i]!;
      for (let m = i + 1; m < p; m++) sum -= l[m * p + i]! * x[m * k + c]!;
      x[i * k + c] = sum / l[i * p + i]!;
    }
  }
  return x;
}

/** Accumulates XᵀX (upper triangle mirrored at the end) and XᵀY one row at a time. */
export class NormalEquations {
  readonly xtx: Float64Array;
  readonly xty: Float64Array;
  rows = 0;

  constructor(readonly p: number, readonly k: number) {
    this.xtx = new Float64Array(p * p);
    this.xty = new Float64Array(p * k);
  }

  add(x: Float64Array, y: Float64Array, weight = 1): void {
    const { p, k, xtx, xty } = this;
    for (let i = 0; i < p; i++) {
      const xi = x[i]! * weight;
      if (xi === 0) continue;
      const row = i * p;
      for (let j = i; j < p; j++) xtx[row + j]! += xi * x[j]!;
      const yr = i * k;
      for (let c = 0; c < k; c++) xty[yr + c]! += xi * y[c]!;
    }
    this.rows++;
  }

  /** A new accumulator holding both this one's rows and the other's. */
  plus(other: NormalEquations): NormalEquations {
    const sum = new NormalEquations(this.p, this.k);
    for (let i = 0; i < this.xtx.length; i++) sum.xtx[i] = this.xtx[i]! + other.xtx[i]!;
    for (let i = 0; i < this.xty.length; i++) sum.xty[i] = this.xty[i]! + other.xty[i]!;
    sum.rows = this.rows + other.rows;
    return sum;
  }

  solve(lambda: number): Float64Array {
    const { p } = this;
    const full = new Float64Array(this.xtx);
    for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) full[i * p + j] = full[j * p + i]!;
    return solveRidge(full, this.xty, p, this.k, lambda);
  }
}
