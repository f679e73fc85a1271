// One opened item: a message (Ona face), a conversation with its thread and a reply box (DHIS2 face) or an
// alert with a link to its frontend_url (Aalam face). A face that is missing or failing degrades to the
// inbox entry's own text with a readable note.

import { fileList, uploadAll } from './attachments.js';
import { $, announce, h, when } from './dom.js';

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
  }

  get features() { return this.config.features || {}; }

  close(note) {
    this.current = null;
    this.inbox.select(null);
    if (note) {
      this.pane.replaceChildren(h('p', { class: 'notice' }, note));
      this.pane.hidden = false;
    } else {
      this.pane.hidden = true;
      this.pane.replaceChildren();
    }
  }

  async open(item) {
    if (!item) return this.close();
    this.current = item;
    this.inbox.select(item.id);
    const token = ++this.loadToken;
    this.pane.hidden = false;
    this.pane.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    if (!item.read) this.inbox.setRead(item, true);
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
    this.pane.focus({ preventScroll: false });
  }

  header(item, title) {
    const current = () => this.inbox.get(item.id) || item;
    return h('header', {},
      h('h2', {}, title),
      h('button', {
        type: 'button',
        onclick: async (event) => {
          const button = event.currentTarget;
          const it = current();
          await this.inbox.setRead(it, !it.read);
          button.textContent = (this.inbox.get(item.id) || it).read ? 'Mark unread' : 'Mark read';
        },
      }, 'Mark unread'),
      h('button', { type: 'button', onclick: () => this.inbox.delete(current()) }, 'Delete'),
      h('button', { type: 'button', 'aria-label': 'Close', onclick: () => this.close() }, 'Close'));
  }

  fallback(item, reason) {
    return [
      this.header(item, `${item.kind} from ${item.from}`),
      h('p', { class: 'meta' }, 'Received ', when(item.created_at)),
      h('p', { class: 'body' }, item.text),
      h('p', { class: 'notice', role: 'note' }, `The full ${item.kind} cannot be shown: ${reason}`),
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
      this.header(item, `Message from ${message.user}`),
      h('p', { class: 'meta' }, when(message.timestamp), message.verb !== 'message' ? ` · ${message.verb}` : ''),
      h('p', { class: 'body' }, message.message),
      Array.isArray(files) ? fileList(this.api, files, this.onError) : null,
    ];
  }

  async alert(item) {
    let alert = null;
    if (this.features.alerts !== false) {
      const alerts = await this.api.get('/aalam/base/messages', { count: 1000 });
      alert = Array.isArray(alerts) ? alerts.find((a) => a.id === item.source_id) : null;
    }
    if (!alert) return this.fallback(item, 'the alert is no longer available.');
    const content = typeof alert.content === 'string' ? alert.content : JSON.stringify(alert.content, null, 2);
    const link = alert.frontend_url ? safeUrl(alert.frontend_url) : null;
    return [
      this.header(item, `Alert from ${alert.from}`),
      h('p', { class: 'meta' }, when(alert.time)),
      typeof alert.content === 'string' ? h('p', { class: 'body' }, content) : h('pre', { class: 'body' }, content),
      link ? h('p', {}, h('a', { href: link, target: '_blank', rel: 'noopener noreferrer' }, 'Open in the app ↗')) : null,
    ];
  }

  async conversation(item) {
    if (this.features.conversations === false) return this.fallback(item, 'conversations are not available here.');
    const id = encodeURIComponent(item.source_id);
    const conversation = await this.api.get(`/api/messageConversations/${id}`);
    const me = this.session.user;
    const thread = h('ol', { class: 'thread', 'aria-label': 'Messages' }, (conversation.messages || []).map((m) => h('li', {
      class: m.sender?.id === me ? 'mine' : '',
    },
    h('div', { class: 'who-when' }, m.sender?.name || m.sender?.id || 'System', ' · ', when(m.created),
      m.internal ? h('span', { class: 'internal' }, ' · internal note') : null),
    h('p', { class: 'body' }, m.text),
    fileList(this.api, m.attachments, this.onError))));
    return [
      this.header(item, conversation.subject || 'Conversation'),
      h('p', { class: 'meta' }, [
        `${(conversation.messageType || 'private').toLowerCase().replace(/_/g, ' ')} conversation`,
        conversation.status && conversation.status !== 'NONE' ? `status ${conversation.status.toLowerCase()}` : null,
        conversation.priority && conversation.priority !== 'NONE' ? `priority ${conversation.priority.toLowerCase()}` : null,
        conversation.assignee ? `assigned to ${conversation.assignee.name || conversation.assignee.id}` : null,
      ].filter(Boolean).join(' · ')),
      thread,
      this.replyForm(item, conversation),
    ];
  }

  replyForm(item, conversation) {
    const text = h('textarea', { id: 'reply-text', rows: 3, required: true, maxlength: 10000 });
    const files = this.features.attachments ? h('input', { id: 'reply-files', type: 'file', multiple: true }) : null;
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const send = h('button', { type: 'submit', class: 'primary' }, 'Send reply');
    const form = h('form', { class: 'reply', 'aria-label': 'Reply' },
      h('label', { for: 'reply-text' }, 'Reply'), text,
      files ? h('label', {}, 'Attachments ', files) : null,
      error, h('div', { class: 'actions' }, send));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!text.value.trim()) return;
      send.disabled = true;
      error.hidden = true;
      try {
        const ids = files?.files.length ? await uploadAll(this.api, files.files) : [];
        const query = ids.length ? `?${new URLSearchParams({ attachments: ids.join(',') })}` : '';
        await this.api.request('POST', `/api/messageConversations/${encodeURIComponent(conversation.id)}${query}`,
          { text: text.value });
        announce('Reply sent');
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
