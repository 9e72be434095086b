// How the installer touches files as root, where a path may hold what someone else planted:
// a link to /etc/shadow, a directory, a file with a loose mode.
//
// - A file is written as a new temporary file beside its target (O_CREAT|O_EXCL|O_NOFOLLOW:
//   never an existing file, never through a link), its mode set on the open descriptor (not
//   left to the umask or to an older file), then renamed over the target. rename() replaces
//   whatever name is at the target, a link included, and never writes through it.
// - A file is removed only when it is recognisably ours: a regular file (not a link, not a
//   directory) that carries OWNED_MARKER.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The text that marks a file as installed by us: a comment line in units, drop-ins and the
 * options file, and a string inside the executable (this very constant is part of its code).
 */
export const OWNED_MARKER = 'elb-proxy-echo:owned-file';

/** A file the installer would not write or remove, with the reason. */
export class InstallFileError extends Error {
  override name = 'InstallFileError';
}

const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** What is at `path` now, without following a link; null when nothing is. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Puts a new file at `target` with `mode`, its bytes written by `fill` into an open descriptor.
 * A directory at the target is refused (a rename could not replace it anyway).
 */
export function placeNewFile(target: string, mode: number, fill: (fd: number) => void): void {
  if (lstatOrNull(target)?.isDirectory())
    throw new InstallFileError(`${target} is a directory; not replacing it`);
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(temporary, CREATE_NEW, 0o600);
  try {
    try {
      fchmodSync(fd, mode);
      fill(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, target);
  } catch (error) {
    // A failed copy (a full disk) must not leave a partial file of ~100 MB behind.
    rmSync(temporary, { force: true });
    throw error;
  }
}

export function writeNewFile(target: string, text: string, mode: number): void {
  placeNewFile(target, mode, (fd) => {
    const bytes = Buffer.from(text);
    for (let done = 0; done < bytes.length; )
      done += writeSync(fd, bytes, done, bytes.length - done);
  });
}

/** Copies the regular file `source` (the running executable) to a new file at `target`. */
export function copyNewFile(source: string, target: string, mode: number): void {
  const from = openSync(source, constants.O_RDONLY);
  try {
    placeNewFile(target, mode, (fd) => {
      const chunk = Buffer.allocUnsafe(1 << 20);
      for (let n = readSync(from, chunk); n > 0; n = readSync(from, chunk))
        for (let done = 0; done < n; ) done += writeSync(fd, chunk, done, n - done);
    });
  } finally {
    closeSync(from);
  }
}

/** Does the regular file at `path` contain OWNED_MARKER? Read in chunks (the executable is big). */
export function carriesMarker(path: string): boolean {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const marker = Buffer.from(OWNED_MARKER);
    const chunk = Buffer.allocUnsafe(1 << 20);
    // Each read lands after the last marker.length - 1 bytes of the one before, so a marker
    // that straddles two reads is still found.
    let kept = 0;
    for (;;) {
      const n = readSync(fd, chunk, kept, chunk.length - kept, null);
      if (n === 0) return false;
      const end = kept + n;
      if (chunk.subarray(0, end).includes(marker)) return true;
      kept = Math.min(marker.length - 1, end);
      chunk.copy(chunk, 0, end - kept, end);
    }
  } finally {
    closeSync(fd);
  }
}

/** Nothing at `path` (null), ours (''), or why it is not ours. */
export function notOurs(path: string): string | null {
  const stats = lstatOrNull(path);
  if (stats === null) return null;
  if (stats.isSymbolicLink()) return 'a symbolic link, not a file we installed';
  if (!stats.isFile()) return 'not a regular file, not one we installed';
  if (!carriesMarker(path)) return 'not installed by elb-proxy-echo (no marker)';
  return '';
}

/** Removes `path` if it is ours, else leaves it; says what happened (null: nothing there). */
export function removeIfOurs(path: string): string | null {
  const why = notOurs(path);
  if (why === null) return null;
  if (why !== '') return `left ${path}: ${why}`;
  unlinkSync(path);
  return `removed ${path}`;
}
