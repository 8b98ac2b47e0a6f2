/**
 * Which local file a profile's file name means. Profiles carry the paths of the machine that ran the code
 * (`/srv/app/demo/gateway/server.ts`, Go's `streamgate.invalid/gohot/main.go`, a pod's build folder); the editor
 * has workspace paths. The file whose path shares the longest run of trailing segments with the profile's is
 * the one, and at least the file name must agree. Pure: no vscode import, so it is unit-tested directly.
 */

function segments(path: string): string[] {
  return path.replace(/\\/g, '/').split('/').filter((s) => s && s !== '.');
}

/** How many trailing path segments two paths share (0 when even the file names differ). */
export function sharedSuffix(a: string, b: string): number {
  const x = segments(a);
  const y = segments(b);
  let n = 0;
  while (n < x.length && n < y.length && x[x.length - 1 - n] === y[y.length - 1 - n]) n++;
  return n;
}

/** The candidate sharing the longest suffix with `profilePath` (ties: the shorter path), or undefined. */
export function bestSuffixMatch(profilePath: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  for (const c of candidates) {
    const score = sharedSuffix(profilePath, c);
    if (score > bestScore || (score === bestScore && score > 0 && best !== undefined && c.length < best.length)) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Whether a document (its path) is what the profile path names, given the other files of the workspace. */
export function sameFile(profilePath: string, documentPath: string): boolean {
  const score = sharedSuffix(profilePath, documentPath);
  // The file name and its folder, or the whole profile path when it is a bare name.
  return score >= Math.min(2, segments(profilePath).length) && score > 0;
}
