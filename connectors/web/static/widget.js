/*
 * Shopassist chat widget: one file, no build step.
 *
 *   <script src="https://shop.example/widget.js" data-server="https://shop.example" defer></script>
 *
 * Talks to the server's /ws/chat WebSocket (typed JSON events), shows streamed text, product
 * cards with an add-to-cart button, quick-reply chips, citations, a notice when a person from
 * support joins, and a reconnecting state. It keeps the last event seq it saw (sessionStorage)
 * and sends it on reconnect, so replies that arrived while the connection was down are replayed.
 * Each message carries a message_id and stays pending (sessionStorage) until the server says
 * "received"; pending messages are sent again after a reconnect, and the server answers each
 * id once, so a message lost with the connection is neither dropped nor run twice.
 * The session token lives in an HttpOnly cookie set by the server; a cross-origin embed keeps it
 * in sessionStorage and sends it in the hello event.
 *
 * A shop whose visitor is logged in on its site passes its signed customer token (a JWT, see the
 * README's "Web channel"), so the customer is never asked who they are:
 *
 *   <script src=".../widget.js" data-server="..." data-shop-token="eyJ..." defer></script>
 *
 * or, for a token fetched later, Shopassist.signIn(token). It goes in the WebSocket upgrade URL
 * (?shop_token=; a browser WebSocket cannot send headers). A token the server refuses (expired,
 * not signed by the shop) is dropped: the visitor goes on chatting without it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var server = (script && script.getAttribute("data-server")) || window.location.origin;
  var title = (script && script.getAttribute("data-title")) || "Shop assistant";
  var shopToken = (script && script.getAttribute("data-shop-token")) || null;
  var store = window.sessionStorage;
  var KEY_TOKEN = "shopassist.token", KEY_SEQ = "shopassist.seq", KEY_PENDING = "shopassist.pending";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function money(value) {
    var n = Number(value);
    return isFinite(n) ? "$" + n.toFixed(2) : String(value);
  }

  function wsUrl() {
    var url = new URL("/ws/chat", server);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (shopToken) url.searchParams.set("shop_token", shopToken);
    return url.toString();
  }

  var root = el("div", "sa-widget");
  root.setAttribute("data-testid", "shopassist-widget");
  var launcher = el("button", "sa-launcher", "Chat with us");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  var panel = el("section", "sa-panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("div", "sa-header");
  header.appendChild(el("h2", null, title));
  var close = el("button", "sa-close", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close chat");
  header.appendChild(close);
  var status = el("div", "sa-status");
  status.setAttribute("role", "status");
  var log = el("div", "sa-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  var typing = el("div", "sa-typing");
  typing.setAttribute("aria-live", "polite");
  var form = el("form", "sa-form");
  var input = el("input", "sa-input");
  input.type = "text";
  input.setAttribute("aria-label", "Your message");
  input.placeholder = "Ask about products, orders, returns...";
  input.autocomplete = "off";
  var send = el("button", "sa-send", "Send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  var link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("/widget.css", server).toString();
  document.head.appendChild(link);

  var socket = null, streaming = null, retry = 0, open = false;
  var pending = loadPending();

  function loadPending() {
    try {
      var saved = JSON.parse(store.getItem(KEY_PENDING) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) {
      return [];
    }
  }

  function settle(messageId) {
    if (!messageId) return;
    pending = pending.filter(function (event) { return event.message_id !== messageId; });
    store.setItem(KEY_PENDING, JSON.stringify(pending));
  }

  function newMessageId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  var lastSeq = Number(store.getItem(KEY_SEQ)) || 0;  // (NaN from a damaged entry would go out as null)

  function scroll() { log.scrollTop = log.scrollHeight; }

  function bubble(role, text) {
    var node = el("div", "sa-msg sa-" + role, text);
    node.setAttribute("data-role", role);
    log.appendChild(node);
    scroll();
    return node;
  }

  function setStatus(text) {
    status.textContent = text || "";
    status.className = "sa-status" + (text ? " sa-visible" : "");
  }

  function seen(seq) {
    if (typeof seq === "number" && seq > lastSeq) {
      lastSeq = seq;
      store.setItem(KEY_SEQ, String(seq));
      emit({ type: "ack", seq: seq });
    }
  }

  function cards(products) {
    var row = el("div", "sa-cards");
    row.setAttribute("role", "list");
    products.forEach(function (p) {
      var card = el("article", "sa-card");
      card.setAttribute("role", "listitem");
      card.setAttribute("data-product-id", p.product_id);
      if (p.image_url) {
        var img = el("img");
        img.src = p.image_url;
        img.alt = p.title;
        card.appendChild(img);
      }
      card.appendChild(el("div", "sa-card-title", p.title));
      var price = money(p.price) + (p.max_price ? " to " + money(p.max_price) : "");
      card.appendChild(el("div", "sa-card-price", price));
      var inStock = p.in_stock !== false;
      card.appendChild(el("div", "sa-card-stock", inStock ? "In stock" : "Out of stock"));
      var add = el("button", null, "Add to cart");
      add.type = "button";
      add.disabled = !inStock;
      add.setAttribute("aria-label", "Add " + p.title + " to cart");
      add.addEventListener("click", function () {
        say('Add "' + p.title + '" to my cart', { kind: "add_to_cart", product_id: p.product_id });
      });
      card.appendChild(add);
      row.appendChild(card);
    });
    log.appendChild(row);
    scroll();
  }

  function chips(replies) {
    if (!replies || !replies.length) return;
    var row = el("div", "sa-chips");
    replies.forEach(function (q) {
      var chip = el("button", "sa-chip", q.label);
      chip.type = "button";
      chip.addEventListener("click", function () { say(q.payload || q.label); });
      row.appendChild(chip);
    });
    log.appendChild(row);
    scroll();
  }

  function onEvent(event) {
    switch (event.type) {
      case "session":
        if (event.session_token) store.setItem(KEY_TOKEN, event.session_token);
        break;
      case "typing":
        typing.textContent = "Assistant is typing\u2026";
        break;
      case "token":
        if (!streaming || event.reset) {
          if (streaming && event.reset) streaming.textContent = "";
          streaming = streaming || bubble("bot", "");
        }
        streaming.textContent += event.text;
        scroll();
        break;
      case "reply":
        typing.textContent = "";
        var node = streaming || bubble("bot", "");
        node.textContent = event.text;
        streaming = null;
        if (event.citations && event.citations.length) {
          var c = event.citations[0];
          node.appendChild(el("span", "sa-cite", "Source: " + c.page + (c.section ? " \u2013 " + c.section : "")));
        }
        chips(event.quick_replies);
        seen(event.seq);
        break;
      case "products":
        if (event.products && event.products.length) cards(event.products);
        seen(event.seq);
        break;
      case "agent_message":
        typing.textContent = "";
        bubble("agent", (event.agent ? event.agent + ": " : "") + event.text);
        seen(event.seq);
        break;
      case "mode":
        if (event.mode === "agent") bubble("system", "A person from our support team has joined the conversation.");
        else if (event.mode === "bot") bubble("system", "You are chatting with the assistant again.");
        else if (event.mode === "closed") bubble("system", "This conversation was closed.");
        seen(event.seq);
        break;
      case "received":
        settle(event.message_id);
        break;
      case "error":
        if (event.code === "invalid_shop_token" || event.code === "shop_tokens_off") {
          shopToken = null;  // not the visitor's doing: chat on without it
          if (window.console) window.console.warn("Shopassist: shop token refused: " + event.message);
          break;
        }
        typing.textContent = "";
        streaming = null;
        settle(event.in_reply_to);
        bubble("system", event.message || "Something went wrong.");
        break;
    }
  }

  function emit(event) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(event));
  }

  function say(text, action) {
    text = (text || "").trim();
    if (!text) return;
    bubble("user", text);
    var event = { type: "message", text: text, message_id: newMessageId() };
    if (action) event.action = action;
    pending.push(event);
    store.setItem(KEY_PENDING, JSON.stringify(pending));
    emit(event);
  }

  function connect() {
    setStatus(retry ? "Reconnecting\u2026" : "");
    socket = new WebSocket(wsUrl());
    socket.onopen = function () {
      retry = 0;
      setStatus("");
      root.setAttribute("data-connected", "true");
      var token = store.getItem(KEY_TOKEN);
      socket.send(JSON.stringify({ type: "hello", session_token: token || undefined, last_seq: lastSeq }));
      pending.forEach(function (event) { socket.send(JSON.stringify(event)); });
    };
    socket.onmessage = function (message) {
      try { onEvent(JSON.parse(message.data)); } catch (e) { /* ignore a malformed frame */ }
    };
    socket.onclose = function (event) {
      root.setAttribute("data-connected", "false");
      if (event.code === 4403) {  // this page's origin may not use the chat: retrying cannot help
        setStatus("The chat is not available on this page.");
        if (window.console) window.console.warn("Shopassist: add this page's origin to web.allowed_origins");
        return;
      }
      retry += 1;
      setStatus("Connection lost. Reconnecting\u2026");
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)));
    };
  }

  function toggle(show) {
    open = show;
    root.className = "sa-widget" + (open ? " sa-open" : "");
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      if (!socket) connect();
      input.focus();
    } else {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { toggle(true); });
  close.addEventListener("click", function () { toggle(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    say(input.value);
    input.value = "";
  });

  function mount() { document.body.appendChild(root); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  function signIn(token) {
    shopToken = token || null;
    if (socket) { retry = -1; socket.close(); }  // reconnects soon with the token in the URL
  }

  window.Shopassist = {
    open: function () { toggle(true); },
    close: function () { toggle(false); },
    signIn: signIn
  };
})();
