/** A straight-line fit y = intercept + slope·x. */
export interface LinearFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination, 0..1 (1 when every point is on the line; 0 for a flat cloud). */
  r2: number;
  n: number;
}

/**
 * Ordinary least squares over `points`; null with fewer than 2 points or when every x is the same.
 * Pure; used for the soak's memory and connection trends.
 */
export function leastSquares(points: readonly { x: number; y: number }[]): LinearFit | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
    syy += (p.y - my) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), n };
}
