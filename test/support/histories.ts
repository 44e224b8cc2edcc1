import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { config } from '../../lib/config';
import { findTemporalCli } from '../../stack/temporal';

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');

/**
 * Keeps a real run's event history as a replay fixture (test/workflows/replay.test.ts) when the run is made with
 * FORESIGHT_RECORD_HISTORIES=1: re-record after a deliberate change of a workflow's commands. Exported by the
 * Temporal CLI (`workflow show --output json`, the format the SDK's historyFromJSON reads; the SDK's own
 * historyToJSON fails under tsx's module loading).
 */
export async function recordHistory(env: TestWorkflowEnvironment, handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.FORESIGHT_RECORD_HISTORIES !== '1') return;
  const cli = findTemporalCli(config());
  if (!cli) throw new Error('The Temporal CLI is not installed: run `npm run setup`');
  const json = execFileSync(cli, ['workflow', 'show', '--address', env.address, '--workflow-id', handle.workflowId, '--output', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), json);
}

/**
 * Reads a recorded history for replay. Not with the SDK's historyFromJSON: in this install @temporalio/common and
 * @temporalio/proto each carry their own copy of protobufjs 8, and common's JSON reader refuses proto's types ("type
 * must be a Type"). The same reader, taken from the copy @temporalio/proto uses, reads them.
 */
export function loadHistory(file: string): unknown {
  const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromJson } = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as {
    fromJson: (type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }) => unknown;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
    patchProtobufRoot: (root: unknown) => { lookupType: (name: string) => unknown };
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const root = patchProtobufRoot(require('@temporalio/proto'));
  return fromJson(root.lookupType('temporal.api.history.v1.History'), JSON.parse(fs.readFileSync(file, 'utf8')), {
    ignoreUnknownFields: true,
  });
}
