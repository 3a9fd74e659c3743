// Steps the labeling end-to-end specs share: signing in, waiting for the workbench's next task, screenshots, and
// reading an annotation back through the API.
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts } from './cube.mjs';

export const timeout = 60_000;

/** Opens a page in `context`, signs `user` in on `cube` and waits for the labeling home. */
export async function signIn(cube, context, user) {
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  await page.goto(cube.url + '/');
  await page.getByLabel('User name').fill(user.userName);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Labeling' }).waitFor();
  return page;
}

export const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

/** Waits until the workbench shows a task other than `previous` (or says there are none) and returns its id. */
export async function nextTask(page, previous) {
  await page.waitForFunction(prev => {
    const bench = document.querySelector('[data-testid=workbench]');
    return document.querySelector('[data-testid=no-more-tasks]') || (bench && bench.getAttribute('data-task') !== prev);
  }, previous, { timeout });
  return page.locator('[data-testid=workbench]').getAttribute('data-task', { timeout: 1000 }).catch(() => null);
}

/** The one annotation of a task in the `demo` project, read as `admin`. */
export async function annotationOf(admin, projectId, taskId) {
  const page = await admin.get(`/api/projects/demo/labeling/${projectId}/annotations?task=${taskId}`);
  assert.equal(page.items.length, 1, `one annotation of task ${taskId}`);
  return page.items[0];
}
