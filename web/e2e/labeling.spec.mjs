// The annotator's day in a real browser against a real `cube serve`: boxes on images and entity spans in text with
// hotkeys, a submit that survives a network drop, a reviewer's rejection that comes back to the same annotator.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { adminPassword, apiAs, launchBrowser, png, startCube, until } from './cube.mjs';
import { annotationOf as annotationIn, nextTask, shot, signIn as signInTo, timeout } from './labeling-kit.mjs';

const annotator = { userName: 'annie', password: 'annie-password-1' };
const reviewer = { userName: 'rita', password: 'rita-password-1' };
const texts = [
  ['Ada Lovelace wrote notes for Charles Babbage in London.', 'Ada Lovelace', 'Charles Babbage'],
  ['Grace Hopper worked at Remington Rand on the UNIVAC.', 'Grace Hopper', 'Remington Rand'],
  ['Alan Turing joined the University of Manchester in 1948.', 'Alan Turing', 'University of Manchester'],
  ['Katherine Johnson computed trajectories for NASA.', 'Katherine Johnson', 'NASA'],
  ['Linus Torvalds announced Linux while at the University of Helsinki.', 'Linus Torvalds', 'University of Helsinki'],
];

const signIn = (context, user) => signInTo(cube, context, user);
const annotationOf = (projectId, taskId) => annotationIn(admin, projectId, taskId);

let cube, admin, browser, boxesProject, nerProject;

async function drawBox(page, from, to) {
  const svg = page.locator('svg.boxes');
  await svg.waitFor();
  const area = await svg.boundingBox();
  await page.mouse.move(area.x + area.width * from, area.y + area.height * from);
  await page.mouse.down();
  await page.mouse.move(area.x + area.width * to, area.y + area.height * to, { steps: 6 });
  await page.mouse.up();
}

async function selectText(page, phrase) {
  await page.evaluate(target => {
    const container = document.querySelector('[data-testid=span-text]');
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(target);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + target.length);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return;
    }
    throw new Error(`'${target}' is not in a plain part of the text`);
  }, phrase);
}

