// Connections to a gameserver: WebTransport (a reliable control stream of
// varint-length-prefixed messages plus datagrams for snapshots, acks and
// pings) or WebSocket (one binary frame per message). connect picks one:
// WebTransport where the runtime and the assignment offer it, else
// WebSocket.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClientMessageSchema, ServerMessageSchema } from "./gen/skirmish/v1/realtime_pb.js";
import type { ClientMessage, ServerMessage } from "./gen/skirmish/v1/realtime_pb.js";
import type { Assignment } from "./gen/skirmish/v1/matchmaker_pb.js";

/** The most bytes one message may have (as the Go SDK and the server). */
export const MAX_FRAME = 1 << 20;

export type TransportKind = "webtransport" | "websocket";

export interface Link {
  readonly kind: TransportKind;
  /** send sends reliably (join, inputs, leave). */
  send(m: ClientMessage): void;
  /** sendUnreliable sends where loss is fine (acks, pings). */
  sendUnreliable(m: ClientMessage): void;
  /** close closes the connection; onClose follows. */
  close(): void;
  /** Bytes received so far. */
  readonly bytesIn: number;
}

export interface LinkHandlers {
  onMessage(m: ServerMessage, bytes: number): void;
  /** onClose is called once: normal is true for a clean close by either side. */
  onClose(reason: string, normal: boolean): void;
}

export interface ConnectOptions {
  /** "auto" (default) tries WebTransport, then falls back to WebSocket. */
  transport?: "auto" | TransportKind;
  /** Override the assignment's URLs. */
  websocketUrl?: string;
  webtransportUrl?: string;
  /** SHA-256 hashes of self-signed certificates to accept, added to the assignment's. */
  certHashes?: Uint8Array[];
  /** Give up on WebTransport after this many ms; default 3000. */
  webtransportTimeoutMs?: number;
  /** The WebSocket class; default globalThis.WebSocket (Node 22+, browsers). */
  WebSocket?: typeof WebSocket;
  /** Called when WebTransport failed and WebSocket is tried instead. */
  onFallback?: (err: unknown) => void;
}

function decode(b: Uint8Array): ServerMessage {
  return fromBinary(ServerMessageSchema, b);
}

export async function connectWebSocket(url: string, h: LinkHandlers, WS: typeof WebSocket | undefined = globalThis.WebSocket): Promise<Link> {
  if (!url) throw new Error("websocket: no URL");
  if (!WS) throw new Error("websocket: this runtime has no WebSocket; pass one in ConnectOptions.WebSocket");
  const ws = new WS(url);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`websocket ${url} failed`));
    ws.onclose = (ev) => reject(new Error(`websocket ${url} closed (${ev.code}) before it opened`));
  });
  let bytesIn = 0;
  let closed = false;
  const link: Link = {
    kind: "websocket",
    get bytesIn() { return bytesIn; },
    send: (m) => { if (ws.readyState === WS.OPEN) ws.send(toBinary(ClientMessageSchema, m)); },
    sendUnreliable: (m) => link.send(m),
    close: () => { if (ws.readyState === WS.OPEN || ws.readyState === WS.CONNECTING) ws.close(1000); },
  };
  ws.onmessage = (ev) => {
    const b = new Uint8Array(ev.data as ArrayBuffer);
    bytesIn += b.length;
    let m: ServerMessage;
    try { m = decode(b); } catch (e) { ws.close(1002); return finish(`bad message: ${String(e)}`, false); }
    h.onMessage(m, b.length);
  };
  ws.onerror = () => {};
  const finish = (reason: string, normal: boolean) => {
    if (closed) return;
    closed = true;
    h.onClose(reason, normal);
  };
  ws.onclose = (ev) => finish(ev.reason || `closed (${ev.code})`, ev.code === 1000 || ev.code === 1001);
  return link;
}

/**
 * FrameReader splits the control stream into messages: each is a varint
 * length, then that many bytes. Frames over MAX_FRAME are an error.
 */
export class FrameReader {
  // Unread bytes are buf[start:end]; the buffer grows by doubling, so a
  // stream read in small chunks costs linear time.
  private buf = new Uint8Array(256);
  private start = 0;
  private end = 0;

