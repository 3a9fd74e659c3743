// A data scientist's round trip in a real browser against a real `cube serve`: a CSV table uploaded to DataHub,
// a built-in ML.NET job submitted from the Training page, followed live until it succeeds (state, logs, metric
// charts), its registered model opened and promoted; a second run compared with the first; GPU jobs waiting in
// the project's queue shown with their place, and cancelled from the list.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminPassword, apiAs, artifacts, launchBrowser, startCube, until } from './cube.mjs';

const timeout = 60_000;
let cube, admin, browser;

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

/** Churn decided by x1 + x2 and the plan: a separable binary problem with a categorical feature, seeded. */
function churnCsv(rows) {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const plans = ['basic', 'plus', 'pro'];
  const lines = ['id,x1,x2,plan,active,churned'];
  for (let i = 0; i < rows; i++) {
    const x1 = random(), x2 = random(), plan = plans[Math.floor(random() * 3)];
    lines.push(`c${i},${x1.toFixed(4)},${x2.toFixed(4)},${plan},${random() < 0.5},${x1 + x2 + (plan === 'pro' ? -0.4 : 0) > 1}`);
  }
  return lines.join('\n') + '\n';
}

const spec = (name, trees) => ({
  name, experiment: 'churn', framework: 'mlnet', inputs: [{ dataset: 'churn', version: 'latest' }],
  hyperparameters: { task: 'binary', trainer: 'fasttree', label: 'churned', features: 'x1,x2,plan,active', trees: String(trees), seed: '3', model: 'churn-model' },
});

