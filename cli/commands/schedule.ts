import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Command } from 'commander';
import { config, type Config } from '../../lib/config';
import { ValidationError } from '../../lib/errors';
import { stackUp } from '../../stack';
import { temporalAddress } from '../../stack/temporal';
import { table } from '../format';

/** The schedules Foresight runs, by id. Their policies are documented in the README ("Schedules"). */
export const SCHEDULE_IDS = { pipeline: 'foresight-daily-pipeline', retrain: 'foresight-weekly-retrain' } as const;

const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

function clock(value: string, option: string): { hour: number; minute: number } {
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new ValidationError(`${option} must be HH:MM (UTC), got "${value}"`, option);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

export function scheduleDefinitions(cfg: Config, opts: { at: string; retrainDay: string; retrainAt: string }): ScheduleOptions[] {
  const day = opts.retrainDay.toUpperCase();
  if (!(DAYS as readonly string[]).includes(day))
    throw new ValidationError(`--retrain-day must be one of ${DAYS.join(', ')}`, 'retrain-day');
  return [
    {
      scheduleId: SCHEDULE_IDS.pipeline,
      spec: { calendars: [{ ...clock(opts.at, '--at'), comment: 'daily pipeline, UTC' }] },
      // No as-of in the arguments: pipelineWorkflow takes the scheduled day (its TemporalScheduledStartTime).
      action: {
        type: 'startWorkflow',
        workflowType: 'pipelineWorkflow',
        workflowId: 'pipeline-scheduled',
        taskQueue: cfg.temporal.taskQueue,
        args: [{}],
      },
      policies: {
        // A day late is still a day to score: today's run waits for yesterday's to finish instead of being dropped.
        overlap: ScheduleOverlapPolicy.BUFFER_ONE,
        // After an outage, the missed run of the last day is made up; older days are not (the next run supersedes them).
        catchupWindow: '1 day',
        // A failed day (e.g. the data-quality gate) must not stop tomorrow's.
        pauseOnFailure: false,
      },
    },
    {
      scheduleId: SCHEDULE_IDS.retrain,
      spec: {
        calendars: [{ dayOfWeek: day as (typeof DAYS)[number], ...clock(opts.retrainAt, '--retrain-at'), comment: 'weekly retrain, UTC' }],
      },
      // weeklyRetrainWorkflow: retrainWorkflow as of the scheduled day, then the shadow evaluation of its candidates.
      action: {
        type: 'startWorkflow',
        workflowType: 'weeklyRetrainWorkflow',
        workflowId: 'retrain-scheduled',
        taskQueue: cfg.temporal.taskQueue,
        args: [],
      },
      policies: {
        // Retraining takes minutes to hours on the full data: never two at once, and a skipped week waits for the next.
        overlap: ScheduleOverlapPolicy.SKIP,
        catchupWindow: '6 hours',
        pauseOnFailure: false,
      },
    },
  ];
}

async function withClient<T>(work: (client: Client, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  await stackUp(cfg, ['temporal']);
  const connection = await Connection.connect({ address: temporalAddress(cfg) });
  try {
    return await work(new Client({ connection, namespace: cfg.temporal.namespace }), cfg);
  } finally {
    await connection.close();
  }
}

export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description('Temporal Schedules: the daily pipeline and the weekly retrain');
  schedule
    .command('create')
    .description(`Create ${Object.values(SCHEDULE_IDS).join(' and ')} (existing ones are left as they are)`)
    .option('--at <HH:MM>', 'daily pipeline time, UTC', '02:00')
    .option('--retrain-day <day>', 'weekly retrain day', 'sunday')
    .option('--retrain-at <HH:MM>', 'weekly retrain time, UTC', '03:00')
    .action(async (opts: { at: string; retrainDay: string; retrainAt: string }) => {
      await withClient(async (client, cfg) => {
        for (const definition of scheduleDefinitions(cfg, opts)) {
          try {
            await client.schedule.create(definition);
            console.log(`Created ${definition.scheduleId}.`);
          } catch (err) {
            if (!(err instanceof ScheduleAlreadyRunning)) throw err;
            console.log(`${definition.scheduleId} exists: left as it is (delete it first to change it).`);
          }
        }
      });
    });
  schedule
    .command('list')
    .description('List schedules: paused or not, next run, last run')
    .action(async () => {
      await withClient(async (client) => {
        const rows: string[][] = [];
        for await (const s of client.schedule.list()) {
          const d = await client.schedule.getHandle(s.scheduleId).describe();
          const last = d.info.recentActions.at(-1);
          rows.push([
            s.scheduleId,
            d.action.type === 'startWorkflow' ? d.action.workflowType : '-',
            d.state.paused ? `paused${d.state.note ? ` (${d.state.note})` : ''}` : 'active',
            d.info.nextActionTimes[0]?.toISOString() ?? '-',
            last ? `${last.takenAt.toISOString()} ${last.action.workflow.workflowId}` : '-',
          ]);
        }
        console.log(table(['schedule', 'workflow', 'state', 'next run', 'last run'], rows));
      });
    });
  const one = (name: string, description: string, act: (client: Client, id: string, note?: string) => Promise<string>) =>
    schedule
      .command(name)
      .description(description)
      .argument('<schedule_id>')
      .option('--note <text>', 'why (shown by list)')
      .action(async (id: string, opts: { note?: string }) => {
        await withClient(async (client) => console.log(await act(client, id, opts.note)));
      });
  one('pause', 'Pause a schedule', async (c, id, note) => (await c.schedule.getHandle(id).pause(note), `Paused ${id}.`));
  one('unpause', 'Unpause a schedule', async (c, id, note) => (await c.schedule.getHandle(id).unpause(note), `Unpaused ${id}.`));
  one(
    'trigger',
    'Run a schedule now (its overlap policy applies)',
    async (c, id) => (await c.schedule.getHandle(id).trigger(), `Triggered ${id}.`),
  );
  one(
    'delete',
    'Delete a schedule (running workflows go on)',
    async (c, id) => (await c.schedule.getHandle(id).delete(), `Deleted ${id}.`),
  );
}
