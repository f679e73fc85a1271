// The web inbox in Debian's Chromium (headless), driven by playwright-core, against a running local stack.
// tests/e2e/test_web_inbox.py starts the stack and runs this file; by hand:
//   POSTBOX_URL=http://127.0.0.1:3000 POSTBOX_APP_TOKEN=$(.venv/bin/postbox token --app acme/billing) \
//     node --test web/test/
// One browser for every test; each test opens its own context (cookies, storage) in it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const BASE = process.env.POSTBOX_URL || 'http://127.0.0.1:3000';
const APP_TOKEN = process.env.POSTBOX_APP_TOKEN;
const SHOTS = process.env.POSTBOX_SCREENSHOTS;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// This machine's network is closed: anything that phones home makes Chromium hang.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = 15_000;
const DESKTOP = { width: 1280, height: 760 };
const PHONE = { width: 390, height: 844 };
const SMALL = { width: 320, height: 640 };
const run = `#${Date.now().toString(36).slice(-4)}`;  // tells this run's items from earlier ones
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser;
let downloads;

before(async () => {
  downloads = mkdtempSync(join(tmpdir(), 'postbox-web-'));
  // playwright-core never downloads a browser; each launch gets a fresh temporary user-data dir.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, downloadsPath: downloads, timeout: 30_000 });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  rmSync(downloads, { recursive: true, force: true });
});

// -- the API, as other users and apps -----------------------------------------------------------------------

const tokens = new Map();
async function tokenFor(user) {
  if (!tokens.has(user)) {
    const response = await fetch(`${BASE}/local/token?user=${user}`);
    assert.equal(response.status, 200, `no token for ${user}`);
    tokens.set(user, (await response.json()).token);
  }
  return tokens.get(user);
}

