// One opened item: a message (Ona face), a conversation with its thread and a reply box (DHIS2 face) or an
// alert with a link to its frontend_url (Aalam face). A face that is missing or failing degrades to the
// inbox entry's own text with a readable note. On a narrow screen the item takes the whole screen and Back
// returns to the list where it was.

import { fileList, uploadAll } from './attachments.js';
import { alertLines, displayFrom } from './content.js';
import { $, h, toast, when } from './dom.js';
import { t } from './i18n.js';

const NARROW = window.matchMedia('(max-width: 899px)');

const safeUrl = (value) => {
  try {
    const url = new URL(value, location.href);
    return ['http:', 'https:'].includes(url.protocol) ? url.toString() : null;
  } catch {
    return null;
  }
};

export class Detail {
  constructor({ api, config, session, inbox, onError }) {
    Object.assign(this, { api, config, session, inbox, onError });
    this.pane = $('#detail');
    this.current = null;
    this.loadToken = 0;
    this.listScroll = 0;
  }

  get features() { return this.config.features || {}; }

  get isOpen() { return !this.pane.hidden; }

  /** Closes the item; `refocus` (Close, Back, Escape) puts focus back on its row and the list where it was. */
  close(note, { refocus = false } = {}) {
    const id = this.current?.id;
    this.current = null;
    this.loadToken += 1;
    this.inbox.select(null);
    const wasReading = document.body.classList.contains('reading');
    if (note) {
      this.pane.replaceChildren(h('p', { class: 'notice' }, note),
        h('button', { type: 'button', class: 'close', onclick: () => this.close(null, { refocus: true }) }, t('action.close')));
      this.pane.hidden = false;
    } else {
      this.pane.hidden = true;
      this.pane.replaceChildren();
      document.body.classList.remove('reading');
      if (wasReading) window.scrollTo(0, this.listScroll);
    }
    if (refocus) this.inbox.focusRow(id && this.inbox.get(id) ? id : this.inbox.focusId);
  }

  async open(item) {
    if (!item) return this.close();
    if (!this.isOpen || !document.body.classList.contains('reading')) this.listScroll = window.scrollY;
    this.current = item;
    this.inbox.select(item.id);
    this.inbox.focusId = this.inbox.get(item.id) ? item.id : this.inbox.focusId;
    const token = ++this.loadToken;
    this.pane.hidden = false;
    if (NARROW.matches) document.body.classList.add('reading');
    this.pane.replaceChildren(h('p', { class: 'muted' }, t('detail.loading')));
    if (!item.read) this.inbox.setRead([item], true, { quiet: true });
    let view;
    try {
      view = item.kind === 'conversation' ? await this.conversation(item)
        : item.kind === 'alert' ? await this.alert(item)
          : await this.message(item);
    } catch (error) {
      view = this.fallback(item, error.message);
    }
    if (token !== this.loadToken) return;
    this.pane.replaceChildren(...view.filter(Boolean));
    if (document.body.classList.contains('reading')) this.pane.scrollTop = 0;
    this.pane.querySelector('h2')?.focus({ preventScroll: !NARROW.matches });
  }

  header(item, title) {
    const current = () => this.inbox.get(item.id) || item;
    const archived = Boolean(current().archived);
    const readButton = h('button', {
      type: 'button', class: 'toggle-read',
      onclick: async () => {
        const it = current();
        await this.inbox.setRead([it], !it.read);
        readButton.textContent = (this.inbox.get(item.id) || it).read ? t('action.unread') : t('action.read');
      },
    }, t('action.unread'));
    return h('header', {},
      h('button', { type: 'button', class: 'close', onclick: () => this.close(null, { refocus: true }) },
        h('span', { class: 'wide' }, t('action.close')),
        h('span', { class: 'narrow' }, h('span', { 'aria-hidden': 'true' }, '← '), t('action.back'))),
      h('h2', { tabindex: '-1', dir: 'auto' }, title),
      h('div', { class: 'detail-actions' },
        readButton,
        h('button', { type: 'button', class: 'archive', onclick: () => this.inbox.archive([current()], !archived) },
          archived ? t('action.unarchive') : t('action.archive')),
        h('button', { type: 'button', class: 'delete danger', onclick: () => this.inbox.delete([current()]) },
          t('action.delete'))));
  }

  fallback(item, reason) {
    return [
      this.header(item, `${t(`tag.${item.kind}`)} · ${displayFrom(item)}`),
      h('p', { class: 'meta' }, `${t('detail.received')} `, when(item.created_at)),
      h('p', { class: 'body', dir: 'auto' }, item.text),
      h('p', { class: 'notice', role: 'note' }, t('detail.cannot_show', { kind: t(`tag.${item.kind}`), reason })),
    ];
  }

