// The sequence a controller has handled up to, from its durable consumer's info: nats-server says
// ack floor 0 for a consumer that has acknowledged nothing yet, whatever sequence it starts at.
import t from 'tap';
import { handledFloor } from '../src/nats/events-stream.js';

t.equal(handledFloor({ ack_floor: { consumer_seq: 4, stream_seq: 40 }, config: { deliver_policy: 'by_start_sequence', opt_start_seq: 31 } }), 40, 'an acknowledgement: its floor');
t.equal(handledFloor({ ack_floor: { consumer_seq: 0, stream_seq: 0 }, config: { deliver_policy: 'by_start_sequence', opt_start_seq: 31 } }), 30, 'none yet, made to start at 31: everything up to 30');
t.equal(handledFloor({ ack_floor: { consumer_seq: 0, stream_seq: 0 }, config: { deliver_policy: 'all' } }), 0, 'none yet, from the beginning: nothing');
