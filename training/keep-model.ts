import type { Knex } from 'knex';
import { getChampion, type RegisteredModel } from '../registry/model-registry';
import { changeModelStatus } from '../registry/model-status';

/** Champion when it is the first of its kind or `promote` is set; otherwise it runs in shadow beside the champion. */
export async function keep(db: Knex, model: RegisteredModel, promote: boolean, actor: string): Promise<RegisteredModel> {
  const champion = await getChampion(db, model.kind);
  const by = { name: actor, role: null, via: 'training' } as const;
  if (!champion || promote) {
    const reason = champion ? 'promoted by the training run' : 'first model of its kind';
    return changeModelStatus(db, { modelId: model.modelId, to: 'champion', actor: by, reason });
  }
  // A challenger runs in shadow beside the champion until someone promotes it.
  return changeModelStatus(db, { modelId: model.modelId, to: 'shadow', actor: by, reason: 'new candidate, scored in shadow' });
}
