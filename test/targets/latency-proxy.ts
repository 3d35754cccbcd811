// A delaying TCP proxy (these kernels have no netem): every chunk, and the FIN, is forwarded
// `oneWayDelayMs` after it arrived, per direction, in order, with backpressure. Adds a clean 2D RTT.
import net from "node:net";

export interface LatencyProxy {
  host: "127.0.0.1";
  port: number;
  close(): Promise<void>;
}

function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Array<{ due: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) {
        to.end();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.due - Date.now()));
  };
  const enqueue = (chunk: Buffer | null) => {
    queue.push({ due: Date.now() + delayMs, chunk });
    if (!timer) timer = setTimeout(flush, Math.max(0, queue[0]!.due - Date.now()));
  };
  from.on("data", (d: Buffer) => enqueue(d));
  from.on("end", () => enqueue(null));
  from.on("close", () => {
    if (timer) clearTimeout(timer);
    if (queue.length === 0) to.destroy();
    else setTimeout(() => to.destroy(), delayMs + 50);
  });
}

export async function startLatencyProxy(
  target: { host: string; port: number },
  oneWayDelayMs: number,
): Promise<LatencyProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayedPipe(client, upstream, oneWayDelayMs);
    delayedPipe(upstream, client, oneWayDelayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
