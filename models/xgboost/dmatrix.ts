/**
 * An XGBoost DMatrix built from a row-major Float32Array. XGBoost copies the data, so the array may be
 * reused once the constructor returns. The native memory is not garbage-collected: call free().
 */
import { ModelError } from '../../lib/errors';
import { loadXGBoost, type DMatrixHandle, type XGBoostLibrary } from './library';
import { requireFloat32Array, requireLength, requirePositiveInteger } from './validation';

export interface DMatrixOptions {
  /** The value that marks a missing feature; NaN by default, as in XGBoost. */
  missing?: number;
  label?: Float32Array;
  weight?: Float32Array;
  /** Defaults to loadXGBoost(). */
  library?: XGBoostLibrary;
}

export class DMatrix {
  readonly nrow: number;
  readonly ncol: number;
  readonly library: XGBoostLibrary;
  #handle: DMatrixHandle | undefined;

  constructor(data: Float32Array, nrow: number, ncol: number, options: DMatrixOptions = {}) {
    requireFloat32Array(data, 'data');
    this.nrow = requirePositiveInteger(nrow, 'nrow');
    this.ncol = requirePositiveInteger(ncol, 'ncol');
    requireLength(data, nrow * ncol, 'data', `nrow × ncol (${nrow} × ${ncol})`);
    // Checked before the native allocation so that a bad label cannot leak a DMatrix.
    if (options.label !== undefined) this.checkRowInfo(options.label, 'label');
    if (options.weight !== undefined) this.checkRowInfo(options.weight, 'weight');

    this.library = options.library ?? loadXGBoost();
    this.#handle = this.library.createDMatrix(data, nrow, ncol, options.missing ?? Number.NaN);
    try {
      if (options.label !== undefined) this.setLabel(options.label);
      if (options.weight !== undefined) this.setWeight(options.weight);
    } catch (error) {
      this.free();
      throw error;
    }
  }

  /** The native handle; throws once the matrix has been freed. */
  get handle(): DMatrixHandle {
    if (this.#handle === undefined) throw new ModelError('This DMatrix has been freed and can no longer be used');
    return this.#handle;
  }

  get isFreed(): boolean {
    return this.#handle === undefined;
  }

  setLabel(label: Float32Array): void {
    this.library.setDMatrixFloatInfo(this.handle, 'label', this.checkRowInfo(label, 'label'));
  }

  setWeight(weight: Float32Array): void {
    this.library.setDMatrixFloatInfo(this.handle, 'weight', this.checkRowInfo(weight, 'weight'));
  }

  /** Releases the native matrix. Safe to call more than once. */
  free(): void {
    if (this.#handle === undefined) return;
    const handle = this.#handle;
    this.#handle = undefined;
    this.library.freeDMatrix(handle);
  }

  private checkRowInfo(values: Float32Array, parameter: 'label' | 'weight'): Float32Array {
    requireFloat32Array(values, parameter);
    requireLength(values, this.nrow, parameter, `one value per row (nrow = ${this.nrow})`);
    return values;
  }
}
