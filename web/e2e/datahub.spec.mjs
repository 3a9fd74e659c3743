// A data manager's round trip in a real browser against a real `cube serve`: create a dataset, upload a CSV and a
// folder of PNGs in resumable chunks (one chunk's request is lost on the way), commit, read the preview, statistics
// and thumbnails, make a second version, compare the two, follow the lineage; then an API token's life.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminPassword, apiAs, artifacts, launchBrowser, png, startCube } from './cube.mjs';

const timeout = 30_000;
let cube, admin, browser, files;

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

describe('datasets in the browser', { timeout: 180_000 }, () => {
  before(async () => {
    cube = await startCube();
    admin = await apiAs(cube.url, 'admin', adminPassword);
    await admin.post('/api/projects', { slug: 'lab', name: 'Lab' });
    browser = await launchBrowser();
    files = mkdtempSync(path.join(os.tmpdir(), 'cube-e2e-files-'));
    mkdirSync(path.join(files, 'photos'));
    writeFileSync(path.join(files, 'photos', 'red.png'), png(64, 48, [240, 240, 240], { x: 8, y: 8, width: 30, height: 20, color: [220, 40, 40] }));
    writeFileSync(path.join(files, 'photos', 'blue.png'), png(40, 40, [240, 240, 240], { x: 4, y: 4, width: 20, height: 30, color: [40, 40, 220] }));
  });

  after(async () => {
    await browser?.close();
    await cube?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  test('upload with progress and resume, statistics and thumbnails, a second version and its diff', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/p/lab/datasets');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByLabel('Dataset name').fill('cars');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL('**/p/lab/datasets/cars');
    await page.getByText('cars has no versions yet.').waitFor();

    // The first PUT of red.png is lost on the way: the uploader re-reads the session and sends it again.
    let lost = 0;
    await page.route('**/uploads/*/files/**', route => {
      if (lost === 0 && route.request().url().includes('red.png')) { lost++; return route.abort('connectionreset'); }
      return route.continue();
    });
    const csv = 'id,price,city\n1,10.5,Paris\n2,12.0,Lyon\n3,30.25,Paris\n4,8.0,Nice\n';
    await page.getByLabel('Add files').setInputFiles({ name: 'cars.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByLabel('Add a folder').setInputFiles(path.join(files, 'photos'));
    assert.deepEqual(await page.getByTestId('upload-file').evaluateAll(rows => rows.map(r => r.dataset.path)), ['cars.csv', 'photos/blue.png', 'photos/red.png']);
    await page.getByLabel('Message').fill('first cars');
    await page.getByRole('button', { name: 'Upload and commit' }).click();
    const status = page.getByRole('status');
    await status.getByText('Committed 3 files as v1.').waitFor();
    assert.equal(lost, 1, 'one chunk request was lost and resent');
    for (const bar of await page.locator('progress').all())
      assert.equal(await bar.evaluate(p => p.value === p.max), true, `${await bar.getAttribute('aria-label')} is full`);
    assert.match(await page.getByTestId('upload-overall').textContent(), /^([\d,]+) of \1 bytes$/);
    await shot(page, 'datahub-upload');

    await status.getByRole('link', { name: 'Open v1' }).click();
    await page.getByRole('heading', { name: 'cars v1' }).waitFor();
    const preview = page.getByLabel('Preview of cars.csv');
    await preview.locator('tbody tr').nth(3).waitFor();
    assert.equal(await preview.locator('tbody tr').count(), 4);
    const bins = page.getByLabel('Histogram of price').getByTestId('histogram-bin');
    await bins.first().waitFor();
    assert.equal(await bins.evaluateAll(b => b.reduce((n, r) => n + Number(r.dataset.count), 0)), 4, 'the price histogram counts the 4 rows');
    await page.getByLabel('Top values of city').getByText('Paris').waitFor();
    await shot(page, 'datahub-statistics');

    await page.getByRole('tab', { name: 'Images' }).click();
    await page.getByTestId('image-tile').nth(1).waitFor();
    assert.equal(await page.getByTestId('image-tile').count(), 2);
    await page.waitForFunction(() => [...document.querySelectorAll('.image-grid img')].every(i => i.complete && i.naturalWidth > 0));

    // Version 2: two more rows and a new column, on top of v1.
    await page.getByRole('link', { name: '← cars' }).click();
    const csv2 = 'id,price,city,colour\n1,10.5,Paris,red\n2,12.0,Lyon,blue\n3,30.25,Paris,red\n4,8.0,Nice,grey\n5,15.5,Lille,red\n6,21.0,Metz,blue\n';
    await page.getByLabel('Add files').setInputFiles({ name: 'cars.csv', mimeType: 'text/csv', buffer: Buffer.from(csv2) });
    await page.getByLabel('Message').fill('more cars');
    await page.getByRole('button', { name: 'Upload and commit' }).click();
    await page.getByRole('status').getByRole('link', { name: 'Open v2' }).click();
    await page.getByRole('heading', { name: 'cars v2' }).waitFor();

    await page.getByRole('tab', { name: 'Compare' }).click();
    const diff = page.getByTestId('diff');
    await diff.getByText('v1 → v2: 0 added, 0 removed, 1 changed').waitFor();
    const change = diff.getByTestId('table-change');
    assert.match(await change.textContent(), /4 → 6 \(\+2\)/);
    assert.match(await change.textContent(), /\+colour/);
    await shot(page, 'datahub-diff');

    await page.getByRole('tab', { name: 'Lineage' }).click();
    await page.getByLabel('cars v1').click();
    await page.getByRole('heading', { name: 'cars v1' }).waitFor();
    await context.close();
  });

  test('an API token is shown once, works, and stops working when revoked', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/tokens');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Token name').fill('ci');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.getByTestId('token-secret').textContent();
    const asToken = () => fetch(`${cube.url}/api/me`, { headers: { Authorization: `Bearer ${secret}` } }).then(r => r.status);
    assert.equal(await asToken(), 200);
    const row = page.getByTestId('token-row').filter({ hasText: 'ci' });
    await row.getByText('active').waitFor();
    page.once('dialog', d => d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText(/revoked/).waitFor();
    assert.equal(await asToken(), 401);
    await context.close();
  });
});
