// A feature pipeline in a real browser against a real `cube serve`: a small CSV becomes a dataset, a pipeline is
// written in YAML, validated (first with a typo the server suggests a fix for), saved; a step's schema and preview rows
// open from the DAG; a run writes a new version of the output dataset; the spec, shown again as YAML, saves as version
// 2; and the run's link opens the output version. A second test schedules a pipeline from its Schedules tab, pauses and
// resumes it, and backfills one day.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminPassword, apiAs, artifacts, launchBrowser, startCube } from './cube.mjs';

const timeout = 30_000;
let cube, admin, browser;

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

const csv = ['id,amount,score,country', '1,10.5,3,FR', '2,,4,DE', '3,30.25,,FR', '4,8,5,IT', '5,12,2,FR', '6,,1,DE', '7,7.5,4,FR', '8,22,,IT'].join('\n') + '\n';

const spec = (column) => `name: churn
inputs:
  events: {dataset: events, table: events.csv}
steps:
  - {name: fill, op: impute, columns: [score], strategy: median}
  - {name: scale, op: standardize, columns: [${column}]}
  - {name: encode, op: onehot, column: country, unknown: other}
  - {name: keep, op: filter, expr: "amount is not null"}
output: keep
`;

describe('feature pipelines in the browser', { timeout: 240_000 }, () => {
  before(async () => {
    cube = await startCube();
    admin = await apiAs(cube.url, 'admin', adminPassword);
    await admin.post('/api/projects', { slug: 'lab', name: 'Lab' });
    for (const name of ['events', 'features-out']) await admin.post('/api/projects/lab/datasets', { name, kind: 'tabular' });
    const session = await admin.post('/api/projects/lab/datasets/events/uploads');
    await admin.put(`/api/projects/lab/datasets/events/uploads/${session.id}/files/events.csv`, new Uint8Array(Buffer.from(csv)));
    await admin.post(`/api/projects/lab/datasets/events/uploads/${session.id}/commit`, { message: 'eight events', wait: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await cube?.stop();
  });

  test('write, validate, preview a step, run, and open the output version', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/p/lab/features');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No pipelines yet.').waitFor();
    await page.getByRole('link', { name: 'New pipeline' }).click();
    await page.waitForURL('**/p/lab/features/new');
    await page.getByTestId('operator').filter({ hasText: 'onehot' }).waitFor();

    // A typo in a column: the server names the step and field and suggests the closest column.
    await page.getByLabel('Pipeline name').fill('churn');
    await page.getByLabel('Spec (YAML)').fill(spec('amont'));
    await page.getByRole('button', { name: 'Validate' }).click();
    const problem = page.getByTestId('validation-error').filter({ hasText: 'amont' });
    await problem.waitFor();
    assert.equal(await problem.getAttribute('data-step'), 'scale');
    assert.equal(await problem.getByTestId('suggestion').textContent(), 'Suggestion: amount');
    await shot(page, 'features-validation');

    await page.getByLabel('Spec (YAML)').fill(spec('amount'));
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByRole('status').getByText('Valid: 4 steps.').waitFor();
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    await page.waitForURL('**/p/lab/features/pipelines/churn');
    await page.getByRole('heading', { name: 'churn v1' }).waitFor();

    // The DAG: input, four steps, output, in five layers left to right.
    const nodes = page.getByTestId('dag-node');
    await nodes.nth(5).waitFor();
    assert.deepEqual(await nodes.evaluateAll(ns => ns.map(n => `${n.dataset.kind}@${n.dataset.layer}`)),
      ['input@0', 'step@1', 'step@2', 'step@3', 'step@4', 'output@5']);
    assert.equal(await page.getByTestId('dag-edge').count(), 5);

    await page.getByRole('button', { name: 'Step encode' }).click();
    const panel = page.getByRole('region', { name: 'Step encode' });
    await panel.waitFor();
    const output = panel.getByLabel('Output schema of encode');
    await output.getByText('country_FR').waitFor();
    assert.ok((await panel.getByLabel('Input schema of encode').textContent()).includes('country'));
    assert.equal(await panel.getByLabel('Preview rows of encode').locator('tbody tr').count(), 8);
    await shot(page, 'features-pipeline');

    await page.getByRole('button', { name: 'Step keep' }).click();
    const keep = page.getByRole('region', { name: 'Step keep' });
    await keep.getByLabel('Preview rows of keep').waitFor();
    assert.equal(await keep.getByLabel('Preview rows of keep').locator('tbody tr').count(), 6, 'two rows without an amount are filtered out');

    await page.getByLabel('Output dataset').fill('features-out');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const run = page.getByTestId('run-row').first();
    await page.locator('[data-testid=run-row][data-state=succeeded]').waitFor({ timeout: 120_000 });
    assert.match(await run.textContent(), /keep 6 rows/);
    await shot(page, 'features-run');

    // The stored spec comes back as YAML the server reads again: saving it unchanged makes version 2.
    await page.getByRole('tab', { name: 'Spec' }).click();
    const yaml = await page.getByLabel('Spec (YAML)').inputValue();
    assert.match(yaml, /^name: churn\n/);
    assert.match(yaml, /\n    expr: amount is not null\n/);
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('heading', { name: 'churn v2' }).waitFor();
    await page.getByTestId('dag-node').nth(5).waitFor();

    await page.getByTestId('run-row').first().getByRole('link', { name: 'features-out v1' }).click();
    await page.getByRole('heading', { name: 'features-out v1' }).waitFor();
    await page.getByLabel('Preview of churn.parquet').locator('tbody tr').nth(5).waitFor();
    await shot(page, 'features-output-version');
    await context.close();
  });

  test('create a schedule, see its next runs, pause it, and backfill a day', async () => {
    await admin.post('/api/projects/lab/features/pipelines', { name: 'nightly', spec: spec('amount').replace('name: churn', 'name: nightly') });
    const context = await browser.browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/p/lab/features/pipelines/nightly');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'nightly v1' }).waitFor();
    await page.getByRole('tab', { name: 'Schedules' }).click();
    await page.getByText('No schedules yet.').waitFor();

    // A bad cron: the server's problem shows under the form; fixed, the schedule is listed with its next five runs.
    await page.getByRole('button', { name: 'New schedule' }).click();
    await page.getByLabel('Schedule name').fill('daily-3am');
    await page.getByLabel('Cron').fill('0 25 * * *');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByLabel('Schedule output dataset').fill('features-out');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a valid cron expression' }).waitFor();
    await page.getByLabel('Cron').fill('0 3 * * *');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const row = page.locator('[data-testid=schedule-row][data-name="daily-3am"]');
    await row.waitFor();
    assert.equal(await row.getByLabel('Next runs of daily-3am').locator('li').count(), 5);
    assert.match(await row.textContent(), /0 3 \* \* \*\s*Europe\/Paris/);
    await shot(page, 'features-schedules');

    await row.getByRole('button', { name: 'Pause' }).click();
    await page.locator('[data-testid=schedule-row][data-name="daily-3am"][data-enabled=false]').waitFor();
    await row.getByRole('button', { name: 'Resume' }).click();
    await page.locator('[data-testid=schedule-row][data-name="daily-3am"][data-enabled=true]').waitFor();

    // A one-day backfill runs the pipeline for that date and reports its progress to the end.
    await row.getByRole('button', { name: 'Backfill' }).click();
    await page.getByLabel('Backfill from').fill('2026-11-30');
    await page.getByLabel('Backfill to').fill('2026-11-30');
    await page.getByRole('button', { name: 'Start backfill' }).click();
    const backfill = page.locator('[data-testid=backfill][data-done=true]');
    await backfill.waitFor({ timeout: 120_000 });
    assert.match(await backfill.textContent(), /1 of 1/);
    assert.match(await backfill.textContent(), /1 succeeded/);
    await shot(page, 'features-backfill');
    await context.close();
  });
});
