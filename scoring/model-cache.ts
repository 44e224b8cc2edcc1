import type { Knex } from 'knex';
import { clvSummary, type ClvSummary } from '../features/clv-summary';
import { getModel } from '../registry/model-registry';
import { loadProfileModels, type LoadedProfileModels, type ModelVersions } from './predict-profiles';

/**
 * What a worker keeps between scoring partitions: the deserialised models of the run (by model ids, so a run's
 * partitions never read and parse the registry's artifacts again) and the CLV summary of its as-of (one SQL pass over
 * every order, whose population return share every partition needs). One entry each: a worker scores one run at a
 * time in practice, and a new run's models or as-of replace the old.
 */
interface ModelsEntry {
  key: string;
  loaded: Promise<LoadedProfileModels>;
  users: number;
  stale: boolean;
}

export class ScoringCache {
  #models: ModelsEntry | undefined;
  #summary: { asOf: string; summary: Promise<ClvSummary> } | undefined;
  /** How many times models were loaded from the registry (observable for tests and logs). */
  modelLoads = 0;

  /** Runs `work` with the run's models, loading them only when this worker has not got them already. */
  async withModels<T>(db: Knex, versions: ModelVersions, work: (models: LoadedProfileModels) => Promise<T>): Promise<T> {
    const ids = ['churn', 'clv', 'segments'].map((kind) => versions[kind]!.modelId);
    const key = ids.join(',');
    if (this.#models?.key !== key) {
      if (this.#models) this.#release(this.#models, true);
      this.modelLoads += 1;
      const loaded = (async () => {
        const [churn, clv, segments] = await Promise.all(ids.map((id) => getModel(db, id)));
        return loadProfileModels({ churn: churn!, clv: clv!, segments: segments! });
      })();
      this.#models = { key, loaded, users: 0, stale: false };
    }
    const entry = this.#models!;
    entry.users += 1;
    try {
      return await work(await entry.loaded);
    } catch (err) {
      // A failed load is not kept: the next partition tries again.
      if (
        this.#models === entry &&
        !(await entry.loaded.then(
          () => true,
          () => false,
        ))
      )
        this.#models = undefined;
      throw err;
    } finally {
      entry.users -= 1;
      this.#release(entry, false);
    }
  }

  /** Frees the models (once partitions using them finish) and forgets the summary. */
  dispose(): void {
    if (this.#models) this.#release(this.#models, true);
    this.#models = undefined;
    this.#summary = undefined;
  }

  /** Frees a replaced entry's native boosters once no partition uses them any more. */
  #release(entry: ModelsEntry, replaced: boolean): void {
    if (replaced) entry.stale = true;
    if (entry.stale && entry.users === 0)
      entry.loaded.then(
        (m) => m.dispose(),
        () => undefined,
      );
  }

  async clvSummary(db: Knex, asOf: Date): Promise<ClvSummary> {
    const key = asOf.toISOString();
    if (this.#summary?.asOf !== key) {
      const summary = clvSummary(db, { asOf });
      this.#summary = { asOf: key, summary };
      summary.catch(() => {
        if (this.#summary?.summary === summary) this.#summary = undefined;
      });
    }
    return this.#summary!.summary;
  }
}