async function api(who, method, path, body) {
  const token = who === 'app' ? APP_TOKEN : await tokenFor(who);
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function send(from, to, text) {
  const { status, body } = await api(from, 'POST', '/api/v1/messaging', { target_type: 'user', target_id: to, message: text });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

/** Many messages, ten at a time (their order in the inbox follows their numbers only roughly). */
async function sendMany(from, to, count, text) {
  for (let start = 0; start < count; start += 10) {
    await Promise.all(Array.from({ length: Math.min(10, count - start) }, (_, i) => send(from, to, text(start + i))));
  }
}

const unreadCount = async (user) => (await api(user, 'GET', '/api/v1/inbox/counts')).body.unread;
/** Waits until the fan-out has put an item with this text in the user's inbox. */
async function delivered(user, text) {
  for (let i = 0; i < 100; i += 1) {
    if (await entryOf(user, text)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${text} never reached ${user}`);
}

const entryOf = async (user, text, query = '') => (await api(user, 'GET', `/api/v1/inbox?limit=100${query}`))
  .body.items.find((item) => item.text.includes(text));

// -- the page -----------------------------------------------------------------------------------------------

async function newUser(user, { viewport = DESKTOP, colorScheme = 'light', locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, locale, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  await page.goto(BASE);
  await page.locator('#signin-users input').first().waitFor();
  await page.locator(`#signin-users input[value="${user}"]`).check();
  await page.locator('#signin-local button[type="submit"]').click();
  await live(page);
  await settled(page);
  return { context, page, problems };
}

async function live(page) {
  await page.locator('#conn[data-status="live"]').waitFor({ timeout: WAIT });
}

async function settled(page) {
  await page.locator('#items[aria-busy="false"]').waitFor({ state: 'attached', timeout: WAIT });
}

const row = (page, text) => page.locator('#items li', { hasText: text });

async function rowAction(page, text, action) {
  await row(page, text).first().locator('.more-btn').click();
  await page.locator('#row-menu').getByRole('menuitem', { name: action, exact: true }).click();
}

async function expectBadge(page, unread) {
  await page.waitForFunction((expected) => {
    const el = document.querySelector('#unread-badge');
    return expected === 0 ? el.hidden : !el.hidden && el.firstChild?.textContent === String(expected);
  }, unread, { timeout: WAIT });
}

const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return { tag: el.tagName, id: el.id, cls: el.className, row: el.closest('li[data-id]')?.dataset.id ?? null,
    text: el.closest('li[data-id]')?.textContent ?? el.textContent };
});

/** A screenshot for the docs; the passing toasts (new items, sent, saved) are left out unless asked for. */
async function shot(page, name, { toasts = false } = {}) {
  if (!SHOTS) return;
  if (!toasts) await page.evaluate(() => { document.querySelector('#toasts').style.visibility = 'hidden'; });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  await page.evaluate(() => { document.querySelector('#toasts').style.visibility = ''; });
}

/** axe-core in the page: every violation of any impact, with what and where. */
async function axe(page, what) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { rules: { 'label-content-name-mismatch': { enabled: true } } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe on ${what}`);
}

async function axeBoth(page, what) {
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await axe(page, `${what} (${colorScheme})`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const overlaps = (a, b) => a && b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

// -- signing in ----------------------------------------------------------------------------------------------

test('sign-in lists the local directory, lands on the inbox, and the page loads without a console error', async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const console = [];
  page.on('console', (message) => { if (['error', 'warning'].includes(message.type())) console.push(message.text()); });
  page.on('pageerror', (error) => console.push(error.message));
  await page.goto(BASE);
  const users = page.locator('#signin-users input');
  await users.first().waitFor();
  const ids = await users.evaluateAll((inputs) => inputs.map((input) => input.value));
  assert.deepEqual(ids.slice().sort(), ['admin', 'alice', 'bob', 'carol', 'dave', 'erin']);  // frank is inactive
  await page.locator('#signin-users input[value="erin"]').check();
  await shot(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await live(page);
  await settled(page);
  const where = await page.evaluate(() => document.activeElement.closest('#inbox') !== null);
  assert.ok(where, 'focus lands in the inbox after sign-in');
  assert.equal(await page.locator('#whoami').textContent(), 'Erin Eko');
  assert.deepEqual(console, [], 'no console error or warning (the CSP lets mqtt.js start its worker)');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await context.close();
});

// -- live updates, filters, row menu ---------------------------------------------------------------------------

test('a message appears live with a toast; marking it read in a second tab drops the count in the first', async () => {
  const { context, page, problems } = await newUser('bob');
  await send('alice', 'bob', `Older note ${run}`);
  await send('erin', 'bob', `Field visit moved to Thursday ${run}`);
  await row(page, `Field visit moved to Thursday ${run}`).waitFor({ timeout: WAIT });
  const before = await unreadCount('bob');
  await expectBadge(page, before);

  const text = `Please check the register ${run}`;
  await send('carol', 'bob', text);
  const item = row(page, text);
  await item.waitFor({ timeout: WAIT });                         // no reload: it came over MQTT
  await page.locator('#toasts', { hasText: 'New message from Carol Chebet' }).waitFor({ timeout: WAIT });
  assert.equal(await item.getAttribute('data-read'), 'false');
  assert.equal(await item.locator('.from').textContent(), 'Carol Chebet');   // the display name, as for conversations
  await expectBadge(page, before + 1);
  assert.ok((await page.locator('#items li').first().textContent()).includes(text), 'newest first');

  const second = await context.newPage();                         // same browser session: no sign-in
  await second.goto(BASE);
  await live(second);
  await rowAction(second, text, 'Mark read');
  await second.locator('#items li[data-read="true"]', { hasText: text }).waitFor({ timeout: WAIT });
  await page.locator('#items li[data-read="true"]', { hasText: text }).waitFor({ timeout: WAIT });
  await expectBadge(page, before);
  assert.equal(await unreadCount('bob'), before);

  // Filters: unread hides it, kind=message keeps it.
  await page.locator('.segmented label', { hasText: 'Unread' }).click();
  await settled(page);
  await row(page, `Field visit moved to Thursday ${run}`).waitFor();
  assert.equal(await row(page, text).count(), 0);
  await page.locator('.segmented label', { hasText: 'All' }).click();
  await page.locator('#kind').selectOption('message');
  await settled(page);
  await row(page, text).waitFor();

  // Delete in the other tab: gone there at once, here once its Undo has passed (the toast dismissed).
  await rowAction(second, text, 'Delete');
  await row(second, text).waitFor({ state: 'detached' });
  await second.locator('.toast', { hasText: 'Deleted' }).getByRole('button', { name: 'Dismiss' }).click();
  await row(page, text).waitFor({ state: 'detached', timeout: WAIT });
  assert.deepEqual(problems, []);
  await context.close();
});

// -- compose and the recipient picker ------------------------------------------------------------------------------

test('the recipient picker finds people, groups and targets by name; refusals read as sentences', async () => {
  const { context, page } = await newUser('alice');
  await page.getByRole('button', { name: 'New message' }).click();
  const to = page.getByRole('combobox', { name: 'To' });
  await page.locator('#compose-text').fill(`Hello ${run}`);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose-error', { hasText: 'Pick a recipient from the list.' }).waitFor();

  await to.fill('nobody-here');
  await page.locator('#compose-options', { hasText: 'No one matches “nobody-here”.' }).waitFor({ timeout: WAIT });
  await to.fill('sign');
  await page.getByRole('option', { name: /Form signing key/ }).waitFor({ timeout: WAIT });
  await shot(page, 'compose');
  await to.press('Enter');                                        // the first match, by keyboard
  await page.locator('#compose-picked', { hasText: 'To Form signing key (signing key)' }).waitFor();
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose').waitFor({ state: 'hidden', timeout: WAIT });
  await page.locator('.toast', { hasText: 'Message sent to Form signing key' }).waitFor();
  const sent = (await api('alice', 'GET', '/api/v1/messaging?target_type=kmskey&target_id=key-1')).body;
  assert.ok(JSON.stringify(sent).includes(`Hello ${run}`), 'the message went to the key');

  // A group: a DHIS2 conversation, which needs a subject.
  await page.getByRole('button', { name: 'New message' }).click();
  await to.fill('field');
  await page.getByRole('option', { name: /field-team/ }).click();
  await page.locator('#compose-text').fill(`To the whole team ${run}`);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose-error', { hasText: 'A message to a group needs a subject.' }).waitFor();
  await page.locator('#compose-subject').fill(`Team meeting ${run}`);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose').waitFor({ state: 'hidden', timeout: WAIT });
  let arrived = null;
  for (let i = 0; i < 50 && !arrived; i += 1) {
    arrived = await entryOf('erin', `To the whole team ${run}`, '&kind=conversation');
    if (!arrived) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(arrived?.subject, `Team meeting ${run}`);

  // The API's refusal of a recipient becomes a sentence about that recipient.
  await page.getByRole('button', { name: 'New message' }).click();
  await to.fill('Carol');
  await page.getByRole('option', { name: /Carol Chebet/ }).click();
  await page.locator('#compose-text').fill('Hello?');
  await page.route('**/api/v1/messaging', (route) => route.fulfill({
    status: 400, contentType: 'application/json', body: JSON.stringify({ target_id: ['target_id not found'] }) }));
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose-error', { hasText: 'Carol Chebet cannot receive messages any more: pick someone else.' }).waitFor();
  assert.doesNotMatch(await page.locator('#compose-error').textContent(), /target_id/);
  await context.close();
});

test('a link from an email (#/message/{id}, #/conversation/{uid}) opens that item', async () => {
  const { context, page } = await newUser('erin');
  const text = `Link from an email ${run}`;
  const message = await send('bob', 'erin', text);
  await row(page, text).waitFor({ timeout: WAIT });
  const linked = await context.newPage();                         // a click in an email: a new tab
  await linked.goto(`${BASE}/#/message/${message.id}`);
  await linked.locator('#detail .body', { hasText: text }).waitFor({ timeout: WAIT });
  await linked.waitForFunction(() => location.hash === '');       // opened once: a reload shows the inbox
  await page.locator('#items li[data-read="true"]', { hasText: text }).waitFor({ timeout: WAIT });  // and read

  const created = await api('carol', 'POST', '/api/messageConversations',
    { subject: `Linked thread ${run}`, text: 'Opened from a link', users: [{ id: 'erin' }] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const uid = (await entryOf('erin', 'Opened from a link', '&kind=conversation')).source_id;
  await page.evaluate((hash) => { location.hash = hash; }, `#/conversation/${uid}`);   // already signed in
  await page.locator('#detail h2', { hasText: `Linked thread ${run}` }).waitFor({ timeout: WAIT });
  await context.close();
});

test('a conversation row shows its subject and the last sender who is not me; a reply goes in', async (t) => {
  const created = await api('carol', 'POST', '/api/messageConversations',
    { subject: `Stock-out at District 1 ${run}`, text: 'We are out of test kits. Can you confirm the order?', users: [{ id: 'bob' }] });
  if (created.status === 404) return t.skip('the DHIS2 conversations face is not deployed here');
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { context, page } = await newUser('bob');
  await page.locator('#kind').selectOption('conversation');
  const item = row(page, `Stock-out at District 1 ${run}`);
  await item.first().waitFor({ timeout: WAIT });
  assert.equal(await item.locator('.subject').textContent(), `Stock-out at District 1 ${run}`);
  await item.first().locator('button.open').click();
  await page.locator('#detail h2', { hasText: `Stock-out at District 1 ${run}` }).waitFor({ timeout: WAIT });
  const reply = `Confirmed: 200 kits arrive on Friday ${run}`;
  await page.locator('#reply-text').fill(reply);
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.locator('#detail .thread li', { hasText: reply }).waitFor({ timeout: WAIT });
  await page.locator('.toast', { hasText: 'Reply sent' }).waitFor();
  await shot(page, 'conversation');
  await row(page, reply).waitFor({ timeout: WAIT });             // my reply is the preview ...
  assert.equal(await row(page, reply).locator('.from').textContent(), 'Carol Chebet');   // ... carol stays the sender
  const seen = await api('carol', 'GET', `/api/messageConversations/${(await entryOf('bob', reply, '&kind=conversation')).source_id}`);
  assert.ok(seen.body.messages.some((m) => m.text === reply && m.sender.id === 'bob'), JSON.stringify(seen.body));
  await context.close();
});

test('an alert shows its content as text (never raw JSON) and a link to its frontend_url', async (t) => {
  if (!APP_TOKEN) return t.skip('no application token (POSTBOX_APP_TOKEN)');
  const alert = (content) => api('app', 'PUT', '/aalam/base/message', {
    message: { from: 'Billing', app: 'acme/billing', receiver: [{ type: 'users', value: ['bob@example.org'] }],
      content, frontend_url: 'https://billing.example.org/invoices/1042' },
  });
  const sent = await alert(`Invoice 1042 is due on 1 December ${run}`);
  if (sent.status === 404) return t.skip('the Aalam alerts face is not deployed here');
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  assert.equal((await alert({ title: `Meter reading ${run}`, reading: 1042, unit: 'kWh' })).status, 200);
  const { context, page } = await newUser('bob');
  await page.locator('#kind').selectOption('alert');
  const structured = row(page, `Meter reading ${run}`);
  await structured.waitFor({ timeout: WAIT });
  assert.match(await structured.locator('.text').textContent(), new RegExp(`^Meter reading ${run} · reading: 1042 · unit: kWh$`));
  await structured.locator('button.open').click();
  await page.locator('#detail .fields', { hasText: 'reading: 1042' }).waitFor({ timeout: WAIT });
  assert.doesNotMatch(await page.locator('#detail').innerText(), /[{}"]/);
  await row(page, `Invoice 1042 is due on 1 December ${run}`).locator('button.open').click();
  await page.locator('#detail h2', { hasText: 'Alert from Billing' }).waitFor({ timeout: WAIT });
  const link = page.getByRole('link', { name: /Open in the app/ });
  await link.waitFor();
  assert.match(await link.getAttribute('href'), /^https:\/\/billing\.example\.org\/invoices\/1042\?/);
  await shot(page, 'alert');
  await context.close();
});

test('an attachment uploads with a message and downloads on the other side', async (t) => {
  const probe = await api('erin', 'POST', '/api/v1/attachments', { filename: 'probe.txt', content_type: 'text/plain', size: 1 });
  if (probe.status === 404) return t.skip('the attachments face is not deployed here');
  const alice = await newUser('alice');
  const erin = await newUser('erin');
  const content = `Register, week 47 ${run}\nvillage,households\nA,12\nB,9\n`;
  await alice.page.getByRole('button', { name: 'New message' }).click();
  await alice.page.locator('#compose-to').fill('Erin');
  await alice.page.getByRole('option', { name: /Erin Eko/ }).click();
  await alice.page.locator('#compose-text').fill(`The register is attached ${run}`);
  await alice.page.locator('#compose-files').setInputFiles({ name: 'register.csv', mimeType: 'text/csv', buffer: Buffer.from(content) });
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  await alice.page.locator('#compose').waitFor({ state: 'hidden', timeout: WAIT });

  await row(erin.page, `The register is attached ${run}`).locator('button.open').click({ timeout: WAIT });
  const file = erin.page.getByRole('button', { name: 'Download register.csv' });
  await file.waitFor({ timeout: WAIT });
  await shot(erin.page, 'attachment');
  const [download] = await Promise.all([erin.page.waitForEvent('download'), file.click()]);
  assert.equal(download.suggestedFilename(), 'register.csv');
  assert.equal(readFileSync(await download.path(), 'utf8'), content);
  await alice.context.close();
  await erin.context.close();
});

test('a user never sees another user\'s items', async () => {
  const { context, page } = await newUser('dave');
  const secret = `For bob only ${run}`;
  const message = await send('carol', 'bob', secret);
  await send('alice', 'dave', `For dave ${run}`);
  await row(page, `For dave ${run}`).waitFor({ timeout: WAIT });   // dave's own arrives; bob's must not
  assert.equal(await row(page, secret).count(), 0);
  assert.equal(await row(page, 'Please check the register').count(), 0);
  const inbox = await api('dave', 'GET', '/api/v1/inbox?limit=100');
  assert.ok(inbox.body.items.every((item) => item.id !== message.id));
  const status = await page.evaluate(async (id) => {
    const { token } = JSON.parse(localStorage.getItem('postbox.session'));
    return (await fetch(`/api/v1/messaging/${id}`, { headers: { Authorization: `Bearer ${token}` } })).status;
  }, message.id);
  assert.equal(status, 403);
  await context.close();
});

test('a lost connection reconnects and re-syncs; offline is detected; errors offer Retry and clear', async () => {
  const { context, page } = await newUser('carol');
  assert.equal((await fetch(`${BASE}/local/broker/stop`, { method: 'POST' })).status, 200);
  try {
    await page.locator('#conn:not([data-status="live"])').waitFor({ timeout: WAIT });
    await send('erin', 'carol', `Sent while you were offline ${run}`);
  } finally {
    assert.equal((await fetch(`${BASE}/local/broker/start`, { method: 'POST' })).status, 200);
  }
  await live(page);
  await row(page, `Sent while you were offline ${run}`).waitFor({ timeout: WAIT });

  // The browser going offline shows at once, and clears when it comes back.
  await context.setOffline(true);
  await page.locator('#conn[data-status="offline"]').waitFor({ timeout: WAIT });
  await page.locator('#error', { hasText: 'You are offline' }).waitFor();
  await context.setOffline(false);
  await page.locator('#error').waitFor({ state: 'hidden', timeout: WAIT });

  // A failing API is a readable message with Retry, and the view shows no stale rows.
  await page.route('**/api/v1/inbox?**', (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: JSON.stringify({ message: 'Service Unavailable' }),
  }));
  await page.locator('.segmented label', { hasText: 'Unread' }).click();
  await page.locator('#error', { hasText: 'Service Unavailable' }).waitFor({ timeout: WAIT });
  await settled(page);
  assert.equal(await page.locator('#items li').count(), 0, 'no stale rows under Unread');
  await page.unroute('**/api/v1/inbox?**');
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.locator('#error').waitFor({ state: 'hidden', timeout: WAIT });
  await row(page, `Sent while you were offline ${run}`).waitFor({ timeout: WAIT });
  await context.close();
});

test('the inbox holds every kind, newest first, with user text marked dir=auto', async () => {
  const { context, page } = await newUser('bob');
  await send('alice', 'bob', `Training on Tuesday at 10:00 in the district office ${run}`);
  await send('alice', 'bob', `مرحبا بكم في الاجتماع ${run}`);
  await row(page, `مرحبا بكم في الاجتماع ${run}`).first().waitFor({ timeout: WAIT });
  await row(page, `Training on Tuesday at 10:00 in the district office ${run}`).first().waitFor({ timeout: WAIT });
  const kinds = new Set(await page.locator('#items li').evaluateAll((rows) => rows.map((r) => r.dataset.kind)));
  assert.ok(kinds.has('message'));
  const times = await page.locator('#items li time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime')));
  assert.deepEqual(times, times.slice().sort().reverse());
  assert.equal(await row(page, `مرحبا بكم في الاجتماع ${run}`).locator('.text').getAttribute('dir'), 'auto');
  await row(page, `Training on Tuesday`).first().locator('button.open').click();
  await page.locator('#detail .body', { hasText: 'Training on Tuesday' }).waitFor({ timeout: WAIT });
  assert.equal(await page.locator('#detail .body').getAttribute('dir'), 'auto');
  assert.doesNotMatch(await page.locator('#detail').innerText(), /\b(null|undefined)\b/);
  await shot(page, 'inbox');
  await context.close();
});

// -- mobile -----------------------------------------------------------------------------------------------------------

test('at 390x844 no row control overlaps its text; an item opens full-screen and Back restores the list', async (t) => {
  await sendMany('carol', 'erin', 8, (i) => `A rather long line about the district's stock levels, number ${i} ${run}`);
  const created = await api('carol', 'POST', '/api/messageConversations',
    { subject: `Phone thread ${run}`, text: 'Reply from your phone', users: [{ id: 'erin' }] });
  assert.equal(created.status, 201);
  const { context, page } = await newUser('erin', { viewport: PHONE });
  await row(page, `Phone thread ${run}`).waitFor({ timeout: WAIT });
  const boxes = await page.locator('#items li').evaluateAll((rows) => rows.map((li) => {
    const box = (sel) => { const r = li.querySelector(sel)?.getBoundingClientRect(); return r && { x: r.x, y: r.y, width: r.width, height: r.height }; };
    return { pick: box('.pick'), more: box('.more-btn'), texts: ['.from', '.line', 'time', '.tag'].map(box).filter((b) => b && b.width) };
  }));
  assert.ok(boxes.length >= 4);
  for (const [i, b] of boxes.entries()) {
    for (const text of b.texts) {
      assert.ok(!overlaps(b.pick, text) && !overlaps(b.more, text), `row ${i}: a control overlaps its text`);
      assert.ok(text.x + text.width <= PHONE.width, `row ${i}: text runs off the screen`);
    }
  }
  await shot(page, 'mobile-inbox');

  // Scroll the list, open an item: it fills the screen; Back returns to the same place, focus on its row.
  await page.evaluate(() => window.scrollTo(0, 120));
  const scrolled = await page.evaluate(() => window.scrollY);
  const target = row(page, `Phone thread ${run}`);
  const id = await target.getAttribute('data-id');
  await target.locator('.open').click();
  await page.locator('#detail h2', { hasText: `Phone thread ${run}` }).waitFor({ timeout: WAIT });
  const pane = await page.locator('#detail').boundingBox();
  assert.deepEqual([pane.x, pane.y, pane.width, pane.height], [0, 0, PHONE.width, PHONE.height], 'full-screen');
  for (const sel of ['#reply-text', '#reply-files', '.reply button[type="submit"]', '#detail .close', '#detail .delete']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${sel} fits the screen`);
  }
  await shot(page, 'mobile-conversation');
  await page.getByRole('button', { name: 'Back' }).click();
  await page.locator('#detail').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => window.scrollY), scrolled, 'the list is where it was');
  assert.equal((await focused(page)).row, id, 'focus is back on the row');

  // The row menu holds the row's actions.
  await target.locator('.more-btn').click();
  await page.getByRole('menuitem', { name: 'Archive' }).waitFor();
  await shot(page, 'mobile-menu');
  await page.keyboard.press('Escape');
  assert.equal((await focused(page)).cls, 'more-btn');
  await context.close();

  // 320 px: the compose form and the reply form fit.
  const small = await newUser('erin', { viewport: SMALL });
  await small.page.getByRole('button', { name: 'New message' }).click();
  for (const sel of ['#compose-to', '#compose-text', '#compose-files', '#compose-send', '#compose-cancel']) {
    const box = await small.page.locator(sel).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= SMALL.width, `${sel} fits 320 px`);
  }
  await shot(small.page, 'mobile-compose');
  await small.page.keyboard.press('Escape');
  await row(small.page, `Phone thread ${run}`).locator('.open').click();
  await small.page.locator('#reply-text').waitFor({ timeout: WAIT });
  for (const sel of ['#reply-text', '#reply-files', '.reply button[type="submit"]']) {
    const box = await small.page.locator(sel).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= SMALL.width, `${sel} fits 320 px`);
  }
  const width = await small.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= SMALL.width, `no sideways scrolling at 320 px (${width})`);
  await small.context.close();
  t.diagnostic('mobile layout measured');
});

// -- keyboard -----------------------------------------------------------------------------------------------------------

test('keyboard: one Tab stop for the list, arrows between rows, focus kept after Close, Delete, Load more', async () => {
  await sendMany('erin', 'dave', 52, (i) => `Keyboard item ${i} ${run}`);
  await delivered('dave', `Keyboard item 51 ${run}`);
  await delivered('dave', `Keyboard item 0 ${run}`);
  const { context, page } = await newUser('dave');
  await row(page, `Keyboard item 51 ${run}`).waitFor({ timeout: WAIT });
  const rows = page.locator('#items li');
  assert.equal(await rows.count(), 25);
  assert.equal(await page.locator('#items [tabindex="0"]').count(), 1, 'one Tab stop in the list');

  await page.locator('#select-all').focus();
  await page.keyboard.press('Tab');
  let now = await focused(page);
  assert.equal(now.row, await rows.nth(0).getAttribute('data-id'), 'Tab reaches the first row');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  now = await focused(page);
  assert.equal(now.row, await rows.nth(2).getAttribute('data-id'), 'arrows move between rows');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).row, null, 'one Tab leaves the list');
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).row, await rows.nth(2).getAttribute('data-id'), 'Shift+Tab comes back to the same row');

  // Enter opens; Escape closes and focus is back on the row.
  const third = await rows.nth(2).getAttribute('data-id');
  await page.keyboard.press('Enter');
  await page.locator('#detail h2').waitFor({ timeout: WAIT });
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  assert.equal((await focused(page)).row, third, 'Escape closes; focus on the row');
  // Close (the button) also returns focus to the row.
  await page.keyboard.press('Enter');
  await page.locator('#detail .close').click();
  assert.equal((await focused(page)).row, third, 'Close returns focus to the row');

  // Delete (the key) removes the row; focus goes to the next one. Undo brings it back, focused.
  const fourth = await rows.nth(3).getAttribute('data-id');
  await page.keyboard.press('Delete');
  await page.locator(`#items li[data-id="${third}"]`).waitFor({ state: 'detached' });
  assert.equal((await focused(page)).row, fourth, 'after Delete, focus on the next row');
  await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
  await page.locator(`#items li[data-id="${third}"]`).waitFor();
  assert.ok((await api('dave', 'GET', '/api/v1/inbox?limit=100')).body.items.some((i) => i.id === third), 'Undo: never deleted');
  // Delete from the open item's pane: focus on the next row too.
  await page.locator(`#items li[data-id="${third}"] .open`).click();
  await page.locator('#detail .delete').click();
  await page.locator(`#items li[data-id="${third}"]`).waitFor({ state: 'detached' });
  assert.equal((await focused(page)).row, fourth, 'after Delete in the pane, focus on the next row');
  await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
  await page.locator(`#items li[data-id="${third}"]`).waitFor();

  // Load more keeps focus on itself.
  const more = page.locator('#more');
  await more.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#items li').length > 25, null, { timeout: WAIT });
  assert.equal((await focused(page)).id, 'more', 'focus stays on Load more');
  // The last page: the button goes, and focus moves to the first row it brought.
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#items li').length > 50, null, { timeout: WAIT });
  while (await page.locator('#more').isVisible()) {                  // earlier runs left more pages: walk them
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.querySelector('#more').textContent.includes('…'), null, { timeout: WAIT });
  }
  await page.locator('#more').waitFor({ state: 'hidden' });
  assert.equal((await focused(page)).cls, 'open', 'after the last page, focus on its first row');
  await context.close();
});

// -- archive, undo, bulk, settings ---------------------------------------------------------------------------------------

test('archive with Undo, the Archived view, bulk read / archive / delete with busy states', async () => {
  const texts = [0, 1, 2, 3].map((i) => `Bulk item ${i} ${run}`);
  for (const text of texts) await send('alice', 'carol', text);
  const { context, page } = await newUser('carol');
  await row(page, texts[3]).waitFor({ timeout: WAIT });

  await rowAction(page, texts[0], 'Archive');
  await row(page, texts[0]).waitFor({ state: 'detached' });
  assert.equal((await entryOf('carol', texts[0], '&archived=true'))?.archived, true);
  await page.locator('.toast', { hasText: 'Archived' }).getByRole('button', { name: 'Undo' }).click();
  await row(page, texts[0]).waitFor({ timeout: WAIT });
  assert.equal((await entryOf('carol', texts[0]))?.archived, false, 'Undo unarchived it');

  // Bulk: pick two, mark read; then archive both; they are in the Archived view; move one back.
  await row(page, texts[1]).locator('.pick').check();
  await row(page, texts[2]).locator('.pick').check();
  await page.locator('#bulk-count', { hasText: '2 selected' }).waitFor();
  await shot(page, 'bulk');
  await page.locator('#bulk').getByRole('button', { name: 'Mark read' }).click();
  await page.locator('#items li[data-read="true"]', { hasText: texts[2] }).waitFor({ timeout: WAIT });
  assert.equal((await entryOf('carol', texts[1])).read, true);
  await row(page, texts[1]).locator('.pick').check();
  await row(page, texts[2]).locator('.pick').check();
  const archiving = page.locator('#bulk').getByRole('button', { name: 'Archive' });
  await page.route('**/api/v1/inbox/archive', async (route) => { await new Promise((r) => setTimeout(r, 400)); await route.continue(); });
  await archiving.click();
  await page.locator('#bulk[aria-busy="true"]').waitFor({ timeout: WAIT });   // busy while it works
  await row(page, texts[2]).waitFor({ state: 'detached', timeout: WAIT });
  await page.unroute('**/api/v1/inbox/archive');
  await page.locator('.segmented label', { hasText: 'Archived' }).click();
  await settled(page);
  await row(page, texts[1]).waitFor();
  await row(page, texts[2]).waitFor();
  await shot(page, 'archived', { toasts: true });
  await rowAction(page, texts[1], 'Move to inbox');
  await row(page, texts[1]).waitFor({ state: 'detached' });
  assert.equal((await entryOf('carol', texts[1]))?.archived, false);

  // Bulk delete with Undo, then for real.
  await page.locator('.segmented label', { hasText: 'All' }).click();
  await settled(page);
  await row(page, texts[3]).locator('.pick').check();
  await row(page, texts[0]).locator('.pick').check();
  await page.locator('#bulk').getByRole('button', { name: 'Delete' }).click();
  await row(page, texts[3]).waitFor({ state: 'detached' });
  await page.locator('.toast', { hasText: '2 items deleted' }).getByRole('button', { name: 'Undo' }).click();
  await row(page, texts[3]).waitFor();
  await row(page, texts[0]).waitFor();
  await row(page, texts[3]).locator('.pick').check();
  await page.locator('#bulk').getByRole('button', { name: 'Delete' }).click();
  await page.locator('.toast', { hasText: 'Deleted' }).getByRole('button', { name: 'Dismiss' }).click();
  for (let i = 0; i < 50 && await entryOf('carol', texts[3]); i += 1) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await entryOf('carol', texts[3]), undefined, 'deleted once the Undo passed');
  assert.ok(await entryOf('carol', texts[0]), 'the other one stayed');
  await context.close();
});

test('settings turn email and SMS on and off through /api/v1/me/settings', async () => {
  const { context, page } = await newUser('bob');
  await page.getByRole('button', { name: 'Settings' }).click();
  const email = page.getByRole('checkbox', { name: /Email/ });
  await page.locator('#settings-email-to', { hasText: 'bob@example.org' }).waitFor({ timeout: WAIT });
  const before = (await api('bob', 'GET', '/api/v1/me/settings')).body.notify_email;
  assert.equal(await email.isChecked(), before);
  await email.click();
  await page.locator('.toast', { hasText: 'Settings saved' }).waitFor({ timeout: WAIT });
  assert.equal((await api('bob', 'GET', '/api/v1/me/settings')).body.notify_email, !before);
  await shot(page, 'settings');
  await email.click();
  await page.waitForFunction(() => document.querySelectorAll('.toast').length >= 2 || !document.querySelector('#settings-email[aria-busy]'));
  for (let i = 0; i < 30 && (await api('bob', 'GET', '/api/v1/me/settings')).body.notify_email !== before; i += 1) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await api('bob', 'GET', '/api/v1/me/settings')).body.notify_email, before);
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal((await focused(page)).id, 'settings-open', 'focus back on Settings');
  await context.close();
});

