import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileUnderImportDir } from '../../activities/import-dir';
import { ValidationError } from '../../lib/errors';

describe('Activities: files only from the import directory', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'foresight-import-'));
  const importDir = path.join(base, 'imports');
  const inside = path.join(importDir, 'shop', 'orders.csv');
  const outside = path.join(base, 'secret.csv');
  before(() => {
    fs.mkdirSync(path.dirname(inside), { recursive: true });
    fs.writeFileSync(inside, 'order_id\n');
    fs.writeFileSync(outside, 'password\n');
    fs.symlinkSync(outside, path.join(importDir, 'link.csv'));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('accepts a file under it, by absolute or relative path', () => {
    expect(fileUnderImportDir(importDir, inside)).to.equal(fs.realpathSync(inside));
    expect(fileUnderImportDir(importDir, 'shop/orders.csv')).to.equal(fs.realpathSync(inside));
  });

  for (const [what, file] of [
    ['an absolute path elsewhere', () => outside],
    ['a ../ path', () => '../secret.csv'],
    ['a symbolic link pointing out', () => 'link.csv'],
    ['the directory itself', () => importDir],
    ['a file that does not exist', () => 'shop/missing.csv'],
  ] as const) {
    it(`refuses ${what}, naming the file`, () => {
      expect(() => fileUnderImportDir(importDir, file()))
        .to.throw(ValidationError)
        .with.property('field', 'file');
    });
  }
});
