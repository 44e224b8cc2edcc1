/**
 * libxgboost's C API through koffi: one typed method per C function we use. Every status code is checked
 * here, so the rest of models/xgboost never sees one; a failure becomes a ModelError carrying XGBoost's
 * own message. Buffers that XGBoost returns belong to the booster and are overwritten by its next call,
 * so every method copies them before returning.
 */
import * as koffi from 'koffi';
import { DependencyError, ModelError } from '../../lib/errors';

const DEFAULT_LIBRARY_PATH = 'libxgboost.so.0';
const INSTALL_HINT = "Install it with 'apt-get install libxgboost0', or set XGBOOST_LIBRARY_PATH to the path of libxgboost.so";

/** koffi returns pointers as BigInt; the brands keep a DMatrix handle from being passed as a Booster. */
export type DMatrixHandle = bigint & { readonly __brand: 'DMatrixHandle' };
export type BoosterHandle = bigint & { readonly __brand: 'BoosterHandle' };

export interface XGBoostVersion {
  major: number;
  minor: number;
  patch: number;
}

/** XGBoost's prediction types: 0 value, 1 margin, 2 SHAP contributions, 3 approximate (Saabas) contributions. */
export type NativePredictionType = 0 | 1 | 2 | 3;

export interface NativePrediction {
  /** A copy, row-major; owned by the caller. */
  values: Float32Array;
  shape: number[];
}

export interface XGBoostLibrary {
  readonly path: string;
  version(): XGBoostVersion;
  createDMatrix(data: Float32Array, nrow: number, ncol: number, missing: number): DMatrixHandle;
  setDMatrixFloatInfo(handle: DMatrixHandle, field: 'label' | 'weight', values: Float32Array): void;
  freeDMatrix(handle: DMatrixHandle): void;
  createBooster(cache: readonly DMatrixHandle[]): BoosterHandle;
  setBoosterParam(handle: BoosterHandle, name: string, value: string): void;
  updateOneIteration(handle: BoosterHandle, iteration: number, dtrain: DMatrixHandle): void;
  /** XGBoost's evaluation line, e.g. "[3]\ttrain-auc:0.98\tvalidation-auc:0.95". */
  evaluateOneIteration(handle: BoosterHandle, iteration: number, sets: readonly DMatrixHandle[], names: readonly string[]): string;
  predict(handle: BoosterHandle, dmatrix: DMatrixHandle, type: NativePredictionType, iterationEnd: number): NativePrediction;
  getBoosterAttribute(handle: BoosterHandle, key: string): string | undefined;
  setBoosterAttribute(handle: BoosterHandle, key: string, value: string): void;
  boostedRounds(handle: BoosterHandle): number;
  saveModelJson(handle: BoosterHandle): string;
  loadModelJson(handle: BoosterHandle, json: string): void;
  freeBooster(handle: BoosterHandle): void;
}

const loadedLibraries = new Map<string, XGBoostLibrary>();

/**
 * Loads libxgboost from `libraryPath`, else $XGBOOST_LIBRARY_PATH, else the system's libxgboost.so.0.
 * Memoised per path; a failed load is not remembered, so installing the library and retrying works.
 */
export function loadXGBoost(libraryPath?: string): XGBoostLibrary {
  const path = libraryPath || process.env.XGBOOST_LIBRARY_PATH || DEFAULT_LIBRARY_PATH;
  let library = loadedLibraries.get(path);
  if (!library) {
    library = bind(openLibrary(path), path);
    loadedLibraries.set(path, library);
  }
  return library;
}

function openLibrary(path: string): koffi.LibraryHandle {
  try {
    return koffi.load(path);
  } catch (cause) {
    throw new DependencyError(`libxgboost could not be loaded from '${path}': ${messageOf(cause)}. ${INSTALL_HINT}`, {
      path,
    });
  }
}

