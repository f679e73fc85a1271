// The DHIS2 Messaging app's request sequence (docs/dhis2.md#the-dhis2-messaging-app), sent through
// @dhis2/app-service-data's own DataEngine and RestAPILink, the data layer every DHIS2 app uses, against a running
// local stack: on /api/40/... (the app's apiVersion) and on /api/.... The only thing added is the Authorization
// header (a browser would carry the session instead). tests/e2e/test_dhis2_app.py starts the stack and runs this
// file; by hand: POSTBOX_URL=http://127.0.0.1:3000 node --test tests/e2e/dhis2app/
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BASE = process.env.POSTBOX_URL || 'http://127.0.0.1:3000';
// DataEngine and RestAPILink are what DataProvider builds; the package exports only the React layer, so they are
// loaded from its build by path.
const require = createRequire(import.meta.url);
const DATA = join(dirname(fileURLToPath(import.meta.url)), 'node_modules/@dhis2/app-service-data/build/cjs');
const { DataEngine } = require(join(DATA, 'engine/index.js'));
const { RestAPILink } = require(join(DATA, 'links/RestAPILink.js'));
const { fetchData } = require(join(DATA, 'links/RestAPILink/fetchData.js'));
const run = Date.now().toString(36).slice(-5);

const tokens = new Map();
async function tokenFor(user) {
  if (!tokens.has(user)) {
    const response = await fetch(`${BASE}/local/token?user=${user}`);
    assert.equal(response.status, 200, `no token for ${user}`);
    tokens.set(user, (await response.json()).token);
  }
  return tokens.get(user);
}

// app-runtime calls the global fetch with credentials and X-Requested-With; this adds the bearer header, nothing
// else, and remembers every request so the test can show the paths the engine used.
const seen = [];
const realFetch = globalThis.fetch;
let currentToken = null;
globalThis.fetch = (url, options = {}) => {
  if (String(url).startsWith(BASE) && currentToken) {
    seen.push(`${options.method || 'GET'} ${String(url).slice(BASE.length)}`);
    options = { ...options, headers: { ...options.headers, Authorization: `Bearer ${currentToken}` } };
  }
  return realFetch(url, options);
};

class UnversionedLink extends RestAPILink {
  constructor(config) {
    super(config);
    this.versionedApiPath = this.unversionedApiPath;  // what the platform's own unversioned calls use
  }
}

function engineFor(versioned) {
  const config = { baseUrl: BASE, apiVersion: 40, serverVersion: { major: 2, minor: 40, patch: 0 } };
  return new DataEngine(versioned ? new RestAPILink(config) : new UnversionedLink(config));
}

async function as(user, work) {
  const previous = currentToken;
  currentToken = await tokenFor(user);
  try {
    return await work();
  } finally {
    currentToken = previous;
  }
}

const FIELDS_LIST = ['id', 'displayName', 'subject', 'messageType', 'lastSender[id, displayName]',
  'assignee[id, displayName]', 'status', 'priority', 'lastUpdated', 'read', 'lastMessage', 'followUp'];
const FIELDS_ONE = ['*', 'assignee[id, displayName]',
  'messages[*,sender[id,displayName],attachments[id, name, contentLength]]', 'userMessages[user[id, displayName]]'];

// src/utils/createRecipientSearchQuery.js, core >= 2.35
const recipientSearch = (query, feedback) => ({
  users: { resource: feedback ? 'userLookup/feedbackRecipients' : 'userLookup', params: { query } },
  organisationUnits: {
    resource: 'organisationUnits',
    params: { fields: ['id', 'displayName'], pageSize: 10, filter: [`displayName:token:${query}`, 'users:gte:1'] },
  },
  userGroups: {
    resource: 'userGroups', params: { fields: ['id, displayName'], pageSize: 10, filter: [`displayName:token:${query}`] },
  },
});

