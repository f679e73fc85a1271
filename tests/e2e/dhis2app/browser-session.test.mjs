// Browser sessions in Debian's Chromium, driven by playwright-core (docs/dhis2.md#browser-sessions): a signed-in
// participant downloads a DHIS2 attachment by following its link, with only the session cookie; a signed-in
// stranger following the same link gets no file; a cross-site form post carrying only the cookie changes nothing.
// tests/e2e/test_dhis2_app.py starts the stack and runs this file.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const BASE = process.env.POSTBOX_URL || 'http://127.0.0.1:3000';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CONTENT = `cases,week\n12,${Date.now()}\n`;

let browser;
let downloads;
let attacker;  // another site: http://localhost:<port> is not the stack's http://127.0.0.1:<port>
let attackerUrl;
let pagesServed = '';

before(async () => {
  downloads = mkdtempSync(join(tmpdir(), 'postbox-dhis2app-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, downloadsPath: downloads, timeout: 30_000 });
  attacker = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(pagesServed);
  });
  await new Promise((resolve) => attacker.listen(0, 'localhost', resolve));
  attackerUrl = `http://localhost:${attacker.address().port}/`;
});

after(async () => {
  await browser?.close();
  attacker?.close();
  rmSync(downloads, { recursive: true, force: true });
});

async function tokenFor(user) {
  const response = await fetch(`${BASE}/local/token?user=${user}`);
  assert.equal(response.status, 200);
  return (await response.json()).token;
}

async function api(user, method, path, { json, body, headers = {} } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${await tokenFor(user)}`, ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(BASE + path, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text && text.startsWith('{') ? JSON.parse(text) : text };
}

/** alice writes bob a conversation carrying a file; returns the app's download link for it. */
async function aliceSendsBobAFile() {
  const form = new FormData();
  form.append('file', new Blob([CONTENT], { type: 'application/octet-stream' }), 'cases.csv');
  const upload = await api('alice', 'POST', '/api/40/fileResources?domain=MESSAGE_ATTACHMENT', { body: form });
  assert.equal(upload.status, 202, JSON.stringify(upload.body));
  const file = upload.body.response.fileResource.id;
  const created = await api('alice', 'POST', '/api/messageConversations', { json: {
    subject: 'Weekly cases', text: 'Attached', users: [{ id: 'bob' }], attachments: [{ id: file }] } });
  assert.equal(created.status, 201);
  const conversation = created.headers.get('location').split('/').pop();
  const one = await api('bob', 'GET', `/api/messageConversations/${conversation}?fields=messages[id]`);
  return { conversation, link: `${BASE}/api/messageConversations/${conversation}/${one.body.messages[0].id}/attachments/${file}` };
}

/** A browser context in which `user` signed in as the web inbox does locally: a token from the demo sign-in, then
 * POST /api/v1/session with it, which sets the HttpOnly cookie. The page keeps no token afterwards. */
async function signedIn(user) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${BASE}/health`);
  const status = await page.evaluate(async (who) => {
    const { token } = await (await fetch(`/local/token?user=${who}`)).json();
    const response = await fetch('/api/v1/session', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    return response.status;
  }, user);
  assert.equal(status, 204);
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'postbox_session');
  assert.ok(cookie, 'no session cookie');
  assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Lax', '/api']);
  assert.equal(await page.evaluate(() => document.cookie.includes('postbox_session')), false);  // HttpOnly
  return { context, page };
}

/** Follow a link the way the app does: an <a href download target=_blank> clicked on a page. */
async function followLink(page, link) {
  await page.evaluate((href) => {
    const a = document.createElement('a');
    a.href = href;
    a.id = 'attachment';
    a.setAttribute('download', '');
    a.textContent = 'cases.csv';
    document.body.append(a);
  }, link);
  return page.click('#attachment');
}

test('a signed-in participant downloads by following the link, with only the cookie', async () => {
  const { link } = await aliceSendsBobAFile();
  const { context, page } = await signedIn('bob');
  try {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), followLink(page, link)]);
    const saved = await download.path();
    assert.equal(readFileSync(saved, 'utf8'), CONTENT);
    assert.equal(download.suggestedFilename(), 'cases.csv');
  } finally {
    await context.close();
  }
});

test('a signed-in stranger following the same link gets no file', async () => {
  const { link } = await aliceSendsBobAFile();
  const { context, page } = await signedIn('dave');
  try {
    let downloaded = false;
    page.on('download', () => { downloaded = true; });
    const response = await page.goto(link);
    assert.equal(response.status(), 403);
    assert.match(await response.text(), /Not authorized to access this conversation/);
    assert.equal(downloaded, false);
    // Without a session at all: 401, no file.
    const anonymous = await browser.newContext();
    const bare = await (await anonymous.newPage()).goto(link);
    assert.equal(bare.status(), 401);
    await anonymous.close();
  } finally {
    await context.close();
  }
});

test('a cross-site form post carrying only the cookie changes nothing', async () => {
  const { conversation } = await aliceSendsBobAFile();
  const before = await api('bob', 'GET', `/api/messageConversations/${conversation}?fields=messages[text],followUp`);
  const listBefore = await api('bob', 'GET', '/api/messageConversations?fields=id&paging=false');
  const { context, page } = await signedIn('bob');
  try {
    const forms = [
      [`${BASE}/api/messageConversations/${conversation}`, 'text/plain', 'Forged reply'],
      [`${BASE}/api/messageConversations/followup`, 'text/plain', `["${conversation}"]`],
      [`${BASE}/api/messageConversations`, 'application/x-www-form-urlencoded', 'subject=Forged'],
    ];
    for (const [action, enctype, value] of forms) {
      const [name, data] = enctype === 'text/plain' ? [value, ''] : ['subject', 'Forged'];
      pagesServed = `<!doctype html><form method="post" action="${action}" enctype="${enctype}">
        <input name='${name.replace(/'/g, '&#39;')}' value="${data}"></form>
        <script>document.forms[0].submit()</script>`;
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === action, { timeout: 15_000 }),
        page.goto(attackerUrl),
      ]);
      assert.equal(response.status(), 401, `${action} answered ${response.status()}`);
    }
  } finally {
    await context.close();
  }
  const afterwards = await api('bob', 'GET', `/api/messageConversations/${conversation}?fields=messages[text],followUp`);
  assert.deepEqual(afterwards.body, before.body);
  const listAfter = await api('bob', 'GET', '/api/messageConversations?fields=id&paging=false');
  assert.deepEqual(listAfter.body, listBefore.body);
});