describe('labeling in the browser', { timeout: 240_000 }, () => {
  before(async () => {
    cube = await startCube();
    admin = await apiAs(cube.url, 'admin', adminPassword);
    for (const user of [annotator, reviewer]) await admin.post('/api/users', { ...user, displayName: user.userName, isAdmin: false });
    await admin.post('/api/projects', { slug: 'demo', name: 'Demo' });
    await admin.put(`/api/projects/demo/members/${annotator.userName}`, { role: 'annotator' });
    await admin.put(`/api/projects/demo/members/${reviewer.userName}`, { role: 'reviewer' });

    await admin.post('/api/projects/demo/datasets', { name: 'street', kind: 'image' });
    const session = await admin.post('/api/projects/demo/datasets/street/uploads');
    const colors = [[200, 60, 60], [60, 160, 60], [60, 60, 200], [200, 160, 40], [120, 60, 160]];
    for (let i = 0; i < 5; i++) {
      const image = png(320, 240, [235, 235, 235], { x: 60 + i * 10, y: 50, width: 140, height: 100, color: colors[i] });
      await admin.put(`/api/projects/demo/datasets/street/uploads/${session.id}/files/img${i + 1}.png`, new Uint8Array(image));
    }
    await admin.post(`/api/projects/demo/datasets/street/uploads/${session.id}/commit`, { message: 'five street images', wait: true });

    boxesProject = await admin.post('/api/projects/demo/labeling', {
      name: 'Street boxes', config: { kind: 'BoundingBoxes', labels: [{ name: 'car' }, { name: 'person' }] }, reviewRate: 1, source: { dataset: 'street' },
    });
    nerProject = await admin.post('/api/projects/demo/labeling', {
      name: 'People and organisations', config: { kind: 'NamedEntities', labels: [{ name: 'PER' }, { name: 'ORG' }] }, reviewRate: 1,
    });
    await admin.post(`/api/projects/demo/labeling/${nerProject.id}/tasks`, { tasks: texts.map(([text]) => ({ data: { text } })) });
    ({ browser } = { browser: await launchBrowser() });
  });

  after(async () => {
    await browser?.close();
    await cube?.stop();
  });

  let annotatorPage;
  const imageTasks = [];

  test('an annotator draws boxes with hotkeys, and a submit during a network drop is retried without loss', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    annotatorPage = await signIn(context, annotator);
    const page = annotatorPage;
    await page.locator('tr', { hasText: 'Street boxes' }).getByRole('link', { name: 'Label' }).click();
    let task = await nextTask(page, null);
    for (let i = 0; i < 5; i++) {
      assert.ok(task, `image task ${i + 1} is leased`);
      imageTasks.push(task);
      if (i === 4) await page.keyboard.press('n'); // keyboard only: a new box in the middle
      else await drawBox(page, 0.2, 0.6);
      await page.locator('[data-testid=box]').first().waitFor();
      if (i % 2 === 1) {
        await page.keyboard.press('2'); // relabels the selected box
        await page.locator('[data-testid=box][data-label=person]').waitFor();
      }
      if (i === 2) {
        // The network drops while submitting: the PUT never reaches the server.
        let offline = true;
        let aborted = 0;
        await page.route('**/annotation', route => {
          if (offline && route.request().method() === 'PUT') { aborted++; return route.abort('internetdisconnected'); }
          return route.continue();
        });
        await page.keyboard.press('Enter');
        const banner = page.getByTestId('save-banner');
        await banner.waitFor();
        assert.match(await banner.textContent(), /Not saved yet/);
        assert.equal(await page.getByTestId('workbench').getAttribute('data-task'), task, 'the task stays on screen while unsaved');
        await shot(page, 'submit-retry-banner');
        assert.ok(aborted >= 1);
        offline = false; // the network is back: the automatic retry must deliver the same work
      } else {
        await page.keyboard.press('Enter');
      }
      const previous = task;
      task = await nextTask(page, previous);
      const saved = await annotationOf(boxesProject.id, previous);
      assert.equal(saved.status, 'submitted');
      assert.equal(saved.result.boxes.length, 1);
      assert.equal(saved.result.boxes[0].label, i % 2 === 1 ? 'person' : 'car');
      if (i === 0) await shot(page, 'boxes-workbench');
    }
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.getByTestId('no-more-tasks').waitFor();
  });

  test('the annotator marks entity spans with hotkeys, with undo and redo', async () => {
    const page = annotatorPage;
    await page.goto(`${cube.url}/p/demo`);
    await page.locator('tr', { hasText: 'People and organisations' }).getByRole('link', { name: 'Label' }).click();
    let task = await nextTask(page, null);
    for (let i = 0; i < 5; i++) {
      assert.ok(task, `text task ${i + 1} is leased`);
      const text = await page.getByTestId('span-text').textContent();
      const [, person, organisation] = texts.find(([t]) => t === text);
      await selectText(page, person);
      await page.keyboard.press('1');
      await page.locator('mark[data-label=PER]').waitFor();
      if (i === 0) {
        await page.keyboard.press('Control+z');
        await page.locator('mark[data-label=PER]').waitFor({ state: 'detached' });
        await page.keyboard.press('Control+Shift+Z');
        await page.locator('mark[data-label=PER]').waitFor();
      }
      await selectText(page, organisation);
      await page.keyboard.press('2');
      await page.locator('mark[data-label=ORG]').waitFor();
      if (i === 0) await shot(page, 'spans-workbench');
      await page.keyboard.press('Enter');
      const previous = task;
      task = await nextTask(page, previous);
      const saved = await annotationOf(nerProject.id, previous);
      assert.equal(saved.status, 'submitted');
      assert.deepEqual(saved.result.spans.map(s => [s.label, text.slice(s.start, s.end)]), [['PER', person], ['ORG', organisation]]);
    }
    await page.getByTestId('no-more-tasks').waitFor();
  });

  test('a reviewer rejects one box annotation and it comes back to the same annotator', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await signIn(context, reviewer);
    await page.goto(`${cube.url}/p/demo/labeling/${boxesProject.id}/review`);
    const item = page.getByTestId('review-item');
    await item.waitFor();
    const accepted = await item.getAttribute('data-annotation');
    await page.keyboard.press('a');
    await page.waitForFunction(id => document.querySelector('[data-testid=review-item]')?.getAttribute('data-annotation') !== id, accepted, { timeout });
    const rejected = await item.getAttribute('data-annotation');
    await page.keyboard.press('r');
    await page.getByLabel('What should the annotator fix?').fill('The box misses the right edge of the car.');
    await shot(page, 'review-reject');
    await page.keyboard.press('Enter');
    await page.waitForFunction(id => document.querySelector('[data-testid=review-item]')?.getAttribute('data-annotation') !== id, rejected, { timeout });

    // The dashboard charts progress and quality; the dataset browser lists the image dataset's version.
    await page.goto(`${cube.url}/p/demo/labeling/${boxesProject.id}`);
    await page.getByRole('img', { name: 'Progress' }).waitFor();
    await page.getByRole('img', { name: 'Pairwise mean IoU' }).or(page.getByText('Pairwise mean IoU')).first().waitFor();
    await shot(page, 'dashboard');
    // The reviewer exports the boxes as COCO from the dashboard: every image, the config's categories, the boxes.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout }),
      page.getByRole('navigation', { name: 'Export' }).getByRole('link', { name: 'COCO' }).click(),
    ]);
    const coco = JSON.parse(await readFile(await download.path(), 'utf8'));
    // Images with a counted result: four, since the rejected annotation no longer counts until it is resubmitted.
    assert.equal(coco.images.length, 4);
    assert.ok(coco.categories.length > 0);
    const imageIds = new Set(coco.images.map(i => i.id));
    assert.ok(coco.annotations.length >= 4, `COCO has ${coco.annotations.length} annotations`);
    for (const a of coco.annotations) {
      assert.ok(imageIds.has(a.image_id));
      assert.equal(a.bbox.length, 4);
    }
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByRole('button', { name: /street/ }).click();
    await page.getByRole('table', { name: 'Versions' }).getByText('five street images').waitFor();
    await context.close();

    const before = await admin.get(`/api/projects/demo/labeling/${boxesProject.id}/annotations/${rejected}`);
    assert.equal(before.status, 'rejected');
    assert.equal((await admin.get(`/api/projects/demo/labeling/${boxesProject.id}/annotations/${accepted}`)).reviewState, 'accepted');

    // The annotator gets the rejected task back, with the comment, fixes the box with the keyboard and resubmits.
    const work = annotatorPage;
    await work.goto(`${cube.url}/p/demo/labeling/${boxesProject.id}/work`);
    await until('the returned task', async () => (await work.getByTestId('workbench').getAttribute('data-task')) === before.taskId, timeout);
    assert.match(await work.getByTestId('review-comment').textContent(), /misses the right edge/);
    await work.keyboard.press('Tab');
    await work.locator('[data-testid=box].selected').waitFor();
    for (let i = 0; i < 3; i++) await work.keyboard.press('Shift+ArrowRight');
    await shot(work, 'returned-work');
    await work.keyboard.press('Enter');
    await nextTask(work, before.taskId);
    const after = await admin.get(`/api/projects/demo/labeling/${boxesProject.id}/annotations/${rejected}`);
    assert.equal(after.status, 'submitted');
    assert.equal(after.annotatorId, before.annotatorId);
    assert.equal(after.result.boxes[0].x, before.result.boxes[0].x + 30);
  });
});
