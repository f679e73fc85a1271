// The inbox list: newest first, cursor paging, filters, counts, and the live events that keep it current.

import { $, announce, h, when } from './dom.js';

const PAGE_SIZE = 25;
const KIND_LABEL = { message: 'message', conversation: 'conversation', alert: 'alert' };

const newestFirst = (a, b) => (b.created_at || '').localeCompare(a.created_at || '') || b.id.localeCompare(a.id);

export class Inbox {
  constructor({ api, onOpen, onError }) {
    this.api = api;
    this.onOpen = onOpen;
    this.onError = onError;
    this.items = [];
    this.cursor = null;
    this.filters = { unread: false, kind: '' };
    this.selectedId = null;
    this.counts = null;
    this.loading = false;
    this.generation = 0;
    // Settles once a first page is in (a reload superseded by a newer one, e.g. on connecting, does not count).
    this.firstLoad = new Promise((resolve) => { this.firstLoaded = resolve; });
    this.countsTimer = null;
    this.list = $('#items');
    this.bind();
  }

  bind() {
    for (const radio of document.querySelectorAll('input[name="show"]')) {
      radio.addEventListener('change', () => { this.filters.unread = radio.value === 'unread'; this.reload(); });
    }
    $('#kind').addEventListener('change', (e) => { this.filters.kind = e.target.value; this.reload(); });
    $('#more').addEventListener('click', () => this.loadMore());
    $('#read-all').addEventListener('click', () => this.readAll());
  }

  matches(item) {
    return !item.archived && (!this.filters.unread || !item.read) && (!this.filters.kind || item.kind === this.filters.kind);
  }

  query(cursor) {
    return { limit: PAGE_SIZE, unread: this.filters.unread ? 'true' : undefined, kind: this.filters.kind || undefined,
      cursor: cursor || undefined };
  }

  /** The first page and the counts again (after sign-in, a filter change, or a reconnect). */
  async reload() {
    const generation = ++this.generation;
    this.loading = true;
    this.renderStatus();
    try {
      const [page] = await Promise.all([this.api.get('/api/v1/inbox', this.query()), this.refreshCounts()]);
      if (generation !== this.generation) return;
      this.items = page.items.filter((item) => this.matches(item) || item.id === this.selectedId);
      this.cursor = page.next_cursor;
    } catch (error) {
      if (generation === this.generation) this.onError(error);
    } finally {
      if (generation === this.generation) { this.loading = false; this.render(); this.firstLoaded(); }
    }
  }

  async loadMore() {
    if (!this.cursor || this.loading) return;
    const generation = this.generation;
    this.loading = true;
    this.renderStatus();
    try {
      const page = await this.api.get('/api/v1/inbox', this.query(this.cursor));
      if (generation !== this.generation) return;
      const known = new Set(this.items.map((item) => item.id));
      this.items.push(...page.items.filter((item) => !known.has(item.id)));
      this.cursor = page.next_cursor;
      announce(`${page.items.length} more loaded`);
    } catch (error) {
      this.onError(error);
    } finally {
      this.loading = false;
      this.render();
    }
  }

  async refreshCounts() {
    try {
      this.counts = await this.api.get('/api/v1/inbox/counts');
      this.renderCounts();
    } catch (error) {
      this.onError(error);
    }
  }

  scheduleCounts() {
    clearTimeout(this.countsTimer);
    this.countsTimer = setTimeout(() => this.refreshCounts(), 250);
  }

  // -- changes made here ------------------------------------------------------------------------------

  upsert(entry) {
    const index = this.items.findIndex((item) => item.id === entry.id);
    if (index >= 0) {
      if (this.matches(entry) || entry.id === this.selectedId) this.items[index] = entry;
      else this.items.splice(index, 1);
    } else if (this.matches(entry)) {
      const oldest = this.items[this.items.length - 1];
      // Older than everything loaded while more pages remain: it comes with "Load more".
      if (this.cursor && oldest && newestFirst(entry, oldest) > 0) return;
      this.items.push(entry);
      this.items.sort(newestFirst);
    }
  }

  remove(id) {
    this.items = this.items.filter((item) => item.id !== id);
  }

  get(id) { return this.items.find((item) => item.id === id); }

  async setRead(item, read) {
    try {
      await this.api.post(read ? '/api/v1/inbox/read' : '/api/v1/inbox/unread', { ids: [item.id] });
      this.upsert({ ...item, read, read_at: read ? new Date().toISOString() : null });
      this.render();
      this.refreshCounts();
    } catch (error) {
      this.onError(error);
    }
  }