function bind(native: koffi.LibraryHandle, path: string): XGBoostLibrary {
  const declare = (declaration: string) => {
    try {
      return native.func(declaration);
    } catch (cause) {
      throw new DependencyError(`'${path}' is not a usable libxgboost (1.7 or later is needed): ${messageOf(cause)}. ${INSTALL_HINT}`, {
        path,
      });
    }
  };

  const XGBoostVersion = declare('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)');
  const XGBGetLastError = declare('const char *XGBGetLastError()');
  const XGDMatrixCreateFromMat = declare(
    'int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ void **out)',
  );
  const XGDMatrixSetFloatInfo = declare('int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64_t len)');
  const XGDMatrixFree = declare('int XGDMatrixFree(void *handle)');
  const XGBoosterCreate = declare('int XGBoosterCreate(void **dmats, uint64_t len, _Out_ void **out)');
  const XGBoosterSetParam = declare('int XGBoosterSetParam(void *handle, const char *name, const char *value)');
  const XGBoosterUpdateOneIter = declare('int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)');
  const XGBoosterEvalOneIter = declare(
    'int XGBoosterEvalOneIter(void *handle, int iter, void **dmats, const char **evnames, uint64_t len, _Out_ const char **out)',
  );
  const XGBoosterPredictFromDMatrix = declare(
    'int XGBoosterPredictFromDMatrix(void *handle, void *dmat, const char *config, _Out_ void **out_shape, _Out_ uint64_t *out_dim, _Out_ void **out_result)',
  );
  const XGBoosterGetAttr = declare('int XGBoosterGetAttr(void *handle, const char *key, _Out_ const char **out, _Out_ int *success)');
  const XGBoosterSetAttr = declare('int XGBoosterSetAttr(void *handle, const char *key, const char *value)');
  const XGBoosterBoostedRounds = declare('int XGBoosterBoostedRounds(void *handle, _Out_ int *out)');
  const XGBoosterSaveModelToBuffer = declare(
    'int XGBoosterSaveModelToBuffer(void *handle, const char *config, _Out_ uint64_t *out_len, _Out_ void **out_dptr)',
  );
  const XGBoosterLoadModelFromBuffer = declare('int XGBoosterLoadModelFromBuffer(void *handle, const void *buf, uint64_t len)');
  const XGBoosterFree = declare('int XGBoosterFree(void *handle)');

  const check = (status: number, call: string): void => {
    if (status === 0) return;
    const lastError = String(XGBGetLastError() ?? '');
    // XGBoost appends a native stack trace that helps nobody reading the message; details keep it all.
    const reason = lastError.split('\nStack trace:')[0].trim();
    throw new ModelError(`XGBoost ${call} failed: ${reason}`, { call, xgboostError: lastError });
  };

  return {
    path,

    version() {
      const major = [0];
      const minor = [0];
      const patch = [0];
      XGBoostVersion(major, minor, patch);
      return { major: major[0], minor: minor[0], patch: patch[0] };
    },

    createDMatrix(data, nrow, ncol, missing) {
      const out: unknown[] = [null];
      check(XGDMatrixCreateFromMat(data, nrow, ncol, missing, out), 'XGDMatrixCreateFromMat');
      return out[0] as DMatrixHandle;
    },

    setDMatrixFloatInfo(handle, field, values) {
      check(XGDMatrixSetFloatInfo(handle, field, values, values.length), `XGDMatrixSetFloatInfo(${field})`);
    },

    freeDMatrix(handle) {
      check(XGDMatrixFree(handle), 'XGDMatrixFree');
    },

    createBooster(cache) {
      const out: unknown[] = [null];
      check(XGBoosterCreate([...cache], cache.length, out), 'XGBoosterCreate');
      return out[0] as BoosterHandle;
    },

    setBoosterParam(handle, name, value) {
      check(XGBoosterSetParam(handle, name, value), `XGBoosterSetParam(${name})`);
    },

    updateOneIteration(handle, iteration, dtrain) {
      check(XGBoosterUpdateOneIter(handle, iteration, dtrain), 'XGBoosterUpdateOneIter');
    },

    evaluateOneIteration(handle, iteration, sets, names) {
      const out: unknown[] = [null];
      check(XGBoosterEvalOneIter(handle, iteration, [...sets], [...names], sets.length, out), 'XGBoosterEvalOneIter');
      return String(out[0]);
    },

    predict(handle, dmatrix, type, iterationEnd) {
      const config = JSON.stringify({
        type,
        training: false,
        iteration_begin: 0,
        iteration_end: iterationEnd,
        strict_shape: false,
      });
      const shapePointer: unknown[] = [null];
      const dimension = [0];
      const resultPointer: unknown[] = [null];
      check(XGBoosterPredictFromDMatrix(handle, dmatrix, config, shapePointer, dimension, resultPointer), 'XGBoosterPredictFromDMatrix');
      const shape = Array.from(koffi.decode(shapePointer[0], 'uint64_t', dimension[0]) as BigUint64Array, Number);
      const count = shape.reduce((product, size) => product * size, 1);
      // koffi.decode copies, which is what we need: the booster reuses its result buffer.
      const values = count === 0 ? new Float32Array(0) : (koffi.decode(resultPointer[0], 'float', count) as Float32Array);
      return { values, shape };
    },

    getBoosterAttribute(handle, key) {
      const out: unknown[] = [null];
      const found = [0];
      check(XGBoosterGetAttr(handle, key, out, found), `XGBoosterGetAttr(${key})`);
      return found[0] ? String(out[0]) : undefined;
    },

    setBoosterAttribute(handle, key, value) {
      check(XGBoosterSetAttr(handle, key, value), `XGBoosterSetAttr(${key})`);
    },

    boostedRounds(handle) {
      const out = [0];
      check(XGBoosterBoostedRounds(handle, out), 'XGBoosterBoostedRounds');
      return out[0];
    },

    saveModelJson(handle) {
      const length = [0];
      const pointer: unknown[] = [null];
      check(XGBoosterSaveModelToBuffer(handle, '{"format":"json"}', length, pointer), 'XGBoosterSaveModelToBuffer');
      // Buffer.from(ArrayBuffer) is still a view of the booster's memory; toString makes the copy.
      return Buffer.from(koffi.view(pointer[0], length[0])).toString('utf8');
    },

    loadModelJson(handle, json) {
      const bytes = Buffer.from(json, 'utf8');
      check(XGBoosterLoadModelFromBuffer(handle, bytes, bytes.length), 'XGBoosterLoadModelFromBuffer');
    },

    freeBooster(handle) {
      check(XGBoosterFree(handle), 'XGBoosterFree');
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
