// Connections to a gameserver: WebTransport (a control stream of
// varint-length-prefixed messages plus datagrams) or WebSocket (one binary
// frame per message). Both hand every ServerMessage to onMessage.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { sizeDelimitedEncode } from "@bufbuild/protobuf/wire";
import { ClientMessageSchema, ServerMessageSchema } from "./gen/skirmish/v1/realtime_pb";
import type { ClientMessage, ServerMessage } from "./gen/skirmish/v1/realtime_pb";

export interface Link {
  readonly kind: "webtransport" | "websocket";
  // send sends reliably (join, inputs, leave).
  send(m: ClientMessage): void;
  // sendUnreliable sends where loss is fine (acks, pings).
  sendUnreliable(m: ClientMessage): void;
  close(): void;
  bytesIn: number;
}

export interface Handlers {
  onMessage(m: ServerMessage, bytes: number): void;
  onClose(reason: string): void;
}

export async function connectWebSocket(url: string, h: Handlers): Promise<Link> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  const link: Link = {
    kind: "websocket",
    bytesIn: 0,
    send: (m) => ws.readyState === WebSocket.OPEN && ws.send(toBinary(ClientMessageSchema, m)),
    sendUnreliable: (m) => link.send(m),
    close: () => ws.close(1000),
  };
  ws.onmessage = (ev) => {
    const b = new Uint8Array(ev.data as ArrayBuffer);
    link.bytesIn += b.length;
    h.onMessage(fromBinary(ServerMessageSchema, b), b.length);
  };
  ws.onclose = (ev) => h.onClose(ev.reason || `closed (${ev.code})`);
  return link;
}

export async function connectWebTransport(url: string, certHashes: number[][], h: Handlers, timeoutMs = 3000): Promise<Link> {
  const opts: WebTransportOptions = {};
  if (certHashes.length > 0) {
    opts.serverCertificateHashes = certHashes.map((v) => ({ algorithm: "sha-256", value: new Uint8Array(v) }));
  }
  const wt = new WebTransport(url, opts);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      wt.ready,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("webtransport timed out")), timeoutMs); }),
    ]);
  } catch (e) {
    try { wt.close(); } catch { /* already failed */ }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const stream = await wt.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const dgWriter = wt.datagrams.writable.getWriter();
  let open = true;
  const link: Link = {
    kind: "webtransport",
    bytesIn: 0,
    send: (m) => { if (open) writer.write(sizeDelimitedEncode(ClientMessageSchema, m)).catch(() => {}); },
    sendUnreliable: (m) => { if (open) dgWriter.write(toBinary(ClientMessageSchema, m)).catch(() => {}); },
    close: () => { open = false; try { wt.close({ closeCode: 0, reason: "" }); } catch { /* closed */ } },
  };
  const deliver = (b: Uint8Array) => {
    link.bytesIn += b.length;
    h.onMessage(fromBinary(ServerMessageSchema, b), b.length);
  };
  // Datagrams: snapshots (a late or lost one is replaced by the next).
  (async () => {
    const r = wt.datagrams.readable.getReader();
    for (;;) {
      const { value, done } = await r.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      deliver(value as Uint8Array);
    }
  })();
  // The control stream: varint length, then the message.
  (async () => {
    const r = stream.readable.getReader();
    let buf = new Uint8Array(0);
    for (;;) {
      const { value, done } = await r.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) break;
      const nb = new Uint8Array(buf.length + value.length);
      nb.set(buf); nb.set(value as Uint8Array, buf.length); buf = nb;
      for (;;) {
        let n = 0, shift = 0, i = 0;
        for (; i < buf.length && i < 5; i++) {
          n |= (buf[i] & 0x7f) << shift; shift += 7;
          if (buf[i] < 0x80) break;
        }
        if (i >= buf.length || buf.length < i + 1 + n) break;
        deliver(buf.subarray(i + 1, i + 1 + n));
        buf = buf.slice(i + 1 + n);
      }
    }
    // The server ended the stream after the match end or an error.
    link.close();
  })();
  wt.closed.then((i) => { open = false; h.onClose(i.reason || "closed"); }, (e) => { open = false; h.onClose(String(e)); });
  return link;
}
