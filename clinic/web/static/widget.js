/*
 * The clinic's chat widget: one script tag, no build step, no third-party requests.
 *
 *   <script src="/widget.js" defer></script>
 *
 * It loads its style sheet and texts from the app that served it (/widget.css,
 * /api/chat/config) and talks to the chat gateway (/api/chat). Every text is put
 * into the page as text (textContent, never parsed as HTML); the only markup read
 * from bot messages is **bold** and Markdown links whose address is http(s).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var BASE = new URL(script && script.src ? script.src : "/widget.js", window.location.href).origin;
  var STORE = "clinic-chat:";
  var PREFIX = "cw-";

  function remember(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(STORE + key);
      else window.sessionStorage.setItem(STORE + key, value);
    } catch (e) { /* storage off: the widget still works, it only forgets */ }
  }

  function recall(key) {
    try { return window.sessionStorage.getItem(STORE + key); } catch (e) { return null; }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeHref(raw) {
    try {
      var url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // **bold** and [text](http(s)://...) from bot text, everything else as plain text.
  var INLINE = /\[([^\[\]\n]+)\]\((https?:\/\/[^\s()]+)\)|\*\*([^*\n]+?)\*\*/g;

  function appendRich(parent, text) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[3] !== undefined) {
        parent.appendChild(el("strong", null, match[3]));
      } else {
        var href = safeHref(match[2]);
        if (href) {
          var link = el("a", PREFIX + "link", match[1]);
          link.href = href;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          parent.appendChild(link);
        } else {
          parent.appendChild(document.createTextNode(match[0]));
        }
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function request(path, options) {
    var init = options || {};
    init.credentials = "include";
    return fetch(BASE + path, init).then(function (response) {
      return response.json().then(
        function (data) { return { status: response.status, data: data || {} }; },
        function () { return { status: response.status, data: {} }; }
      );
    });
  }

  function Widget(config) {
    this.texts = config.texts;
    this.maxChars = config.max_chars;
    this.privacyUrl = BASE + config.privacy_url;
    this.busy = false;
    this.historyLoaded = false;
    this.acknowledged = recall("ack") === "1";
    this.build();
  }

  Widget.prototype.build = function () {
    var t = this.texts;
    var self = this;
    var root = el("div", PREFIX + "root");

    var launcher = el("button", PREFIX + "launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", PREFIX + "panel");
    launcher.appendChild(el("span", PREFIX + "launcher-icon")).setAttribute("aria-hidden", "true");
    launcher.appendChild(el("span", null, t.launcher));
    launcher.addEventListener("click", function () { self.open(true); });

    var panel = el("section", PREFIX + "panel");
    panel.id = PREFIX + "panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", PREFIX + "title");
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        self.close();
      }
    });

    var header = el("div", PREFIX + "header");
    var title = el("h2", PREFIX + "title", t.title);
    title.id = PREFIX + "title";
    var close = el("button", PREFIX + "close");
    close.type = "button";
    close.setAttribute("aria-label", t.close);
    close.appendChild(el("span", null, "\u00d7")).setAttribute("aria-hidden", "true");
    close.addEventListener("click", function () { self.close(); });
    header.appendChild(title);
    header.appendChild(close);

    var notice = el("div", PREFIX + "notice");
    notice.setAttribute("role", "note");
    notice.appendChild(el("p", null, t.notice));
    var privacy = el("a", PREFIX + "link", t.privacy_link);
    privacy.href = this.privacyUrl;
    notice.appendChild(el("p")).appendChild(privacy);
    var ack = el("button", PREFIX + "ack", t.acknowledge);
    ack.type = "button";
    ack.addEventListener("click", function () { self.acknowledge(); });
    notice.appendChild(ack);

    var log = el("div", PREFIX + "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", t.log_label);
    log.tabIndex = 0;

    var typing = el("div", PREFIX + "typing");
    typing.setAttribute("role", "status");
    var dots = typing.appendChild(el("span", PREFIX + "dots"));
    dots.setAttribute("aria-hidden", "true");
    for (var i = 0; i < 3; i++) dots.appendChild(el("span"));
    var typingText = typing.appendChild(el("span", PREFIX + "sr-only"));

    var form = el("form", PREFIX + "form");
    form.noValidate = true;
    var label = el("label", PREFIX + "sr-only", t.input_label);
    label.htmlFor = PREFIX + "input";
    var input = el("textarea", PREFIX + "input");
    input.id = PREFIX + "input";
    input.rows = 1;
    input.placeholder = t.placeholder;
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-describedby", PREFIX + "error");
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submit();
      }
    });
    input.addEventListener("input", function () { self.fit(); });
    var send = el("button", PREFIX + "send", t.send);
    send.type = "submit";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    var error = el("p", PREFIX + "error");
    error.id = PREFIX + "error";
    error.setAttribute("role", "alert");

    var footer = el("p", PREFIX + "footer");
    footer.appendChild(document.createTextNode(t.footer + " "));
    var footerLink = el("a", PREFIX + "link", t.privacy);
    footerLink.href = this.privacyUrl;
    footer.appendChild(footerLink);

    panel.appendChild(header);
    panel.appendChild(notice);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(error);
    panel.appendChild(form);
    panel.appendChild(footer);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    this.root = root;
    this.launcher = launcher;
    this.panel = panel;
    this.notice = notice;
    this.ackButton = ack;
    this.log = log;
    this.typing = typing;
    this.typingText = typingText;
    this.input = input;
    this.sendButton = send;
    this.error = error;
    this.setTyping(false);
    this.showError("");
    this.setAcknowledged(this.acknowledged);

    if (recall("open") === "1") this.open(false);
  };

  Widget.prototype.setAcknowledged = function (done) {
    this.acknowledged = done;
    this.notice.hidden = done;
    this.input.disabled = !done;
    this.sendButton.disabled = !done;
  };

  Widget.prototype.acknowledge = function () {
    remember("ack", "1");
    this.setAcknowledged(true);
    this.input.focus();
  };

  Widget.prototype.open = function (byVisitor) {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute("aria-expanded", "true");
    remember("open", "1");
    if (byVisitor) (this.acknowledged ? this.input : this.ackButton).focus();
    this.loadHistory();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    remember("open", null);
    this.launcher.focus();
  };

  Widget.prototype.loadHistory = function () {
    if (this.historyLoaded) return;
    this.historyLoaded = true;
    var self = this;
    request("/api/chat/history").then(function (result) {
      var messages = result.data.messages || [];
      if (!messages.length) return;
      if (!self.acknowledged) self.setAcknowledged(true); // chatted before in this session
      var lastUser = -1;
      messages.forEach(function (m, index) { if (m.sender === "user") lastUser = index; });
      var turn = null;
      messages.forEach(function (m, index) {
        if (m.sender === "user") turn = self.addUser(m.text);
        else self.addBot(m, index > lastUser);
      });
      if (turn) self.scrollToTurn(turn);
    }).catch(function () { /* no transcript: start afresh */ });
  };

  Widget.prototype.scrollDown = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  // A long answer is read from its start: the question just above it stays in view.
  Widget.prototype.scrollToTurn = function (item) {
    this.log.scrollTop = Math.max(0, item.offsetTop - this.log.offsetTop - 8);
  };

  Widget.prototype.addUser = function (text) {
    var item = el("div", PREFIX + "msg " + PREFIX + "msg--user");
    item.appendChild(el("span", PREFIX + "sr-only", this.texts.you + " "));
    item.appendChild(el("p", PREFIX + "bubble", text));
    this.log.appendChild(item);
    this.scrollDown();
    return item;
  };

  Widget.prototype.addBot = function (message, withReplies) {
    var self = this;
    var item = el("div", PREFIX + "msg " + PREFIX + "msg--bot");
    if (message.urgent) {
      item.className += " " + PREFIX + "msg--urgent";
      item.setAttribute("role", "alert");
    }
    item.appendChild(el("span", PREFIX + "sr-only", this.texts.assistant + " "));
    var bubble = el("p", PREFIX + "bubble");
    if (message.urgent) bubble.appendChild(el("strong", PREFIX + "urgent-label", this.texts.urgent));
    appendRich(bubble, String(message.text || ""));
    item.appendChild(bubble);
    if (message.source) {
      // the article the answer comes from, as plain text below it
      item.appendChild(el("p", PREFIX + "source", this.texts.source + " " + String(message.source)));
    }
    var buttons = message.buttons || [];
    if (withReplies && buttons.length) {
      var group = el("div", PREFIX + "replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", this.texts.quick_replies);
      buttons.forEach(function (button) {
        var reply = el("button", PREFIX + "reply", button.title);
        reply.type = "button";
        reply.addEventListener("click", function () { self.send(button.payload, button.title); });
        group.appendChild(reply);
      });
      item.appendChild(group);
    }
    this.log.appendChild(item);
    this.scrollDown();
  };

  Widget.prototype.setTyping = function (on) {
    this.typing.hidden = !on;
    this.typingText.textContent = on ? this.texts.typing : "";
    if (on) this.scrollDown();
  };

  Widget.prototype.showError = function (text) {
    this.error.textContent = text || "";
    this.error.hidden = !text;
  };

  Widget.prototype.fit = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight, 120) + "px";
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text || this.busy || !this.acknowledged) return;
    if (text.length > this.maxChars) {
      this.showError(this.texts.too_long);
      return;
    }
    this.input.value = "";
    this.fit();
    this.send(text, text);
  };

  Widget.prototype.send = function (message, shown) {
    if (this.busy) return;
    var self = this;
    this.busy = true;
    this.sendButton.setAttribute("aria-disabled", "true");
    this.showError("");
    Array.prototype.forEach.call(this.log.querySelectorAll("." + PREFIX + "replies"), function (group) {
      group.parentNode.removeChild(group);
    });
    var mine = this.addUser(shown);
    this.input.focus();
    this.setTyping(true);
    request("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: message })
    }).then(function (result) {
      var messages = result.data.messages;
      if (messages && messages.length) {
        messages.forEach(function (m) { self.addBot(m, true); });
        self.scrollToTurn(mine);
      } else {
        // refused (too long, too fast, ...): take the message back so nothing is lost
        self.log.removeChild(mine);
        if (message === shown && !self.input.value) self.input.value = shown;
        self.showError(result.data.error || self.texts.apology);
      }
    }).catch(function () {
      self.addBot({ text: self.texts.apology, buttons: [], urgent: false }, false);
    }).then(function () {
      self.busy = false;
      self.sendButton.removeAttribute("aria-disabled");
      self.setTyping(false);
    });
  };

  function start() {
    var sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = BASE + "/widget.css";
    document.head.appendChild(sheet);
    request("/api/chat/config").then(function (result) {
      if (result.status === 200 && result.data.texts) new Widget(result.data);
    }).catch(function () { /* the chat is unavailable: the page works without it */ });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
