import fs from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../lib/errors';

/**
 * Anyone who can start a workflow can name a file for the worker to read: the worker reads only files under its
 * configured import directory (FORESIGHT_IMPORT_DIR), after resolving symbolic links, so `../` or a link cannot
 * reach the rest of the machine.
 */
export function fileUnderImportDir(importDir: string, file: string): string {
  const root = fs.realpathSync(importDir);
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(root, file));
  } catch {
    throw new ValidationError(`File ${file} does not exist`, 'file');
  }
  const relative = path.relative(root, real);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
    throw new ValidationError(`File ${file} is outside the import directory ${root} (FORESIGHT_IMPORT_DIR)`, 'file');
  return real;
}