// -- accessibility -------------------------------------------------------------------------------------------------------

test('axe-core finds no violation on any main view, in light and dark mode', async () => {
  await send('erin', 'alice', `Accessibility check ${run}`);
  const signin = await browser.newContext({ viewport: DESKTOP });
  const start = await signin.newPage();
  await start.goto(BASE);
  await start.locator('#signin-users input').first().waitFor();
  await axeBoth(start, 'sign-in');
  await signin.close();

  const { context, page } = await newUser('alice');
  await row(page, `Accessibility check ${run}`).waitFor({ timeout: WAIT });
  await axeBoth(page, 'inbox');
  await row(page, `Accessibility check ${run}`).locator('.pick').check();
  await row(page, `Accessibility check ${run}`).locator('.more-btn').click();
  await axeBoth(page, 'row menu and bulk bar');
  await page.keyboard.press('Escape');
  await page.locator('#bulk').getByRole('button', { name: 'Clear selection' }).click();
  await row(page, `Accessibility check ${run}`).locator('.open').click();
  await page.locator('#detail h2').waitFor({ timeout: WAIT });
  await axeBoth(page, 'a message');
  await page.locator('#kind').selectOption('conversation');
  await settled(page);
  if (await page.locator('#items li').count()) {
    await page.locator('#items li .open').first().click();
    await page.locator('#reply-text').waitFor({ timeout: WAIT });
    await axeBoth(page, 'a conversation');
  }
  await page.locator('.segmented label', { hasText: 'Archived' }).click();
  await settled(page);
  await axeBoth(page, 'archived');
  await page.getByRole('button', { name: 'New message' }).click();
  await page.locator('#compose-to').fill('a');
  await page.locator('#compose-options [role="option"]').first().waitFor({ timeout: WAIT });
  await axeBoth(page, 'compose with the picker open');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.locator('#settings-email-to:not(:empty)').waitFor({ timeout: WAIT });
  await axeBoth(page, 'settings');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.setViewportSize(PHONE);
  if (await page.locator('#detail').isVisible()) {
    await axeBoth(page, 'an item full-screen on a phone');
    await page.getByRole('button', { name: 'Back' }).click();
  }
  await page.locator('.segmented label', { hasText: 'All' }).click();
  await settled(page);
  await axeBoth(page, 'the phone layout');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'mobile-dark');
  await context.close();
});

