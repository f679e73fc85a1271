// The Postbox web inbox: config.json → sign-in → the inbox, kept live over MQTT and re-synced through the API
// whenever the connection comes back. Every failure ends as a readable message, never a blank page.

import './app.css';
import { Api } from './api.js';
import {
  SESSION_KEY, cognitoFinish, cognitoStart, currentToken, loadSession, localSignIn, localUsers, signOut,
} from './auth.js';
import { Compose } from './compose.js';
import { Detail } from './detail.js';
import { $, bindErrorBanner, clearError, h, showError } from './dom.js';
import { LANGUAGES, lang, setLanguage, t, translatePage } from './i18n.js';
import { Inbox } from './inbox.js';
import { connectInbox } from './realtime.js';
import { Settings } from './settings.js';

window.addEventListener('error', (event) => showError(t('err.generic', { message: event.message })));
window.addEventListener('unhandledrejection', (event) => {
  showError(t('err.generic', { message: event.reason?.message || event.reason }));
});
bindErrorBanner();
translatePage();

// The language switch: the browser's language first, the person's pick after that.
const relabelers = [];
const langSelect = $('#lang');
langSelect.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => h('option', { value: code, lang: code }, name)));
langSelect.value = lang;
langSelect.addEventListener('change', () => {
  setLanguage(langSelect.value);
  translatePage();
  for (const relabel of relabelers) relabel();
});

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
    h('span', { class: 'name', dir: 'auto' }, user.name), h('small', {}, user.id))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = new FormData(form).get('user');
    const user = users.find((u) => u.id === id);
    try {
      const session = await localSignIn(config, id, user?.name);
      clearError();
      $('#signin').hidden = true;
      startInbox(config, session, { signedIn: true });
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

function startInbox(config, session, { signedIn = false } = {}) {
  currentUser = session.user;
  $('#inbox').hidden = false;
  const who = $('#whoami');
  who.hidden = false;
  who.textContent = session.name || session.user;
  who.title = session.name && session.name !== session.user ? `${session.name} (${session.user})` : session.user;
  $('#signout').hidden = false;
  $('#signout').addEventListener('click', () => { realtime?.close(); signOut(config); });

  const token = () => currentToken(config);
  const api = new Api(config.api_base || '', token, () => {
    realtime?.close();
    localStorage.removeItem(SESSION_KEY);
    showError(t('err.session'));
    setTimeout(() => location.reload(), 1500);
  });
  const onError = (error, retry) => showError(error.message || String(error),
    { retry, kind: error.status === 0 ? 'network' : 'load' });
  let detail;
  const inbox = new Inbox({ api, onError, me: { user: session.user, name: session.name },
    onOpen: (item, note) => (item ? detail.open(item) : detail.close(note)) });
  detail = new Detail({ api, config, session, inbox, onError });
  new Compose({ api, config });
  new Settings({ api });

  // Escape closes the open item (dialogs and the row menu handle their own Escape first).
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.defaultPrevented || document.querySelector('dialog[open]')) return;
    if (!$('#row-menu').hidden) return;
    if (detail.isOpen) { event.preventDefault(); detail.close(null, { refocus: true }); }
  });

  const conn = $('#conn');
  conn.hidden = false;
  let lastStatus = ['connecting', ''];
  const showStatus = (status, detailText) => {
    lastStatus = [status, detailText];
    const offline = !navigator.onLine;
    const shown = offline ? 'offline' : status;
    conn.className = `conn ${shown}`;
    conn.textContent = t(`conn.${shown}`);
    conn.title = detailText ? t('conn.title', { detail: detailText }) : '';
    conn.dataset.status = shown;
  };
  let realtime = null;
  realtime = connectInbox({
    config, userId: session.user, token,
    onEvent: (event) => inbox.apply(event),
    onStatus: (status, detailText) => {
      showStatus(status, detailText);
      // Subscribed (again): whatever was published before the subscription, or while away, comes back
      // through the API (the first page is also read at once below, so the page never waits for the broker).
      if (status === 'live') {
        clearError('network');
        clearError('offline');
        inbox.reload();
      }
    },
  });
  // The browser knows first when the network goes: say so, and catch up when it returns.
  window.addEventListener('offline', () => {
    showStatus(...lastStatus);
    showError(t('err.offline'), { kind: 'offline' });
  });
  window.addEventListener('online', () => {
    showStatus(...lastStatus);
    clearError('offline');
    clearError('network');
    inbox.reload();
  });
  if (!navigator.onLine) showError(t('err.offline'), { kind: 'offline' });
  relabelers.push(() => {
    showStatus(...lastStatus);
    inbox.relabel();
    if (detail.current) detail.open(detail.current);
  });

  inbox.reload();
  if (signedIn) {
    $('#inbox-title').focus();
    inbox.firstLoad.then(() => {
      if (document.activeElement === $('#inbox-title') && inbox.items.length) inbox.focusRow(inbox.focusId);
    });
  }
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
  if (config.auth.mode === 'local' && !session) {
    try {
      users = await localUsers(config);
    } catch (error) {
      showError(t('err.users', { message: error.message }));
    }
  }
  $('#loading').hidden = true;
  if (session) startInbox(config, session);
  else showSignIn(config, users);
}

main().catch((error) => {
  $('#loading').hidden = true;
  showError(t('err.start', { message: error.message }));
});