describe('training in the browser', { timeout: 300_000 }, () => {
  before(async () => {
    cube = await startCube();
    admin = await apiAs(cube.url, 'admin', adminPassword);
    await admin.post('/api/projects', { slug: 'ml', name: 'ML' });
    await admin.post('/api/projects/ml/datasets', { name: 'churn', description: 'customers', kind: 'tabular', tags: [] });
    const session = await admin.post('/api/projects/ml/datasets/churn/uploads');
    await admin.put(`/api/projects/ml/datasets/churn/uploads/${session.id}/files/customers.csv`, new Uint8Array(Buffer.from(churnCsv(600))));
    await admin.post(`/api/projects/ml/datasets/churn/uploads/${session.id}/commit`, { message: 'customers', wait: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await cube?.stop();
  });

  test('submit an ML.NET job, watch it finish, read its metrics and logs, open and promote its model, compare two runs', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/p/ml');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Training' }).click();
    await page.getByText('No training jobs yet.').waitFor();

    // A bad spec is refused field by field, and nothing is submitted.
    await page.getByLabel('Job spec').fill(JSON.stringify({ ...spec('churn-a', 20), hyperparameters: { task: 'binary', label: 'nope' } }));
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('form', { name: 'New training job' }).getByRole('alert').filter({ hasText: 'nope' }).waitFor();

    await page.getByLabel('Job spec').fill(JSON.stringify(spec('churn-a', 20), null, 2));
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/\/p\/ml\/training\/jobs\/[0-9a-f-]+$/);
    const firstId = page.url().split('/').at(-1);
    await page.getByTestId('job-state').filter({ hasText: 'succeeded' }).waitFor({ timeout: 180_000 });

    // Metrics: one chart per metric the trainer reported, each with its point.
    const metricNames = page.getByTestId('metric');
    await metricNames.nth(3).waitFor();
    assert.deepEqual(await metricNames.evaluateAll(ms => ms.map(m => m.dataset.name)), ['accuracy', 'auc', 'f1', 'log_loss']);
    assert.equal(await page.getByRole('img', { name: 'accuracy' }).getByTestId('chart-line').getAttribute('data-points'), '1');
    // Logs: the trainer's lines, read to the end after the job finished.
    const log = page.getByTestId('log-line');
    await log.filter({ hasText: /^trained in .* model saved as model\.zip/ }).waitFor();
    await page.getByText(/^(\d+) of \1 lines$/).waitFor();
    assert.ok((await log.allTextContents()).some(l => l.startsWith('read 600 rows')));
    // Params, the input's dataset version, the artifact.
    assert.equal(await page.getByRole('table', { name: 'Params' }).getByRole('row').filter({ hasText: 'trees' }).getByRole('cell').textContent(), '20');
    await page.getByRole('link', { name: 'churn v1' }).waitFor();
    await page.getByRole('table', { name: 'Artifacts' }).getByRole('link', { name: 'model.zip' }).waitFor();
    await page.getByRole('list', { name: 'Timeline' }).getByText(/^Succeeded /).waitFor();
    await shot(page, 'training-job');

    // The registered model version, with its metrics, signature and lineage; promoted to production.
    await page.getByTestId('model-versions').getByRole('link', { name: 'churn-model v1' }).click();
    await page.getByRole('heading', { name: 'churn-model' }).waitFor();
    const v1 = page.getByRole('article', { name: 'Version 1' });
    await v1.getByText('mlnet').waitFor();
    const accuracy = Number(await v1.getByRole('table', { name: 'Metrics of v1' }).getByRole('row').filter({ hasText: 'accuracy' }).getByRole('cell').textContent());
    assert.ok(accuracy > 0.85, `accuracy ${accuracy}`);
    await v1.getByLabel('Signature of v1').getByText('plan: utf8').waitFor();
    await v1.getByRole('link', { name: 'churn v1' }).waitFor();
    await v1.getByLabel('Alias for v1').fill('production');
    await v1.getByRole('button', { name: 'Point alias here' }).click();
    await v1.getByTestId('alias').filter({ hasText: 'production' }).waitFor();
    assert.equal((await admin.get('/api/projects/ml/training/models/churn-model/versions/production')).number, 1);
    await shot(page, 'training-model');
    await v1.getByRole('link', { name: 'training job' }).click();
    await page.waitForURL(`**/training/jobs/${firstId}`);

    // A second run with more trees, then both side by side.
    const second = await admin.post('/api/projects/ml/training/jobs', spec('churn-b', 60));
    await until('the second run to finish', async () => (await admin.get(`/api/projects/ml/training/jobs/${second.id}`)).job.state === 'succeeded', 180_000, 250);
    await page.getByRole('link', { name: '← Training jobs' }).click();
    await page.getByTestId('job').nth(1).waitFor();
    await page.getByLabel('Compare churn-a').check();
    await page.getByLabel('Compare churn-b').check();
    await page.getByRole('button', { name: 'Compare 2 runs' }).click();
    await page.getByRole('heading', { name: 'Comparing 2 runs' }).waitFor();
    const trees = page.getByTestId('param-row').filter({ has: page.getByRole('rowheader', { name: 'trees' }) });
    assert.deepEqual(await trees.getByRole('cell').allTextContents(), ['20', '60']);
    assert.equal(await trees.getAttribute('class'), 'differs');
    const auc = page.getByTestId('metric-row').filter({ has: page.getByRole('rowheader', { name: 'auc' }) });
    assert.equal((await auc.getByRole('cell').allTextContents()).filter(v => Number(v) > 0.9).length, 2);
    assert.deepEqual(await page.getByRole('img', { name: 'auc' }).getByTestId('chart-line').evaluateAll(ls => ls.map(l => l.dataset.series)), ['churn-a', 'churn-b']);
    await shot(page, 'training-compare');
    await context.close();
  });

  test('GPU jobs beyond the quota show their place in the queue and are cancelled from the list', async () => {
    await admin.put('/api/projects/ml/training/quota', { maxGpus: 1 });
    const gpuJob = (name) => ({ name, distribution: 'local', command: ['/bin/sh', '-c', 'echo holding a gpu; sleep 120'], resources: { gpus: 1 } });
    const holder = await admin.post('/api/projects/ml/training/jobs', gpuJob('holder'));
    await until('the holder to run', async () => (await admin.get(`/api/projects/ml/training/jobs/${holder.id}`)).job.state === 'running', 60_000, 200);
    await admin.post('/api/projects/ml/training/jobs', gpuJob('waiter'));

    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/p/ml/training');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = name => page.locator(`[data-testid="job"][data-name="${name}"]`);
    await row('holder').and(page.locator('[data-state="running"]')).waitFor();
    await row('waiter').getByTestId('queue-position').filter({ hasText: '#1' }).waitFor();
    await page.getByTestId('quota').filter({ hasText: '1 of 1 GPUs in use, 1 waiting' }).waitFor();
    await shot(page, 'training-queue');

    // The list follows the cancellations by itself, without a reload.
    await row('waiter').getByRole('button', { name: 'Cancel' }).click();
    await row('waiter').and(page.locator('[data-state="cancelled"]')).waitFor();
    await row('holder').getByRole('button', { name: 'Cancel' }).click();
    await row('holder').and(page.locator('[data-state="cancelled"]')).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    await page.getByTestId('quota').filter({ hasText: '0 of 1 GPUs in use' }).waitFor();
    await context.close();
  });
});
