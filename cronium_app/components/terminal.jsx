// The browser terminal: xterm.js connected by a websocket to the app's
// /api/terminal/{server_id}, which relays to a shell on the server.
//
// Frames: binary both ways for the shell's input and output; text frames
// are JSON: from the page {"type": "resize", cols, rows}, from the app
// {"type": "ready"} and {"type": "closed", code, reason}.
import { useEffect, useRef } from "react";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";

// The app refuses input frames over 64 KiB: a large paste goes in pieces.
const INPUT_PIECE = 16 * 1024;

const THEME = {
  background: "#111113",
  foreground: "#e8e8ec",
  cursor: "#e8e8ec",
  selectionBackground: "#4a5a80",
};

function socketUrl(path, cols, rows) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("cols", String(cols));
  url.searchParams.set("rows", String(rows));
  return url.toString();
}

function isCopy(event) {
  return event.type === "keydown" && (event.ctrlKey || event.metaKey) && event.shiftKey && event.code === "KeyC";
}

function isPaste(event) {
  return event.type === "keydown" && (event.ctrlKey || event.metaKey) && event.shiftKey && event.code === "KeyV";
}

export function CroniumTerminal({ path, active, onStatus, label, ...rest }) {
  const box = useRef(null);
  const socket = useRef(null);
  const report = useRef(onStatus);
  report.current = onStatus;

  // `active` false: the person closed the terminal; its text stays on screen.
  useEffect(() => {
    if (active === false && socket.current) socket.current.closeFromPage();
  }, [active]);

  useEffect(() => {
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
      fontSize: 14,
      scrollback: 5000,
      theme: THEME,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    const status = (kind, reason) => report.current && report.current(kind, reason || "");
    status("connecting", "");

    const ws = new WebSocket(socketUrl(path, term.cols, term.rows));
    ws.binaryType = "arraybuffer";
    const encoder = new TextEncoder();
    let closedWith = null;
    ws.closeFromPage = () => {
      closedWith = closedWith || { reason: "you closed the terminal" };
      ws.close(1000);
    };
    socket.current = ws;

    const sendInput = (bytes) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (let at = 0; at < bytes.length; at += INPUT_PIECE) ws.send(bytes.subarray(at, at + INPUT_PIECE));
    };
    const sendSize = () => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
    };

    ws.onmessage = (event) => {
      if (typeof event.data !== "string") {
        term.write(new Uint8Array(event.data));
        return;
      }
      let message = null;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "ready") {
        sendSize();
        status("open", "");
        term.focus();
      } else if (message.type === "closed") {
        closedWith = message;
      }
    };
    ws.onclose = (event) => {
      const reason = (closedWith && closedWith.reason) || event.reason || "the connection to the app was lost";
      // The reason may name the server as its owner typed it: no control characters reach the screen.
      term.write(`\r\n\x1b[2m[${reason.replace(/[\x00-\x1f\x7f]/g, " ")}]\x1b[0m\r\n`);
      status("closed", reason);
    };

    const subscriptions = [
      term.onData((data) => sendInput(encoder.encode(data))),
      term.onBinary((data) => sendInput(Uint8Array.from(data, (ch) => ch.charCodeAt(0) & 255))),
      term.onResize(sendSize),
    ];
    // Ctrl+Shift+C copies the selection; Ctrl+Shift+V is left to the
    // browser, whose paste event xterm turns into input.
    term.attachCustomKeyEventHandler((event) => {
      if (isCopy(event)) {
        if (term.hasSelection() && navigator.clipboard) navigator.clipboard.writeText(term.getSelection()).catch(() => null);
        event.preventDefault();
        return false;
      }
      return !isPaste(event);
    });
    const observer = new ResizeObserver(() => {
      try {
        fit.fit();
      } catch (error) {
        // hidden or detached: nothing to fit
      }
    });
    observer.observe(box.current);

    return () => {
      observer.disconnect();
      subscriptions.forEach((subscription) => subscription.dispose());
      ws.onclose = null;
      socket.current = null;
      ws.close(1000);
      term.dispose();
    };
  }, [path]);

  return <div ref={box} role="region" aria-label={label} {...rest} />;
}