  /** push adds bytes and returns the whole frames they complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const out: Uint8Array[] = [];
    for (;;) {
      const avail = this.end - this.start;
      let n = 0, i = 0, shift = 0, complete = false;
      for (; i < avail && i < 4; i++) {
        const c = this.buf[this.start + i];
        n += (c & 0x7f) * 2 ** shift;
        shift += 7;
        if (c < 0x80) { complete = true; i++; break; }
      }
      if (!complete) {
        if (avail >= 4) throw new Error("frame length is not a varint of at most 4 bytes");
        return out;
      }
      if (n > MAX_FRAME) throw new Error(`frame of ${n} bytes is over the ${MAX_FRAME}-byte bound`);
      if (avail < i + n) return out;
      out.push(this.buf.slice(this.start + i, this.start + i + n));
      this.start += i + n;
    }
  }

  private append(chunk: Uint8Array) {
    const used = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      let cap = this.buf.length;
      while (cap < used + chunk.length) cap *= 2;
      if (cap === this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const nb = new Uint8Array(cap);
        nb.set(this.buf.subarray(this.start, this.end));
        this.buf = nb;
      }
      this.start = 0;
      this.end = used;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}

/** frame prefixes a message with its varint length. */
export function frame(b: Uint8Array): Uint8Array {
  const head: number[] = [];
  let n = b.length;
  while (n >= 0x80) { head.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  head.push(n);
  const out = new Uint8Array(head.length + b.length);
  out.set(head);
  out.set(b, head.length);
  return out;
}

export async function connectWebTransport(url: string, certHashes: Uint8Array[], h: LinkHandlers, timeoutMs = 3000): Promise<Link> {
  if (typeof WebTransport === "undefined") throw new Error("webtransport: this runtime has no WebTransport");
  const opts: WebTransportOptions = {};
  if (certHashes.length > 0) {
    opts.serverCertificateHashes = certHashes.map((v) => ({ algorithm: "sha-256", value: new Uint8Array(v) }));
  }
  const wt = new WebTransport(url, opts);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      wt.ready,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`webtransport ${url} timed out`)), timeoutMs); }),
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
  let bytesIn = 0;
  let ended = false;
  const finish = (reason: string, normal: boolean) => {
    open = false;
    if (ended) return;
    ended = true;
    h.onClose(reason, normal);
  };
  const link: Link = {
    kind: "webtransport",
    get bytesIn() { return bytesIn; },
    send: (m) => { if (open) writer.write(frame(toBinary(ClientMessageSchema, m))).catch(() => {}); },
    sendUnreliable: (m) => { if (open) dgWriter.write(toBinary(ClientMessageSchema, m)).catch(() => {}); },
    close: () => { open = false; try { wt.close({ closeCode: 0, reason: "" }); } catch { /* closed */ } },
  };
  const deliver = (b: Uint8Array) => {
    bytesIn += b.length;
    let m: ServerMessage;
    try { m = decode(b); } catch (e) { link.close(); finish(`bad message: ${String(e)}`, false); return; }
    h.onMessage(m, b.length);
  };
  (async () => {
    const r = wt.datagrams.readable.getReader();
    for (;;) {
      const { value, done } = await r.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      deliver(value as Uint8Array);
    }
  })();
  (async () => {
    const r = stream.readable.getReader();
    const frames = new FrameReader();
    for (;;) {
      const { value, done } = await r.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) break;
      let got: Uint8Array[];
      try { got = frames.push(value as Uint8Array); } catch (e) { link.close(); finish(String(e), false); return; }
      for (const f of got) deliver(f);
    }
    // The server ends the stream after the match end or an error.
    link.close();
  })();
  wt.closed.then((i) => finish(i.reason || "closed", (i.closeCode ?? 0) === 0), (e) => finish(String(e), false));
  return link;
}

/**
 * connect reaches the gameserver of an assignment: WebTransport when asked
 * or when "auto" and both the runtime and the assignment offer it, falling
 * back to WebSocket under "auto".
 */
export async function connect(a: Assignment, h: LinkHandlers, o: ConnectOptions = {}): Promise<Link> {
  const want = o.transport ?? "auto";
  const wtUrl = o.webtransportUrl || a.webtransportUrl;
  if (want === "webtransport" || (want === "auto" && wtUrl && typeof WebTransport !== "undefined")) {
    try {
      return await connectWebTransport(wtUrl, [...(o.certHashes ?? []), ...a.webtransportCertHashes], h, o.webtransportTimeoutMs);
    } catch (e) {
      if (want === "webtransport") throw e;
      o.onFallback?.(e);
    }
  }
  return connectWebSocket(o.websocketUrl || a.websocketUrl, h, o.WebSocket);
}
