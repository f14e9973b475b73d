import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The install's root (dist/src/admin → the package folder). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const read = (path: string): string | undefined => {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
};

/**
 * The commit this install was built from: SWITCHYARD_COMMIT (set by the image build, see the
 * Dockerfile), else the checkout's HEAD when run from a git checkout or worktree (read from
 * the files, no git needed), else 'unknown'.
 */
export function buildCommit(env = process.env, root = PACKAGE_ROOT): string {
  if (env.SWITCHYARD_COMMIT !== undefined && /^[0-9a-f]{7,40}$/i.test(env.SWITCHYARD_COMMIT)) return env.SWITCHYARD_COMMIT.toLowerCase();
  const dotGit = join(root, '.git');
  const pointer = read(dotGit);
  // A worktree's .git is a file naming its git dir; refs live in the common dir.
  const gitDir = pointer?.startsWith('gitdir: ') ? resolve(root, pointer.slice(8)) : dotGit;
  const commonDir = read(join(gitDir, 'commondir'));
  const common = commonDir === undefined ? gitDir : resolve(gitDir, commonDir);
  const head = read(join(gitDir, 'HEAD'));
  if (head === undefined) return 'unknown';
  if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : 'unknown';
  const ref = head.slice(5);
  const direct = read(join(gitDir, ref)) ?? read(join(common, ref));
  if (direct !== undefined && /^[0-9a-f]{40}$/.test(direct)) return direct;
  const packed = read(join(common, 'packed-refs'))?.split('\n').find((l) => l.endsWith(` ${ref}`));
  return packed?.slice(0, 40) ?? 'unknown';
}
