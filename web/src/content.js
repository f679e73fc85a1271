// What a row and an opened item say: the same display name for every kind, a conversation's subject, an alert's
// content as text (never raw JSON).

import { t } from './i18n.js';

/** The sender as a person reads it: a message's display name (from_name), else `from`. */
export const displayFrom = (item) => item.from_name || item.from || '';

function scalar(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    if (Array.isArray(value)) return value.map(scalar).join(', ');
    return Object.entries(value).map(([k, v]) => `${k} ${scalar(v)}`).join(', ');
  }
  return String(value);
}

/** An alert's content as lines of text: a string as is; an object's title/text first, then "key: value" lines. */
export function alertLines(content) {
  if (typeof content === 'string') {
    const trimmed = content.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try { return alertLines(JSON.parse(trimmed)); } catch { /* plain text that looks like JSON */ }
    }
    return [content];
  }
  if (Array.isArray(content)) return content.map(scalar);
  if (content && typeof content === 'object') {
    const lead = ['title', 'subject', 'message', 'text', 'body'].filter((k) => typeof content[k] === 'string');
    const rest = Object.entries(content).filter(([k]) => !lead.includes(k));
    return [...lead.map((k) => content[k]), ...rest.map(([key, value]) => t('alert.field', { key, value: scalar(value) }))];
  }
  return [scalar(content)];
}

/** The preview line of a row. */
export function previewText(item) {
  return item.kind === 'alert' ? alertLines(item.text).join(' · ') : item.text;
}
