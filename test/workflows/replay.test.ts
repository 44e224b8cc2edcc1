import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR, loadHistory } from '../support/histories';

/**
 * Determinism guard: every recorded history (test/fixtures/histories, recorded from real runs of the lifecycle and webhook tests
 * with FORESIGHT_RECORD_HISTORIES=1) replays against today's workflow code without a non-determinism error.
 */
describe('workflow replay over recorded histories', function () {
  this.timeout(120_000);
  const files = fs.existsSync(HISTORIES_DIR)
    ? fs
        .readdirSync(HISTORIES_DIR)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

  it('has a history of each lifecycle workflow', () => {
    expect(files).to.include.members(['retrain.json', 'shadow-evaluation.json', 'promotion-approved.json', 'promotion-expired.json']);
  });

  it('has a history of each scoring-side workflow (scoring, scoring with a killed worker, pipeline before and with decisions)', () => {
    expect(files).to.include.members([
      'scoring.json',
      'scoring-worker-killed.json',
      'pipeline-before-decisions.json',
      'pipeline-decisions.json',
    ]);
  });

  it('has histories of webhook deliveries: retried, paused, dead-lettered and replayed (test/workflows/webhook-delivery.test.ts)', () => {
    expect(files).to.include.members([
      'webhook-delivery-retried.json',
      'webhook-delivery-paused.json',
      'webhook-delivery-dead-letter.json',
      'webhook-delivery-replayed.json',
    ]);
  });

  it('replays every recorded history without a determinism error', async () => {
    const histories = files.map((f) => ({
      workflowId: path.basename(f, '.json'),
      history: loadHistory(path.join(HISTORIES_DIR, f)),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).to.deep.equal([]);
    expect(replayed).to.equal(files.length);
  });
});
