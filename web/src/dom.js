// Small DOM helpers: elements are built with text nodes only, never from HTML strings.

import { formatWhen, t } from './i18n.js';

export const $ = (selector, root = document) => root.querySelector(selector);

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function when(iso) {
  const formatted = formatWhen(iso);
  if (!formatted) return h('time', {}, iso || '');
  return h('time', { datetime: formatted.date.toISOString(), title: formatted.full }, formatted.short);
}

let announceTimer;
/** Says something to screen readers (a polite live region). */
export function announce(text) {
  const region = $('#announce');
  region.textContent = '';
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { region.textContent = text; }, 50);
}

let retryAction = null;
let errorKind = null;

/** The error banner; `retry` adds a Retry button that runs it (and clears the banner). */
export function showError(text, { retry, kind = 'other' } = {}) {
  $('#error-text').textContent = text;
  retryAction = retry || null;
  errorKind = kind;
  $('#error-retry').hidden = !retry;
  $('#error').hidden = false;
}

/** Clears the banner (only a banner of this kind, when given). */
export function clearError(kind) {
  if (kind && errorKind !== kind) return;
  $('#error').hidden = true;
  $('#error-text').textContent = '';
  retryAction = null;
  errorKind = null;
}

export function bindErrorBanner() {
  $('#error-close').addEventListener('click', () => clearError());
  $('#error-retry').addEventListener('click', () => {
    const retry = retryAction;
    clearError();
    retry?.();
  });
}

const TOAST_MS = 6000;

/**
 * A toast in the polite live region: text, an optional action (Undo), and a dismiss button. `onExpire` runs when it
 * goes without its action being used (timeout, dismiss, or a newer toast with an action replacing it).
 */
export function toast(text, { action, onAction, onExpire, timeout = TOAST_MS } = {}) {
  const region = $('#toasts');
  // One pending undo at a time: a new actionable toast settles the previous one.
  if (action) for (const old of region.querySelectorAll('.toast.actionable')) old.expire();
  let settled = false;
  const node = h('div', { class: `toast${action ? ' actionable' : ''}` });
  const finish = (used) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    node.remove();
    if (used) onAction?.();
    else onExpire?.();
  };
  node.expire = () => finish(false);
  node.use = () => finish(true);
  node.append(h('span', { class: 'toast-text' }, text));
  if (action) node.append(h('button', { type: 'button', class: 'toast-action', onclick: () => finish(true) }, action));
  node.append(h('button', { type: 'button', class: 'toast-close', 'aria-label': t('action.dismiss'),
    onclick: () => finish(false) }, h('span', { 'aria-hidden': 'true' }, '×')));
  region.append(node);
  while (region.children.length > 3) {
    const oldest = region.firstElementChild;
    if (oldest.expire) oldest.expire(); else oldest.remove();
  }
  const timer = setTimeout(() => finish(false), timeout);
  return node;
}

/** The newest toast that still offers an action (Ctrl+Z uses it). */
export function latestUndo() {
  const all = $('#toasts').querySelectorAll('.toast.actionable');
  return all[all.length - 1] || null;
}
