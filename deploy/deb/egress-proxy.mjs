// A forwarding HTTP proxy (plain requests and CONNECT tunnels) for deploy/deb/check-quickstart.sh:
// the only way out of the check's network namespace, for apt and npm inside it. Listens on
// HOST:PORT (argv), logs one line per request to stderr, stops on SIGTERM.
import { createServer, request } from 'node:http';
import { connect } from 'node:net';

const [host, port] = [process.argv[2] ?? '127.0.0.1', Number(process.argv[3] ?? 8888)];

const server = createServer((req, res) => {
  let url;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end('absolute URL expected\n');
    return;
  }
  process.stderr.write(`${req.method} ${url.host}\n`);
  const up = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (err) => res.headersSent ? res.destroy() : res.writeHead(502).end(`${err.message}\n`));
  req.pipe(up);
});

server.on('connect', (req, socket, head) => {
  const [h, p] = (req.url ?? '').split(':');
  process.stderr.write(`CONNECT ${h}:${p}\n`);
  const up = connect(Number(p || 443), h, () => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  const close = () => { up.destroy(); socket.destroy(); };
  up.on('error', close);
  socket.on('error', close);
});

server.listen(port, host, () => process.stderr.write(`egress proxy on ${host}:${port}\n`));
process.on('SIGTERM', () => { server.close(); process.exit(0); });