  async delete(item) {
    try {
      await this.api.delete(`/api/v1/inbox/${encodeURIComponent(item.id)}`);
      this.remove(item.id);
      if (this.selectedId === item.id) this.onOpen(null);
      this.render();
      this.refreshCounts();
      announce(`Deleted the ${KIND_LABEL[item.kind] || 'item'} from ${item.from}`);
    } catch (error) {
      this.onError(error);
    }
  }

  async readAll() {
    try {
      await this.api.post('/api/v1/inbox/read-all');
      await this.reload();
      announce('All marked read');
    } catch (error) {
      this.onError(error);
    }
  }

  // -- changes made elsewhere (MQTT) ----------------------------------------------------------------------

  apply(event) {
    const entry = event.entry;
    const known = Boolean(this.get(entry.id));
    let total = 0;  // until the counts come back
    switch (event.event) {
      case 'created':
        if (!known && this.matches(entry)) announce(`New ${KIND_LABEL[entry.kind] || 'item'} from ${entry.from}`);
        if (!known) total = 1;
        this.upsert(entry);
        break;
      case 'deleted':
      case 'archived':
        if (known) total = -1;
        this.remove(entry.id);
        if (this.selectedId === entry.id) this.onOpen(null, event.event === 'deleted' ? 'This item was deleted.' : 'This item was archived.');
        break;
      default:  // read, unread, unarchived, updated
        this.upsert(entry);
    }
    if (Number.isInteger(event.unread) && this.counts) {
      this.counts = { unread: event.unread, total: Math.max(event.unread, this.counts.total + total) };
      this.renderCounts();
    }
    this.scheduleCounts();
    this.render();
  }

  // -- rendering ------------------------------------------------------------------------------------------

  select(id) {
    this.selectedId = id;
    for (const li of this.list.children) li.classList.toggle('selected', li.dataset.id === id);
  }

  renderCounts() {
    const badge = $('#unread-badge');
    const unread = this.counts?.unread ?? 0;
    badge.hidden = !this.counts || unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute('aria-label', `${unread} unread`);
    document.title = unread ? `(${unread}) Postbox` : 'Postbox';
    $('#counts').textContent = this.counts ? `${unread} unread · ${this.counts.total} in your inbox` : '';
  }

  renderStatus() {
    this.list.setAttribute('aria-busy', String(this.loading));
    $('#more').disabled = this.loading;
    $('#more').textContent = this.loading && this.cursor ? 'Loading…' : 'Load more';
  }

  render() {
    const focused = document.activeElement?.closest?.('li[data-id]');
    const focusedId = focused?.dataset.id;
    const focusedAction = document.activeElement?.dataset?.action;
    this.list.replaceChildren(...this.items.map((item) => this.row(item)));
    $('#empty').hidden = this.loading || this.items.length > 0;
    $('#empty').textContent = this.filters.unread ? 'No unread items.' : 'Nothing here yet.';
    $('#more').hidden = !this.cursor;
    this.renderStatus();
    if (focusedId) {
      const again = this.list.querySelector(`li[data-id="${CSS.escape(focusedId)}"] [data-action="${focusedAction}"]`);
      again?.focus();
    }
  }

  row(item) {
    const label = `${item.read ? '' : 'Unread '}${KIND_LABEL[item.kind] || item.kind} from ${item.from}`;
    return h('li', {
      class: `item${item.read ? '' : ' unread'}${item.id === this.selectedId ? ' selected' : ''}`,
      dataset: { id: item.id, kind: item.kind, read: String(item.read) },
    },
    h('button', { type: 'button', class: 'open', 'data-action': 'open', 'aria-label': `${label}: ${item.text}`,
      onclick: () => this.onOpen(item) },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    h('span', { class: 'from' }, item.from),
    h('span', { class: 'tag' }, KIND_LABEL[item.kind] || item.kind),
    when(item.created_at),
    h('span', { class: 'text' }, item.text)),
    h('span', { class: 'actions' },
      h('button', { type: 'button', 'data-action': 'toggle-read', onclick: () => this.setRead(item, !item.read),
        'aria-label': `Mark the ${KIND_LABEL[item.kind] || 'item'} from ${item.from} ${item.read ? 'unread' : 'read'}` },
      item.read ? 'Mark unread' : 'Mark read'),
      h('button', { type: 'button', 'data-action': 'delete', onclick: () => this.delete(item),
        'aria-label': `Delete the ${KIND_LABEL[item.kind] || 'item'} from ${item.from}` }, 'Delete')));
  }
}
