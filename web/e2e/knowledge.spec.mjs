// A knowledge base in a real browser against a real `cube serve` (no language model configured, so answers are
// extractive): create it, upload a folder with Markdown, text and a two-page PDF, watch ingestion finish, run a
// retrieval test, ask in chat, open a citation's passage, find the conversation again after a reload, delete a document.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminPassword, apiAs, artifacts, launchBrowser, png, startCube, until } from './cube.mjs';

const timeout = 30_000;
let cube, admin, browser, files;

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

/** A PDF with one page per entry of `pages` (lines of Helvetica text), its cross-reference table at the right offsets. */
function pdf(pages) {
  const escape = s => s.replace(/[\\()]/g, c => `\\${c}`);
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '', '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'];
  const kids = [];
  for (const lines of pages) {
    const content = `BT /F1 12 Tf 72 740 Td 16 TL ${lines.map(l => `(${escape(l)}) Tj T*`).join(' ')} ET`;
    kids.push(`${objects.length + 1} 0 R`);
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${objects.length + 2} 0 R >>`);
    objects.push(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages.length} >>`;
  let out = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => { const at = out.length; out += `${i + 1} 0 obj\n${body}\nendobj\n`; return at; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map(o => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

describe('knowledge bases in the browser', { timeout: 240_000 }, () => {
  before(async () => {
    cube = await startCube();
    admin = await apiAs(cube.url, 'admin', adminPassword);
    await admin.post('/api/projects', { slug: 'lab', name: 'Lab' });
    browser = await launchBrowser();
    files = mkdtempSync(path.join(os.tmpdir(), 'cube-e2e-kb-'));
    const folder = path.join(files, 'handbook');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'setup.md'), [
      '# Setup', '', 'Install the agent with the package manager of your system.', '',
      '## Network', '', 'The gateway listens on port 8443 and speaks TLS only. Open port 8443 in the firewall before the first start.', '',
      '## Storage', '', 'Snapshots are kept for fourteen days in the archive bucket.', '',
    ].join('\n'));
    writeFileSync(path.join(folder, 'faq.txt'), 'Who may reset a password?\n\nOnly an administrator may reset a password, from the accounts page.\n');
    writeFileSync(path.join(folder, 'rollout.pdf'), pdf([
      ['Rollout plan', 'The pilot starts in the Lisbon office in March.'],
      ['Support', 'During the rollout the help desk answers within four hours.'],
    ]));
    writeFileSync(path.join(folder, 'broken.pdf'), Buffer.from('%PDF-1.4\nthis is not a PDF body\n'));
    writeFileSync(path.join(folder, 'logo.png'), png(8, 8, [255, 255, 255], { x: 0, y: 0, width: 4, height: 4, color: [0, 0, 0] }));
  });

  after(async () => {
    await browser?.close();
    await cube?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  test('create, upload a folder, ingest, search, chat with a citation', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(cube.url + '/p/lab');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Knowledge' }).click();
    await page.getByText('No knowledge bases yet.').waitFor();
    await page.getByLabel('Knowledge base name').fill('handbook');
    await page.getByLabel('Description').fill('Operations handbook');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL('**/p/lab/knowledge/handbook');
    await page.getByText('No documents yet.').waitFor();

    await page.getByLabel('Add a folder').setInputFiles(path.join(files, 'handbook'));
    assert.deepEqual(await page.getByTestId('upload-file').evaluateAll(rows => rows.map(r => r.dataset.path)),
      ['handbook/broken.pdf', 'handbook/faq.txt', 'handbook/rollout.pdf', 'handbook/setup.md']);
    await page.getByText('1 left out').click();
    await page.getByText('handbook/logo.png: not a supported format').waitFor();
    await page.getByRole('button', { name: 'Upload 4 files' }).click();
    await page.getByRole('status').filter({ hasText: '4 queued for ingestion.' }).waitFor();
    for (const bar of await page.locator('.upload progress').all())
      assert.equal(await bar.evaluate(p => p.value === p.max), true, `${await bar.getAttribute('aria-label')} is full`);

    // The page polls the documents while they are queued or processing: three end ready with chunks, the broken PDF
    // failed with the extractor's reason.
    const documents = page.getByTestId('document');
    await until('three ready documents and one failed', async () =>
      (await documents.evaluateAll(rows => rows.map(r => r.dataset.state).sort().join())) === 'failed,ready,ready,ready', 90_000, 250);
    assert.ok((await page.locator('[data-name="broken.pdf"]').getByTestId('document-error').textContent()).length > 0, 'the failure has a reason');
    const rows = await documents.evaluateAll(rows => rows.filter(r => r.dataset.state === 'ready')
      .map(r => [r.dataset.name, Number(r.children[2].textContent), r.children[3].textContent]));
    assert.deepEqual(rows.map(r => r[0]), ['faq.txt', 'rollout.pdf', 'setup.md']);
    assert.ok(rows.every(r => r[1] > 0), `every document has chunks: ${JSON.stringify(rows)}`);
    assert.equal(rows[1][2], '2', 'the PDF has two pages');
    await shot(page, 'knowledge-documents');

    await page.getByLabel('Query').fill('which port does the gateway use');
    await page.getByLabel('Search mode').selectOption('bm25');
    await page.getByLabel('Top k').fill('3');
    await page.getByRole('button', { name: 'Search' }).click();
    const hits = page.getByTestId('hit');
    await hits.first().waitFor();
    assert.ok(await hits.count() <= 3);
    assert.match(await hits.first().textContent(), /setup\.md|Setup/);
    assert.match(await hits.first().textContent(), /Network/);
    assert.ok((await hits.first().locator('.snippet mark').allTextContents()).some(m => /^(port|gateway)$/i.test(m)), 'the snippet marks the query words');
    await page.getByLabel('Search mode').selectOption('hybrid');
    await page.getByLabel('Query').fill('help desk answer time during rollout');
    await page.getByRole('button', { name: 'Search' }).click();
    await hits.first().filter({ hasText: 'page 2' }).waitFor();
    await shot(page, 'knowledge-retrieval');

    await page.locator('.page-head').getByRole('link', { name: 'Chat' }).click();
    await page.waitForURL('**/p/lab/knowledge/handbook/chat');
    await page.getByLabel('Question').fill('Which port must be opened in the firewall?');
    await page.getByLabel('Question').press('Enter');
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
    const answer = page.getByTestId('message-assistant');
    const citation = answer.getByTestId('citation').first();
    await citation.waitFor();
    assert.match(await answer.textContent(), /8443/);
    await citation.focus();
    await page.keyboard.press('Enter');
    const panel = page.getByTestId('passage-panel');
    await panel.waitFor();
    assert.match(await panel.textContent(), /setup\.md/);
    assert.match(await panel.getByTestId('passage-snippet').textContent(), /8443/);
    await panel.getByText('Whole passage').waitFor();
    await shot(page, 'knowledge-chat');

    // The session keeps both turns with the answer's citations: after a reload they come back and still link.
    await page.reload();
    await page.getByTestId('message-user').filter({ hasText: 'Which port must be opened in the firewall?' }).waitFor();
    await page.getByTestId('message-assistant').getByTestId('citation').first().click();
    await panel.waitFor();
    await page.getByRole('navigation', { name: 'Chat sessions' }).getByRole('link', { name: 'Which port must be opened in the firewall?' }).waitFor();

    // Replace a document (new content under its name; it is ingested again), then delete another.
    await page.getByRole('navigation', { name: 'Chat sessions' }).getByRole('link', { name: 'handbook' }).click();
    await page.getByLabel('Replace setup.md').setInputFiles({ name: 'setup-v2.md', mimeType: 'text/markdown',
      buffer: Buffer.from('# Setup\n\n## Network\n\nSince version 2 the gateway listens on port 9443.\n') });
    await page.getByRole('status').filter({ hasText: 'Replacing setup.md: queued for ingestion.' }).waitFor();
    await until('setup.md re-ingested', async () => {
      const docs = await admin.get('/api/projects/lab/knowledge/handbook/documents');
      const setup = docs.find(d => d.name === 'setup.md');
      return setup.state === 'ready' && setup.chunks === 1;
    }, 60_000, 250);
    await page.locator('[data-testid=document][data-name="setup.md"][data-state=ready]').waitFor();
    await page.getByLabel('Query').fill('9443');
    await page.getByRole('button', { name: 'Search' }).click();
    await hits.first().filter({ hasText: 'port 9443' }).waitFor();

    await page.getByRole('button', { name: 'Delete faq.txt' }).click();
    await page.getByRole('button', { name: 'Yes' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted faq.txt.' }).waitFor();
    await page.locator('[data-testid=document][data-name="faq.txt"]').waitFor({ state: 'detached' });
    assert.equal(await documents.count(), 3);
    const kb = await admin.get('/api/projects/lab/knowledge/handbook');
    assert.equal(kb.documents, 3);
    await context.close();
  });
});
