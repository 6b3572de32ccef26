// Preload (node --require) that forbids network access: every outgoing connection or DNS lookup
// is refused and recorded in $NO_NETWORK_LOG, so a test can prove a tool ran fully offline even
// when the tool swallows the error (telemetry, update checks).
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');

const log = process.env.NO_NETWORK_LOG;
function refuse(what) {
  if (log) fs.appendFileSync(log, `${process.pid} ${what}\n`);
  return new Error(`network access is forbidden here (${what})`);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const opts = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  if (opts.path) return connect.apply(this, args); // local IPC sockets are not network
  const err = refuse(`connect ${opts.host ?? 'localhost'}:${opts.port}`);
  process.nextTick(() => this.destroy(err));
  return this;
};
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  const original = dns[name];
  dns[name] = function (host, ...rest) {
    const cb = rest.find((a) => typeof a === 'function');
    const err = refuse(`dns ${name} ${host}`);
    if (cb) process.nextTick(() => cb(err));
    else return original.call(this, host, ...rest);
  };
}
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  dns.promises[name] = async (host) => {
    throw refuse(`dns ${name} ${host}`);
  };
}
