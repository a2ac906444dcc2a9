/* Shopassist agent console: log in, watch live conversations over /ws/agent, act over REST. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var me = null, token = null, socket = null, current = null, rows = [], draft = null;

  function api(path, body) {
    return fetch("/api/v1/agent" + path, {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error((data.error && data.error.message) || r.statusText);
        return data;
      });
    });
  }

  function describe(ev) {
    switch (ev.type) {
      case "user_message": return ev.text;
      case "bot_reply": return "Bot: " + ev.text;
      case "agent_message": return ev.agent + ": " + ev.text;
      case "tool_call": return "tool " + ev.tool + " " + JSON.stringify(ev.args);
      case "tool_result": return "-> " + ev.tool + (ev.ok ? " ok" : " " + ev.error_code);
      case "mode_change": return "mode " + ev.mode + " (" + ev.reason + ", by " + ev.by + ")";
      case "slot_set": return "slot " + ev.name + " = " + JSON.stringify(ev.value).slice(0, 120);
      default: return ev.type;
    }
  }

  function renderList() {
    var list = $("list");
    list.textContent = "";
    rows.forEach(function (row) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("data-session", row.session_id);
      b.setAttribute("aria-current", current && current.session_id === row.session_id ? "true" : "false");
      var label = row.session_id.slice(0, 12) + " \u00b7 " + row.channel;
      b.textContent = label;
      var badge = document.createElement("span");
      badge.className = "badge " + row.state;
      badge.textContent = row.state.replace("_", " ") + (row.holder ? ": " + row.holder : "") +
        (row.waiting_seconds !== null && row.state === "waiting" ? " " + row.waiting_seconds + "s" : "");
      b.appendChild(badge);
      b.addEventListener("click", function () { open(row.session_id); });
      li.appendChild(b);
      list.appendChild(li);
    });
    if (current) {
      var row = rows.find(function (r) { return r.session_id === current.session_id; });
      if (row) showState(row.state, row.holder);
    }
  }

  function showState(state, holder) {
    var mine = holder === me;
    $("take").disabled = state === "closed" || (holder !== null && !mine) || mine;
    $("back").disabled = !mine;
    $("close").disabled = !mine;
    $("reply-text").disabled = !mine;
    $("send").disabled = !mine;
    $("suggest").disabled = !mine;
    $("notice").textContent = holder && !mine ? "Held by " + holder : (mine ? "You have this conversation" : "");
  }

  function addEvent(ev) {
    var node = document.createElement("div");
    node.className = "ev " + ev.type;
    node.setAttribute("data-type", ev.type);
    node.textContent = describe(ev);
    $("events").appendChild(node);
    $("events").scrollTop = $("events").scrollHeight;
  }

  function open(sessionId) {
    api("/conversations/" + encodeURIComponent(sessionId)).then(function (detail) {
      current = detail;
      $("title").textContent = "Conversation " + sessionId.slice(0, 12);
      $("identity").textContent = detail.customer_id ? "Verified: " + (detail.customer_name || "") + " (" + detail.customer_id + ")" : "Not verified";
      $("events").textContent = "";
      var last = 0;
      detail.events.forEach(function (ev) { addEvent(ev); last = ev.seq; });
      showState(detail.state, detail.holder);
      renderList();
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "open", session_id: sessionId, after_seq: last }));
    }).catch(function (e) { $("notice").textContent = e.message; });
  }

  function act(path) {
    if (!current) return;
    api("/conversations/" + encodeURIComponent(current.session_id) + path, {}).then(function (detail) {
      showState(detail.state, detail.holder);
    }).catch(function (e) { $("notice").textContent = e.message; });
  }

  function connect() {
    var url = new URL("/ws/agent", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url.toString());
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "hello", token: token }));
      document.body.setAttribute("data-live", "true");
    };
    socket.onmessage = function (m) {
      var data = JSON.parse(m.data);
      if (data.type === "conversations") { rows = data.rows; renderList(); }
      else if (data.type === "event" && current && data.session_id === current.session_id) addEvent(data.event);
    };
    socket.onclose = function () { document.body.setAttribute("data-live", "false"); setTimeout(connect, 2000); };
  }

  $("login").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/api/v1/agent/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: $("name").value, password: $("password").value }),
    }).then(function (r) { return r.json().then(function (d) { if (!r.ok) throw new Error(d.error.message); return d; }); })
      .then(function (d) {
        me = d.agent; token = d.token;
        $("who").textContent = d.display_name;
        $("login").style.display = "none";
        $("console").className = "open";
        connect();
      })
      .catch(function (err) { $("login-error").textContent = err.message; });
  });
  $("take").addEventListener("click", function () { act("/take-over"); });
  $("suggest").addEventListener("click", function () {
    if (!current) return;
    api("/conversations/" + encodeURIComponent(current.session_id) + "/suggest", {}).then(function (s) {
      draft = s.text;
      $("reply-text").value = s.text;
      $("reply-text").focus();
    }).catch(function (e) { $("notice").textContent = e.message; });
  });
  $("back").addEventListener("click", function () { act("/hand-back"); });
  $("close").addEventListener("click", function () { act("/close"); });
  $("reply").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply-text").value.trim();
    if (!text || !current) return;
    api("/conversations/" + encodeURIComponent(current.session_id) + "/reply", { text: text, draft: draft }).then(function () {
      $("reply-text").value = "";
      draft = null;
    }).catch(function (err) { $("notice").textContent = err.message; });
  });
})();
