// The chat simulator's page script. It only draws: every message the
// visitor sends goes to /sim/api, which signs it as a Zalo webhook event and
// posts it to the server's own webhook; the bot's replies come back from
// the fake Zalo through a long poll.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("sim-text").textContent);
  var chatEl = document.getElementById("chat");
  var input = document.getElementById("composer-input");
  var sendBtn = document.getElementById("composer-send");
  var personas = {};
  var chats = {};
  var seq = 0;
  var active = null;
  var typingTimer = null;

  document.querySelectorAll(".persona").forEach(function (b) {
    personas[b.dataset.key] = { key: b.dataset.key, name: b.dataset.name, group: b.dataset.group === "1", button: b };
    b.addEventListener("click", function () { select(b.dataset.key); });
  });

  function api(method, path, body) {
    var opts = { method: method, headers: { "Content-Type": "application/json" } };
    if (body !== undefined) { opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { throw new Error(j.error || r.statusText); }
        return j;
      });
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  // Times are shown as a phone in Vietnam shows them.
  var clockFmt = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Ho_Chi_Minh" });
  function time(t) { return clockFmt.format(new Date(t)); }

  function speakerOf(key) {
    var s = document.getElementById("speaker-" + key);
    return s ? s.value : "";
  }

  // mine reports whether a message shows on the right: the visitor's own.
  function mine(m) {
    if (m.from === "bot") { return false; }
    var p = personas[m.chat];
    if (p && p.group) { return m.from === speakerOf(m.chat); }
    return true;
  }

  function button(m, b) {
    var btn = el("button", "btn", b.title);
    btn.type = "button";
    if (b.payload) {
      btn.dataset.payload = b.payload;
      btn.addEventListener("click", function () { send(b.payload, b.title); });
    } else if (b.url) {
      btn.title = T.open_link;
      btn.addEventListener("click", function () { window.open(b.url, "_blank", "noopener"); });
    } else if (b.phone) {
      btn.title = T.call;
      btn.addEventListener("click", function () { window.location.href = "tel:" + b.phone; });
    }
    return btn;
  }

  function bubble(m) {
    var row = el("div", "msg " + (mine(m) ? "me" : "bot") + " kind-" + m.kind);
    row.dataset.seq = m.seq;
    if (m.kind === "notice") {
      row.className = "msg notice";
      row.appendChild(el("span", "", m.text));
      return row;
    }
    var p = personas[m.chat];
    if (p && p.group && !mine(m)) {
      row.appendChild(el("div", "sender", m.from === "bot" ? T.bot : m.name));
    }
    var b = el("div", "bubble");
    if (m.kind === "list") {
      b.classList.add("card");
      b.appendChild(el("div", "ctitle", m.text));
      if (m.subtitle) { b.appendChild(el("div", "csub", m.subtitle)); }
      if (m.buttons && m.buttons.length) {
        var list = el("div", "btns");
        m.buttons.forEach(function (x) { list.appendChild(button(m, x)); });
        b.appendChild(list);
      }
    } else if (m.kind === "request_info") {
      b.classList.add("card", "form");
      var img = el("div", "fimg");
      if (m.image_url) {
        var i = el("img");
        i.src = m.image_url;
        i.alt = "";
        img.appendChild(i);
      } else {
        img.appendChild(el("span", "ficon", "👤"));
      }
      b.appendChild(img);
      b.appendChild(el("div", "flabel", T.form));
      b.appendChild(el("div", "ctitle", m.text));
      if (m.subtitle) { b.appendChild(el("div", "csub", m.subtitle)); }
      var share = el("button", "share-btn", T.share);
      share.type = "button";
      share.addEventListener("click", function () { shareInfo(); });
      b.appendChild(share);
    } else if (m.kind === "image") {
      var im = el("img", "photo");
      im.src = m.image_url;
      im.alt = "";
      b.appendChild(im);
    } else if (m.kind === "shared") {
      b.classList.add("shared");
      b.appendChild(el("div", "", m.text));
    } else {
      b.appendChild(el("div", "text", m.text));
    }
    b.appendChild(el("span", "time", time(m.time)));
    row.appendChild(b);
    return row;
  }

  function render() {
    chatEl.textContent = "";
    (chats[active] || []).forEach(function (m) { chatEl.appendChild(bubble(m)); });
    if (typingTimer) { chatEl.appendChild(el("div", "msg typing", T.typing)); }
    chatEl.scrollTop = chatEl.scrollHeight;
  }

  function unread(key, n) {
    var u = personas[key] && personas[key].button.querySelector(".unread");
    if (!u) { return; }
    u.hidden = !n;
    u.textContent = n ? String(n) : "";
  }

  function others(m) {
    var li = el("li", "", "");
    li.appendChild(el("b", "", m.name || m.to));
    li.appendChild(document.createTextNode(" " + (m.text || "").slice(0, 160)));
    var ol = document.getElementById("others");
    ol.insertBefore(li, ol.firstChild);
    while (ol.children.length > 8) { ol.removeChild(ol.lastChild); }
    document.getElementById("others-none").hidden = true;
  }

  function receive(list) {
    var touched = false;
    list.forEach(function (m) {
      if (m.seq <= seq) { return; }
      seq = m.seq;
      if (m.chat === "others") { others(m); return; }
      (chats[m.chat] = chats[m.chat] || []).push(m);
      if (m.chat === active) {
        touched = true;
        if (m.from === "bot") { stopTyping(); }
      } else if (m.from === "bot") {
        var p = personas[m.chat];
        if (p) { p.unread = (p.unread || 0) + 1; unread(m.chat, p.unread); }
      }
    });
    if (touched) { render(); }
  }

  function poll() {
    fetch("/sim/api/messages?wait=1&after=" + seq)
      .then(function (r) { return r.json(); })
      .then(function (j) { receive(j.messages || []); poll(); })
      .catch(function () { setTimeout(poll, 1500); });
  }

  function select(key) {
    var p = personas[key];
    if (!p) { return; }
    active = key;
    p.unread = 0;
    unread(key, 0);
    Object.keys(personas).forEach(function (k) {
      personas[k].button.setAttribute("aria-pressed", k === key ? "true" : "false");
    });
    document.querySelectorAll(".speaker").forEach(function (s) { s.hidden = s.dataset.group !== key; });
    document.getElementById("chat-title").textContent = p.group ? p.name : document.getElementById("chat-title").dataset.oa;
    document.getElementById("chat-sub").textContent = p.group ? p.button.querySelector("small").textContent : document.getElementById("chat-sub").dataset.oa;
    document.getElementById("chat-avatar").textContent = p.group ? p.button.querySelector(".avatar").textContent : "CNS";
    input.disabled = false;
    sendBtn.disabled = false;
    document.body.dataset.persona = key;
    render();
    input.focus();
    if (!p.group && !(chats[key] || []).length) {
      api("POST", "/sim/api/open", { persona: key }).then(function (j) { if (j.followed) { startTyping(); } }).catch(function () {});
    }
  }

  function startTyping() {
    stopTyping();
    typingTimer = setTimeout(function () { typingTimer = null; render(); }, 6000);
    render();
  }

  function stopTyping() {
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
  }

  function send(text, label) {
    if (!active || !text) { return; }
    var body = { persona: active, text: text, label: label || "" };
    if (personas[active].group) { body.speaker = speakerOf(active); }
    if (!personas[active].group) { startTyping(); }
    api("POST", "/sim/api/send", body).catch(function () { stopTyping(); render(); });
  }

  function shareInfo() {
    if (!active) { return; }
    startTyping();
    api("POST", "/sim/api/share", { persona: active }).catch(function () { stopTyping(); render(); });
  }

  document.getElementById("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  document.querySelectorAll(".speaker").forEach(function (s) {
    s.addEventListener("change", render);
  });

  // The demo clock.
  function showClock(c) {
    document.getElementById("clock-now").textContent = c.now;
    document.getElementById("clock-offset").textContent = c.shifted ? "(" + c.offset + ")" : "";
    document.getElementById("clock-deadline").textContent = c.deadline ? c.deadline_label : "";
    document.body.dataset.clockShifted = c.shifted ? "1" : "0";
  }
  function clock(method, body) {
    return api(method, "/sim/api/clock", body).then(function (c) {
      c.deadline_label = c.deadline ? T.deadline.replace("{date}", c.deadline) : "";
      showClock(c);
    });
  }
  // The clock's controls exist only on a demo database.
  if (document.getElementById("clock-panel")) {
    T.deadline = document.getElementById("clock-deadline").dataset.template || "{date}";
    document.getElementById("clock-7d").addEventListener("click", function () { clock("POST", { to: "7d" }); });
    document.getElementById("clock-1d").addEventListener("click", function () { clock("POST", { to: "1d" }); });
    document.getElementById("clock-now-btn").addEventListener("click", function () { clock("POST", { to: "now" }); });
    document.getElementById("run-reminders").addEventListener("click", function () {
      var st = document.getElementById("clock-status");
      st.textContent = "…";
      api("POST", "/sim/api/reminders", {}).then(function () { st.textContent = T.reminders_done; })
        .catch(function (e) { st.textContent = e.message; });
    });
    clock("GET");
  }

  var title = document.getElementById("chat-title");
  title.dataset.oa = title.textContent;
  var sub = document.getElementById("chat-sub");
  sub.dataset.oa = sub.textContent;

  api("GET", "/sim/api/messages?after=0").then(function (j) {
    receive(j.messages || []);
    Object.keys(personas).forEach(function (k) { personas[k].unread = 0; unread(k, 0); });
    poll();
    var first = Object.keys(personas)[0];
    var want = (window.location.hash || "").slice(1);
    select(personas[want] ? want : first);
  });
})();
