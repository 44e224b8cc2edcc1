import { expect } from 'chai';
import { ValidationError } from '../../lib/errors';

/** Expects `run` to throw, synchronously, a ValidationError whose field is `field`. */
export function expectValidationError(run: () => unknown, field: string): void {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).field).to.equal(field);
    return;
  }
  expect.fail(`expected a ValidationError naming ${field}`);
}
