// The sink for each kind of channel.

import type { ChannelConfig } from '../config.js';
import { emailSink } from './email.js';
import type { Sink } from './sink.js';
import { slackSink } from './slack.js';
import { teamsSink } from './teams.js';
import { webhookSink } from './webhook.js';

export { DeliveryError, type FailureKind, type Sink } from './sink.js';

export function sinkFor(c: ChannelConfig, source: string): Sink {
  switch (c.type) {
    case 'email':
      return emailSink(c);
    case 'slack':
      return slackSink(c);
    case 'teams':
      return teamsSink(c);
    case 'webhook':
      return webhookSink(c, source);
  }
}
