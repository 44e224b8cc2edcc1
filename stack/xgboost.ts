import fs from 'node:fs';
import type { Config } from '../lib/config';

export interface XGBoostStatus {
  found: boolean;
  path: string;
  detail?: string;
}

const SYSTEM_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libxgboost.so.0',
  '/usr/lib/aarch64-linux-gnu/libxgboost.so.0',
  '/usr/lib/libxgboost.so.0',
  '/usr/local/lib/libxgboost.so',
];

/** Where libxgboost is: XGBOOST_LIBRARY_PATH, else the usual system locations. Loading it is models/xgboost's job. */
export function xgboostStatus(cfg: Config): XGBoostStatus {
  if (cfg.xgboostLibraryPath) {
    const found = fs.existsSync(cfg.xgboostLibraryPath);
    return { found, path: cfg.xgboostLibraryPath, detail: found ? undefined : 'XGBOOST_LIBRARY_PATH does not exist' };
  }
  const hit = SYSTEM_CANDIDATES.find((p) => fs.existsSync(p));
  return hit
    ? { found: true, path: hit }
    : {
        found: false,
        path: 'libxgboost.so.0',
        detail: 'not installed: run `npm run setup` (Debian: apt-get install libxgboost0) or set XGBOOST_LIBRARY_PATH',
      };
}