// -- infinite scroll, the bounded live list, languages ----------------------------------------------------------------------

test('the list scrolls on without a click and stays bounded as items arrive live', async () => {
  await sendMany('carol', 'admin', 40, (i) => `Scroll item ${i} ${run}`);
  await delivered('admin', `Scroll item 39 ${run}`);
  await delivered('admin', `Scroll item 0 ${run}`);
  const context = await browser.newContext({ viewport: DESKTOP });
  await context.addInitScript(() => localStorage.setItem('postbox.maxRows', '30'));
  const page = await context.newPage();
  await page.goto(BASE);
  await page.locator('#signin-users input[value="admin"]').check();
  await page.locator('#signin-local button[type="submit"]').click();
  await live(page);
  await row(page, `Scroll item 39 ${run}`).waitFor({ timeout: WAIT });
  await page.locator('#more').scrollIntoViewIfNeeded();           // no click: the next page comes by itself
  await page.waitForFunction(() => document.querySelectorAll('#items li').length >= 40, null, { timeout: WAIT });
  await page.evaluate(() => window.scrollTo(0, 0));              // back at the top, where new items arrive
  await send('carol', 'admin', `Live on a long list ${run}`);
  await row(page, `Live on a long list ${run}`).waitFor({ timeout: WAIT });
  const count = await page.locator('#items li').count();
  assert.ok(count <= 30, `the live list is bounded (${count} rows)`);
  assert.ok(await page.locator('#more').isVisible(), 'older rows are one "Load more" away');
  await page.locator('#more').focus();                          // a keyboard's Load more (no auto-load under it)
  await page.keyboard.press('Enter');
  await row(page, `Scroll item 5 ${run}`).waitFor({ timeout: WAIT });   // paging resumes where it was cut
  const ids = await page.locator('#items li').evaluateAll((els) => els.map((el) => el.dataset.id));
  assert.equal(new Set(ids).size, ids.length, 'no row twice');
  await context.close();
});

test('French from the browser, a switch back to English, dates and counts by locale', async () => {
  const { context, page } = await newUser('erin', { locale: 'fr-FR' });
  assert.equal(await page.locator('#inbox-title').textContent(), 'Boîte de réception');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  await page.locator('#counts', { hasText: /non lus? · \d+ éléments? dans votre boîte/ }).waitFor({ timeout: WAIT });
  assert.ok(await page.getByRole('button', { name: 'Nouveau message' }).isVisible());
  await shot(page, 'french');
  await page.locator('#lang').selectOption('en');
  await page.locator('#inbox-title', { hasText: 'Inbox' }).waitFor();
  await page.locator('#counts', { hasText: /unread · \d+ items? in your inbox/ }).waitFor();
  await page.reload();
  await live(page);
  assert.equal(await page.locator('#inbox-title').textContent(), 'Inbox', 'the pick is remembered');
  await context.close();
});