for (const versioned of [true, false]) {
  const label = versioned ? '/api/40' : '/api';

  test(`the app's start-up and recipient search through DataEngine on ${label}`, async () => {
    const engine = engineFor(versioned);
    await as('alice', async () => {
      // The platform: user settings, me?fields=id, the header bar's me and dashboard, system info.
      const platform = await engine.query({
        settings: { resource: 'userSettings' },
        me: { resource: 'me', params: { fields: ['id'] } },
        header: { resource: 'me', params: { fields: ['authorities', 'avatar', 'email', 'name', 'settings'] } },
        dashboard: { resource: 'me/dashboard' },
        info: { resource: 'system/info' },
      });
      assert.equal(platform.settings.keyUiLocale, 'en');
      assert.deepEqual(platform.me, { id: 'alice' });
      assert.equal(platform.header.email, 'alice@example.org');
      assert.equal(platform.header.avatar, undefined);
      assert.equal(platform.dashboard.unreadInterpretations, 0);
      assert.ok(Number(platform.info.version.split('.')[1]) >= 40, platform.info.version);
      assert.match(platform.info.serverDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);

      // The app: the current user (it cannot start without it) and the configuration.
      const { currentUser, configuration } = await engine.query({
        currentUser: { resource: 'me', params: { fields: ['id', 'authorities', 'userGroups[id]'] } },
        configuration: { resource: 'configuration' },
      });
      assert.equal(currentUser.id, 'alice');
      assert.ok(Array.isArray(currentUser.authorities) && !currentUser.authorities.includes('ALL'));
      assert.ok(currentUser.userGroups.some((group) => group.id === 'field-team'));
      assert.equal(configuration.feedbackRecipients.id, 'support');

      // Composing: one query of three, as the app sends it.
      const found = await engine.query(recipientSearch('ba', false));
      assert.deepEqual(found.users.users.map((u) => [u.id, u.displayName]), [['bob', 'Bob Baraka']]);
      for (const user of found.users.users) {
        assert.deepEqual(Object.keys(user).sort(), ['displayName', 'firstName', 'id', 'surname', 'username']);
      }
      const districts = await engine.query(recipientSearch('dist', false));
      assert.deepEqual(districts.organisationUnits.organisationUnits, [{ id: 'OuDistrict1', displayName: 'District 1' }]);
      const groups = await engine.query(recipientSearch('fie', false));
      assert.deepEqual(groups.userGroups.userGroups, [{ id: 'field-team', displayName: 'field-team' }]);
      // Assigning a ticket searches the feedback group only.
      const managers = await engine.query(recipientSearch('car', true));
      assert.deepEqual(managers.users.users.map((u) => u.id), ['carol']);
      // A deep link to write to a user; and the search of cores before 2.35.
      const { user } = await engine.query({ user: { resource: 'users', id: 'bob', params: { fields: ['id', 'displayName'] } } });
      assert.deepEqual(user, { id: 'bob', displayName: 'Bob Baraka' });
      const { old } = await engine.query({
        old: { resource: 'users', params: { filter: ['displayName:token:erin', 'userGroups.id:eq:field-team'], pageSize: 10 } },
      });
      assert.deepEqual(old.users, [{ id: 'erin', displayName: 'Erin Eko' }]);
    });
  });

  test(`the app's conversation work through DataEngine on ${label}`, async () => {
    const engine = engineFor(versioned);
    const subject = `Stock ${label} ${run}`;
    const conversationId = await as('alice', async () => {
      // An attachment, then a conversation carrying it (the app's sendMessage), then a trailing-slash create.
      const file = new Blob(['count,boxes\n1,40\n'], { type: 'application/octet-stream' });
      const uploaded = await engine.mutate({ resource: 'fileResources', type: 'create', params: { domain: 'MESSAGE_ATTACHMENT' },
        data: { file } });
      const { id: fileId, contentLength } = uploaded.response.fileResource;
      assert.equal(contentLength, 17);
      const created = await engine.mutate({ resource: 'messageConversations', type: 'create', data: {
        subject, text: 'Please count', users: [{ id: 'bob', displayName: 'Bob Baraka', type: 'user' }], userGroups: [],
        organisationUnits: [], attachments: [{ id: fileId, name: 'count.csv', contentLength, loading: false }],
      } });
      assert.equal(created.httpStatusCode, 201);
      // The engine's joinPath drops a trailing slash; app-runtime's own fetchData sends it as DHIS2's tests do.
      const slashed = await fetchData(`${BASE}/${versioned ? 'api/40' : 'api'}/messageConversations/`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ subject: `${subject} (slash)`, text: 'Again', users: [{ id: 'bob' }] }) });
      assert.equal(slashed.httpStatusCode, 201);
      const { list } = await engine.query({ list: { resource: 'messageConversations', params: {
        filter: ['messageType:eq:PRIVATE'], pageSize: 35, page: 1, fields: FIELDS_LIST, order: 'lastMessage:desc',
        queryString: run } } });
      const mine = list.messageConversations.find((c) => c.subject === subject);
      assert.ok(mine, JSON.stringify(list));
      return mine.id;
    });

    await as('bob', async () => {
      const { unread } = await engine.query({ unread: { resource: 'messageConversations', params: {
        fields: ['read'], filter: ['read:eq:false', 'messageType:eq:PRIVATE'], pageSize: 1 } } });
      assert.ok(unread.pager.total >= 1);
      const { one } = await engine.query({ one: { resource: 'messageConversations', id: conversationId,
        params: { fields: FIELDS_ONE } } });
      assert.equal(one.messages[0].attachments[0].contentLength, 17);
      assert.ok(one.userMessages.some((m) => m.user.id === 'alice'));
      // Reply with a versioned upload attached, mark read and follow up, as the app does.
      const reply = new Blob(['ok'], { type: 'text/plain' });
      const uploaded = await engine.mutate({ resource: 'fileResources', type: 'create', params: { domain: 'MESSAGE_ATTACHMENT' },
        data: { file: reply } });
      await engine.mutate({ resource: `messageConversations/${conversationId}`, type: 'create',
        params: { internal: false, attachments: uploaded.response.fileResource.id }, data: 'Counted: 40' });
      await engine.mutate({ resource: 'messageConversations/read', type: 'create', data: [conversationId] });
      await engine.mutate({ resource: 'messageConversations/followup', type: 'create', data: [conversationId] });
      const { after } = await engine.query({ after: { resource: 'messageConversations', id: conversationId,
        params: { fields: ['followUp', 'read', 'messages[text]'] } } });
      assert.equal(after.followUp, true);
      assert.deepEqual(after.messages.map((m) => m.text), ['Please count', 'Counted: 40']);
    });

    // A ticket, managed by the support group's manager: status, priority, assignment, an internal note.
    const ticket = await as('dave', async () => {
      await engine.mutate({ resource: 'messageConversations/feedback', type: 'create', params: { subject: `Help ${run} ${label}` },
        data: 'The printer' });
      const { tickets } = await engine.query({ tickets: { resource: 'messageConversations', params: {
        filter: ['messageType:eq:TICKET'], fields: ['id', 'subject'], queryString: run, pageSize: 35 } } });
      return tickets.messageConversations.find((c) => c.subject === `Help ${run} ${label}`).id;
    });
    await as('carol', async () => {
      await engine.mutate({ resource: `messageConversations/${ticket}/status`, type: 'create',
        params: { messageConversationStatus: 'OPEN' } });
      await engine.mutate({ resource: `messageConversations/${ticket}/priority`, type: 'create',
        params: { messageConversationPriority: 'HIGH' } });
      await engine.mutate({ resource: `messageConversations/${ticket}/assign`, type: 'create', params: { userId: 'carol' } });
      await engine.mutate({ resource: `messageConversations/${ticket}`, type: 'create', params: { internal: true },
        data: 'Toner is out' });
      const { one } = await engine.query({ one: { resource: 'messageConversations', id: ticket,
        params: { fields: ['status', 'priority', 'assignee[id, displayName]', 'messages[text,internal]'] } } });
      assert.deepEqual([one.status, one.priority, one.assignee.id], ['OPEN', 'HIGH', 'carol']);
      assert.ok(one.messages.some((m) => m.internal && m.text === 'Toner is out'));
    });

    // Errors reach the app as DHIS2's message.
    await as('bob', async () => {
      await assert.rejects(engine.query({ nobody: { resource: 'users', id: 'nobody' } }),
        (error) => error.details.errorCode === 'E1005');
      await assert.rejects(engine.query({ bad: { resource: 'userGroups', params: { filter: ['displayName:regex:x'] } } }),
        (error) => error.type === 'access' && /not a valid operator/.test(error.message));
      await engine.mutate({ resource: `messageConversations/${conversationId}/bob`, type: 'delete' });
    });

    const prefix = versioned ? '/api/40/' : '/api/';
    assert.ok(seen.some((r) => r.startsWith(`POST ${prefix}fileResources?domain=MESSAGE_ATTACHMENT`)), seen.join('\n'));
    assert.ok(seen.some((r) => r === `POST ${prefix}messageConversations/`), seen.join('\n'));
  });
}
