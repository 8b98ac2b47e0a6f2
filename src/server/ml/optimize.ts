/** Nelder–Mead on a box: the smoothing models' parameter fits (a handful of parameters, cheap objective). */
export function nelderMead(
  objective: (x: number[]) => number,
  start: number[],
  lower: number[],
  upper: number[],
  maxEvaluations = 300,
): { x: number[]; value: number } {
  const n = start.length;
  const clamp = (x: number[]) => x.map((v, i) => Math.min(upper[i]!, Math.max(lower[i]!, v)));
  const f = (x: number[]) => {
    const value = objective(x);
    return Number.isFinite(value) ? value : Number.MAX_VALUE;
  };
  let simplex = [clamp(start)];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i] = x[i]! + 0.1 * (upper[i]! - lower[i]!);
    if (x[i]! > upper[i]!) x[i] = start[i]! - 0.1 * (upper[i]! - lower[i]!);
    simplex.push(clamp(x));
  }
  let values = simplex.map(f);
  let evaluations = simplex.length;
  while (evaluations < maxEvaluations) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    simplex = order.map(([, i]) => simplex[i]!);
    values = order.map(([v]) => v);
    if (Math.abs(values[n]! - values[0]!) <= 1e-10 * (Math.abs(values[0]!) + 1e-12)) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]![j]! / n;
    const worst = simplex[n]!;
    const along = (t: number) => clamp(centroid.map((c, j) => c + t * (c - worst[j]!)));
    const reflected = along(1);
    const fr = f(reflected);
    evaluations++;
    if (fr < values[0]!) {
      const expanded = along(2);
      const fe = f(expanded);
      evaluations++;
      if (fe < fr) [simplex[n], values[n]] = [expanded, fe];
      else [simplex[n], values[n]] = [reflected, fr];
    } else if (fr < values[n - 1]!) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = along(fr < values[n]! ? 0.5 : -0.5);
      const fc = f(contracted);
      evaluations++;
      if (fc < Math.min(fr, values[n]!)) {
        [simplex[n], values[n]] = [contracted, fc];
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = clamp(simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!)));
          values[i] = f(simplex[i]!);
          evaluations++;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return { x: simplex[best]!, value: values[best]! };
}
