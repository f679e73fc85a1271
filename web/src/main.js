// The Postbox web inbox: config.json → sign-in → the inbox, kept live over MQTT and re-synced through the API
// whenever the connection comes back. Every failure ends as a readable message, never a blank page.

import './app.css';
import { Api } from './api.js';
import {
  SESSION_KEY, cognitoFinish, cognitoStart, currentToken, loadSession, localSignIn, localUsers, signOut,
} from './auth.js';
import { Compose } from './compose.js';
import { Detail } from './detail.js';
import { $, clearError, h, showError } from './dom.js';
import { Inbox } from './inbox.js';
import { connectInbox } from './realtime.js';

const STATUS_TEXT = {
  connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline: retrying',
};

window.addEventListener('error', (event) => showError(`Something went wrong: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => {
  showError(`Something went wrong: ${event.reason?.message || event.reason}`);
});
$('#error-close').addEventListener('click', clearError);

async function loadConfig() {
  let response;
  try {
    response = await fetch('/config.json', { cache: 'no-store' });
  } catch {
    throw new Error('Cannot reach Postbox to load its configuration: check your connection and reload.');
  }
  if (!response.ok) throw new Error(`This page has no configuration (config.json answered HTTP ${response.status}).`);
  return response.json();
}

function showSignIn(config, users) {
  $('#signin').hidden = false;
  if (config.auth.mode === 'cognito') {
    $('#signin-cognito').hidden = false;
    $('#signin-cognito-go').addEventListener('click', () => cognitoStart(config).catch((e) => showError(e.message)));
    return;
  }
  const form = $('#signin-local');
  form.hidden = false;
  $('#signin-users').append(...users.map((user, index) => h('label', {},
    h('input', { type: 'radio', name: 'user', value: user.id, required: true, checked: index === 0 }),
    h('span', {}, user.name), h('small', {}, user.id))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = new FormData(form).get('user');
    const user = users.find((u) => u.id === id);
    try {
      const session = await localSignIn(config, id, user?.name);
      clearError();
      $('#signin').hidden = true;
      startInbox(config, session, users);
    } catch (error) {
      showError(error.message);
    }
  });
  form.querySelector('input')?.focus();
}

let currentUser = null;

// Links from emails (WEB_URL#/message/{id}, #/conversation/{uid}, #/alert/{id}) open that item.
const ITEM_LINK = /^#\/(message|conversation|alert)\/([A-Za-z0-9_.@-]{1,64})$/;

function openLinkedItem(inbox, detail) {
  const match = ITEM_LINK.exec(location.hash);
  if (!match) return;
  const [, kind, id] = match;
  history.replaceState(null, '', location.pathname + location.search); // opened once: a reload shows the inbox
  // An item past the first page is opened from its face's API alone (and is not marked read here).
  const item = inbox.items.find((it) => it.kind === kind && it.source_id === id)
    || { id, kind, source_id: id, from: '', text: '', read: true, created_at: null, archived: false };
  detail.open(item);
}

function startInbox(config, session, users) {
  currentUser = session.user;
  $('#inbox').hidden = false;
  $('#whoami').hidden = false;
  $('#whoami').textContent = session.name && session.name !== session.user ? `${session.name} (${session.user})` : session.user;
  $('#signout').hidden = false;
  $('#signout').addEventListener('click', () => { realtime?.close(); signOut(config); });

  const token = () => currentToken(config);
  const api = new Api(config.api_base || '', token, () => {
    realtime?.close();
    localStorage.removeItem(SESSION_KEY);
    showError('Your session has ended: sign in again.');
    setTimeout(() => location.reload(), 1500);
  });
  const onError = (error) => showError(error.message || String(error));
  let detail;
  const inbox = new Inbox({ api, onError, onOpen: (item, note) => (item ? detail.open(item) : detail.close(note)) });
  detail = new Detail({ api, config, session, inbox, onError });
  new Compose({ api, config, users });

  const conn = $('#conn');
  conn.hidden = false;
  let realtime = null;
  realtime = connectInbox({
    config, userId: session.user, token,
    onEvent: (event) => inbox.apply(event),
    onStatus: (status, detailText) => {
      conn.className = `conn ${status}`;
      conn.textContent = STATUS_TEXT[status] || status;
      conn.title = detailText ? `Live updates: ${detailText}` : '';
      conn.dataset.status = status;
      // Subscribed (again): whatever was published before the subscription, or while away, comes back
      // through the API (the first page is also read at once below, so the page never waits for the broker).
      if (status === 'live') inbox.reload();
    },
  });
  inbox.reload();
  inbox.firstLoad.then(() => openLinkedItem(inbox, detail));
  window.addEventListener('hashchange', () => openLinkedItem(inbox, detail));
}

async function main() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    $('#loading').textContent = error.message;
    $('#loading').classList.add('error');
    return;
  }
  // Another tab signed out, or in as someone else: follow it.
  window.addEventListener('storage', (event) => {
    if (event.key !== SESSION_KEY) return;
    let next = null;
    try { next = JSON.parse(event.newValue || 'null')?.user ?? null; } catch { /* treated as signed out */ }
    if (next !== currentUser) location.reload();
  });
  let session = null;
  try {
    if (config.auth.mode === 'cognito') session = await cognitoFinish(config);
  } catch (error) {
    showError(error.message);
  }
  session = session || loadSession();
  let users = [];
  if (config.auth.mode === 'local') {
    try {
      users = await localUsers(config);
    } catch (error) {
      showError(`Cannot list the local directory's users: ${error.message}`);
    }
  }
  $('#loading').hidden = true;
  if (session) startInbox(config, session, users);
  else showSignIn(config, users);
}

main().catch((error) => {
  $('#loading').hidden = true;
  showError(`The inbox could not start: ${error.message}`);
});
