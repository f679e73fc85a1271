// The user's inbox topic over MQTT-over-WebSockets: the local broker's ws:// listener, or AWS IoT Core over
// wss:// with the custom authorizer (the token rides in the query string; the client id starts with the
// principal id the authorizer returns, "u" + the SHA-256 hex of the user id).

import mqtt from 'mqtt';

export async function principalId(userId) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(userId));
  return `u${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function inboxTopic(config, userId) {
  return `${config.mqtt.topic_base || 'postbox'}/user/${userId}/inbox`;
}

function brokerUrl(config, token) {
  const url = new URL(config.mqtt.url);
  if (config.mqtt.authorizer) {
    url.searchParams.set('x-amz-customauthorizer-name', config.mqtt.authorizer);
    url.searchParams.set('token', token);
  }
  return url.toString();
}

/**
 * Subscribes to the inbox topic and keeps doing so across reconnects.
 * onStatus('connecting'|'live'|'reconnecting'|'offline', detail); 'live' comes after every (re)subscription,
 * so the caller re-syncs through the API then. onEvent gets each parsed inbox event.
 */
export function connectInbox({ config, userId, token, onEvent, onStatus }) {
  const topic = inboxTopic(config, userId);
  const suffix = Math.random().toString(36).slice(2, 10);
  let clientId = `web-${userId}-${suffix}`;
  let latestToken = null;
  const refreshToken = () => token().then((t) => { latestToken = t; }).catch(() => {});
  onStatus('connecting');

  let client;
  const start = (first) => {
    client = mqtt.connect(brokerUrl(config, first), {
      clientId, clean: true, keepalive: 30, reconnectPeriod: 2000, connectTimeout: 10_000, protocolVersion: 4,
      resubscribe: false,
      // IoT Core closes the connection when the token expires: reconnect with the current one.
      transformWsUrl: (url) => (config.mqtt.authorizer && latestToken ? brokerUrl(config, latestToken) : url),
    });
    client.on('connect', () => {
      client.subscribe(topic, { qos: 1 }, (error, granted) => {
        if (error || !granted?.length || granted[0].qos === 128) {
          onStatus('offline', 'the broker refused the subscription');
          return;
        }
        onStatus('live');
      });
    });
    client.on('reconnect', () => { refreshToken(); onStatus('reconnecting'); });
    client.on('offline', () => onStatus('offline'));
    client.on('error', (error) => onStatus('reconnecting', error.message));
    client.on('message', (_topic, payload) => {
      let event;
      try { event = JSON.parse(new TextDecoder().decode(payload)); } catch { return; }
      if (event && typeof event === 'object' && event.entry) onEvent(event);
    });
  };
  const principal = config.mqtt.authorizer ? principalId(userId) : Promise.resolve(null);
  Promise.all([token(), principal])
    .then(([t, p]) => { latestToken = t; if (p) clientId = `${p}-web-${suffix}`; start(t); })
    .catch((error) => onStatus('offline', error.message));

  return { close: () => client && client.end(true) };
}
