// The web inbox in Debian's Chromium (headless), driven by playwright-core, against a running local stack.
// tests/e2e/test_web_inbox.py starts the stack and runs this file; by hand:
//   POSTBOX_URL=http://127.0.0.1:3000 POSTBOX_APP_TOKEN=$(.venv/bin/postbox token --app acme/billing) \
//     node --test web/test/
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const run = `#${Date.now().toString(36).slice(-4)}`;  // tells this run's items from earlier ones

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

const unreadCount = async (user) => (await api(user, 'GET', '/api/v1/inbox/counts')).body.unread;

// -- the page -----------------------------------------------------------------------------------------------

async function newUser(user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(BASE);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.locator(`#signin-users input[value="${user}"]`).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await live(page);
  return { context, page, problems };
}

async function live(page) {
  await page.locator('#conn[data-status="live"]').waitFor({ timeout: WAIT });
}

async function settled(page) {
  await page.locator('#items[aria-busy="false"]').waitFor({ state: 'attached', timeout: WAIT });
}

const row = (page, text) => page.locator('#items li', { hasText: text });
const badge = (page) => page.locator('#unread-badge');

async function expectBadge(page, unread) {
  const text = unread === 0 ? '' : String(unread);
  await page.waitForFunction(([expected]) => {
    const el = document.querySelector('#unread-badge');
    return expected === '' ? el.hidden : !el.hidden && el.textContent === expected;
  }, [text], { timeout: WAIT });
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// -- the tests ----------------------------------------------------------------------------------------------

test('the sign-in form lists the local directory and signs in with a local token', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  await page.goto(BASE);
  const users = page.locator('#signin-users input');
  await users.first().waitFor();
  const ids = await users.evaluateAll((inputs) => inputs.map((input) => input.value));
  assert.deepEqual(ids.slice().sort(), ['admin', 'alice', 'bob', 'carol', 'dave', 'erin']);  // frank is inactive
  await page.locator('#signin-users input[value="erin"]').check();
  await shot(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await live(page);
  assert.equal(await page.locator('#whoami').textContent(), 'Erin Eko (erin)');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await context.close();
});

test('a message appears live; marking it read in a second tab drops the count in the first', async () => {
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
  assert.equal(await item.getAttribute('data-read'), 'false');
  await expectBadge(page, before + 1);
  assert.equal(await page.locator('#items li').first().textContent().then((t) => t.includes(text)), true,
    'newest first');

  const second = await context.newPage();                         // same browser session: no sign-in
  await second.goto(BASE);
  await live(second);
  await row(second, text).getByRole('button', { name: /Mark the message from carol read/ }).click();
  await second.locator('#items li[data-read="true"]', { hasText: text }).waitFor({ timeout: WAIT });

  await page.locator('#items li[data-read="true"]', { hasText: text }).waitFor({ timeout: WAIT });
  await expectBadge(page, before);
  assert.equal(await unreadCount('bob'), before);

  // Filters: unread hides it, kind=message keeps it.
  await page.getByText('Unread', { exact: true }).click();
  await settled(page);
  await row(page, `Field visit moved to Thursday ${run}`).waitFor();
  assert.equal(await row(page, text).count(), 0);
  await page.getByText('All', { exact: true }).click();
  await page.locator('#kind').selectOption('message');
  await settled(page);
  await row(page, text).waitFor();

  // Delete removes it here and in the other tab.
  await row(second, text).getByRole('button', { name: /Delete/ }).click();
  await row(page, text).waitFor({ state: 'detached', timeout: WAIT });
  assert.deepEqual(problems, []);
  await context.close();
});

test('opening a message shows it whole; compose shows the API error text, then sends', async () => {
  const { context, page } = await newUser('alice');
  const long = `Household survey: ${'the second round starts on Monday. '.repeat(4)}${run}`;
  await send('bob', 'alice', long);
  await row(page, run).first().getByRole('button', { name: /message from bob/ }).first().click();
  await page.locator('#detail .body', { hasText: long.trim() }).waitFor({ timeout: WAIT });
  await expectBadge(page, await unreadCount('alice'));          // opening marked it read

  await page.getByRole('button', { name: 'New message' }).click();
  await page.locator('#compose-target').fill('nobody-here');
  await page.locator('#compose-text').fill('Hello?');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose-error', { hasText: 'target_id: target_id not found' }).waitFor({ timeout: WAIT });
  await page.locator('#compose-type').selectOption('kmskey');     // alice owns key-1: she may write to it
  await page.locator('#compose-target').fill('key-1');
  await shot(page, 'compose');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('#compose').waitFor({ state: 'hidden', timeout: WAIT });
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
  const uid = (await api('erin', 'GET', '/api/v1/inbox?kind=conversation&limit=100'))
    .body.items.find((entry) => entry.text.includes('Opened from a link')).source_id;
  await page.evaluate((hash) => { location.hash = hash; }, `#/conversation/${uid}`);   // already signed in
  await page.locator('#detail h2', { hasText: `Linked thread ${run}` }).waitFor({ timeout: WAIT });
  await context.close();
});

test('a conversation opens as a thread and takes a reply', async (t) => {
  const created = await api('carol', 'POST', '/api/messageConversations',
    { subject: `Stock-out at District 1 ${run}`, text: 'We are out of test kits. Can you confirm the order?', users: [{ id: 'bob' }] });
  if (created.status === 404) return t.skip('the DHIS2 conversations face is not deployed here');
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { context, page } = await newUser('bob');
  await page.locator('#kind').selectOption('conversation');
  const item = row(page, 'We are out of test kits');
  await item.first().waitFor({ timeout: WAIT });
  await item.first().locator('button.open').click();
  await page.locator('#detail h2', { hasText: `Stock-out at District 1 ${run}` }).waitFor({ timeout: WAIT });
  const reply = `Confirmed: 200 kits arrive on Friday ${run}`;
  await page.locator('#reply-text').fill(reply);
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.locator('#detail .thread li', { hasText: reply }).waitFor({ timeout: WAIT });
  await shot(page, 'conversation');
  const entries = (await api('carol', 'GET', '/api/v1/inbox?kind=conversation&limit=100')).body.items;
  const id = entries.find((entry) => entry.text.includes(reply) || entry.text.includes('test kits')).source_id;
  const seen = await api('carol', 'GET', `/api/messageConversations/${id}`);
  assert.ok(seen.body.messages.some((m) => m.text === reply && m.sender.id === 'bob'), JSON.stringify(seen.body));
  await context.close();
});

test('an alert shows its content and a link to its frontend_url', async (t) => {
  if (!APP_TOKEN) return t.skip('no application token (POSTBOX_APP_TOKEN)');
  const sent = await api('app', 'PUT', '/aalam/base/message', {
    message: { from: 'Billing', app: 'acme/billing', receiver: [{ type: 'users', value: ['bob@example.org'] }],
      content: `Invoice 1042 is due on 1 December ${run}`, frontend_url: 'https://billing.example.org/invoices/1042' },
  });
  if (sent.status === 404) return t.skip('the Aalam alerts face is not deployed here');
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const { context, page } = await newUser('bob');
  await page.locator('#kind').selectOption('alert');
  await row(page, `Invoice 1042 is due on 1 December ${run}`).locator('button.open').click();
  await page.locator('#detail h2', { hasText: 'Alert from Billing' }).waitFor({ timeout: WAIT });
  const link = page.getByRole('link', { name: /Open in the app/ });
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
  await alice.page.locator('#compose-target').fill('erin');
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
  // Not even by asking the API from dave's page.
  const status = await page.evaluate(async (id) => {
    const { token } = JSON.parse(localStorage.getItem('postbox.session'));
    return (await fetch(`/api/v1/messaging/${id}`, { headers: { Authorization: `Bearer ${token}` } })).status;
  }, message.id);
  assert.equal(status, 403);
  await context.close();
});

test('a lost connection reconnects and re-syncs through the API; failures read as messages', async () => {
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

  // A failing API is a readable message, not a blank page.
  await page.route('**/api/v1/inbox?**', (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: JSON.stringify({ message: 'Service Unavailable' }),
  }));
  await page.locator('#kind').selectOption('alert');
  await page.locator('#error', { hasText: 'Service Unavailable' }).waitFor({ timeout: WAIT });
  await context.close();
});

test('the inbox holds every kind, newest first', async () => {
  const { context, page } = await newUser('bob');
  await send('alice', 'bob', `Training on Tuesday at 10:00 in the district office ${run}`);
  await row(page, `Training on Tuesday at 10:00 in the district office ${run}`).first().waitFor({ timeout: WAIT });
  await settled(page);
  const kinds = new Set(await page.locator('#items li').evaluateAll((rows) => rows.map((r) => r.dataset.kind)));
  assert.ok(kinds.has('message'));
  const times = await page.locator('#items li time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime')));
  assert.deepEqual(times, times.slice().sort().reverse());
  await row(page, `Training on Tuesday`).first().locator('button.open').click();
  await page.locator('#detail .body', { hasText: 'Training on Tuesday' }).waitFor({ timeout: WAIT });
  assert.doesNotMatch(await page.locator('#detail').innerText(), /\b(null|undefined)\b/);
  await shot(page, 'inbox');
  await context.close();
});
