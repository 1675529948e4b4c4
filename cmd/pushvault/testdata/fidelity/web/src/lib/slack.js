'use strict';

const { WebClient } = require('@slack/web-api');

const SLACK_BOT_TOKEN = '@@SLACK@@';
const CHANNEL = '#orders';

const client = new WebClient(SLACK_BOT_TOKEN);

async function notifyOrder(order) {
  await client.chat.postMessage({
    channel: CHANNEL,
    text: `New order ${order.id} for ${order.total}`,
  });
}

module.exports = { notifyOrder };