  async message(item) {
    const message = await this.api.get(`/api/v1/messaging/${encodeURIComponent(item.source_id)}`);
    let files = null;
    if (this.features.attachments !== false) {
      files = await this.api.get(`/api/v1/messaging/${encodeURIComponent(item.source_id)}/attachments`)
        .catch(() => null);
    }
    return [
      this.header(item, t('detail.message_from', { from: item.from_name || message.user })),
      h('p', { class: 'meta' }, when(message.timestamp), message.verb !== 'message' ? ` · ${message.verb}` : ''),
      h('p', { class: 'body', dir: 'auto' }, message.message),
      Array.isArray(files) ? fileList(this.api, files, this.onError) : null,
    ];
  }

  async alert(item) {
    let alert = null;
    if (this.features.alerts !== false) {
      const alerts = await this.api.get('/aalam/base/messages', { count: 1000 });
      alert = Array.isArray(alerts) ? alerts.find((a) => a.id === item.source_id) : null;
    }
    if (!alert) return this.fallback(item, t('detail.alert_gone'));
    const [first, ...rest] = alertLines(alert.content);
    const link = alert.frontend_url ? safeUrl(alert.frontend_url) : null;
    return [
      this.header(item, t('detail.alert_from', { from: alert.from })),
      h('p', { class: 'meta' }, when(alert.time)),
      h('p', { class: 'body', dir: 'auto' }, first),
      rest.length ? h('ul', { class: 'fields' }, rest.map((line) => h('li', { dir: 'auto' }, line))) : null,
      link ? h('p', {}, h('a', { href: link, target: '_blank', rel: 'noopener noreferrer' },
        t('detail.open_app'), h('span', { 'aria-hidden': 'true' }, ' ↗'))) : null,
    ];
  }

  async conversation(item) {
    if (this.features.conversations === false) return this.fallback(item, t('detail.no_conversations'));
    const id = encodeURIComponent(item.source_id);
    const conversation = await this.api.get(`/api/messageConversations/${id}`);
    const me = this.session.user;
    const thread = h('ol', { class: 'thread', 'aria-label': t('detail.messages') }, (conversation.messages || []).map((m) => h('li', {
      class: m.sender?.id === me ? 'mine' : '',
    },
    h('div', { class: 'who-when' },
      h('span', { dir: 'auto' }, m.sender?.id === me ? t('detail.you') : m.sender?.name || m.sender?.id || t('detail.system')),
      ' · ', when(m.created),
      m.internal ? h('span', { class: 'internal' }, ` · ${t('detail.internal')}`) : null),
    h('p', { class: 'body', dir: 'auto' }, m.text),
    fileList(this.api, m.attachments, this.onError))));
    return [
      this.header(item, conversation.subject || t('detail.conversation')),
      h('p', { class: 'meta' }, [
        `${(conversation.messageType || 'private').toLowerCase().replace(/_/g, ' ')}`,
        conversation.status && conversation.status !== 'NONE' ? conversation.status.toLowerCase() : null,
        conversation.priority && conversation.priority !== 'NONE' ? conversation.priority.toLowerCase() : null,
        conversation.assignee ? conversation.assignee.name || conversation.assignee.id : null,
      ].filter(Boolean).join(' · ')),
      thread,
      this.replyForm(item, conversation),
    ];
  }

  replyForm(item, conversation) {
    const text = h('textarea', { id: 'reply-text', rows: 3, required: true, maxlength: 10000, dir: 'auto' });
    const files = this.features.attachments ? h('input', { id: 'reply-files', type: 'file', multiple: true }) : null;
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const send = h('button', { type: 'submit', class: 'primary' }, t('reply.send'));
    const form = h('form', { class: 'reply', 'aria-label': t('reply.label') },
      h('label', { for: 'reply-text' }, t('reply.label')), text,
      files ? h('label', { class: 'files-label' }, h('span', {}, t('attachments')), files) : null,
      error, h('div', { class: 'actions' }, send));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!text.value.trim()) { error.textContent = t('err.text'); error.hidden = false; text.focus(); return; }
      send.disabled = true;
      error.hidden = true;
      try {
        const ids = files?.files.length ? await uploadAll(this.api, files.files) : [];
        const query = ids.length ? `?${new URLSearchParams({ attachments: ids.join(',') })}` : '';
        await this.api.request('POST', `/api/messageConversations/${encodeURIComponent(conversation.id)}${query}`,
          { text: text.value });
        toast(t('toast.reply_sent'));
        await this.open(this.inbox.get(item.id) || item);
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        send.disabled = false;
      }
    });
    return form;
  }
}
