// The sandbox chat page: a Telegram-like client over the sandbox's user API.
// Everything shown is built with textContent / DOM nodes, never innerHTML, so
// whatever a bot or a user sends is displayed, not executed.
"use strict";

const API = "/sandbox/api";
const state = {
  bots: new Map(), users: new Map(), chats: new Map(),   // chat key -> summary
  transcripts: new Map(),                                 // chat key -> Map(entry id -> entry)
  current: null, acting: null, paused: false,
};
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ API helpers

async function api(method, path, body) {
  const response = await fetch(API + path, {
    method, headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function chatPath(key) {
  // "p:<bot>:<user>" -> /chats/<user>?bot=<bot>; "g:<id>" -> /chats/<id>
  const parts = key.split(":");
  return parts[0] === "p" ? { id: parts[2], bot: parts[1] } : { id: parts[1], bot: null };
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function entryId(entry) {
  return entry.kind === "press" ? "p" + entry.callback_query_id : "m" + entry.message_id;
}

// ------------------------------------------------------------------ formatting

const ENTITY_TAGS = {
  bold: ["b"], italic: ["i"], underline: ["u"], strikethrough: ["s"], code: ["code"],
  pre: ["code", "pre"], spoiler: ["span", "spoiler"], blockquote: ["span", "quote"],
  expandable_blockquote: ["span", "quote"], text_link: ["a"], url: ["a"], mention: ["span"],
  bot_command: ["span"], hashtag: ["span"], text_mention: ["span"], custom_emoji: ["span"],
};

function safeUrl(url) {
  return /^(https?|tg):\/\//i.test(url || "") ? url : null;
}

// Entity offsets count UTF-16 code units, which is exactly what JS string indices are.
function renderText(text, entities) {
  const fragment = document.createDocumentFragment();
  if (!text) return fragment;
  const cuts = new Set([0, text.length]);
  for (const e of entities || []) { cuts.add(e.offset); cuts.add(Math.min(text.length, e.offset + e.length)); }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i < points.length - 1; i++) {
    const start = points[i], end = points[i + 1];
    const piece = text.slice(start, end);
    let node = document.createTextNode(piece);
    const active = (entities || []).filter((e) => e.offset <= start && e.offset + e.length >= end);
    for (const entity of active.reverse()) {
      const [tag, cls] = ENTITY_TAGS[entity.type] || ["span"];
      const wrapper = el(tag, cls);
      if (tag === "a") {
        const href = safeUrl(entity.url || piece.trim());
        if (href) { wrapper.href = href; wrapper.target = "_blank"; wrapper.rel = "noopener noreferrer"; }
      }
      if (entity.type === "pre") wrapper.classList.add("pre");
      if (entity.type === "spoiler") wrapper.addEventListener("click", () => wrapper.classList.add("revealed"));
      wrapper.appendChild(node);
      node = wrapper;
    }
    fragment.appendChild(node);
  }
  return fragment;
}

// ------------------------------------------------------------------ chat list

const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

function chatTitle(summary) {
  const chat = summary.chat;
  if (chat.type !== "private") return chat.title;
  const bot = state.bots.get(summary.bot_id);
  const name = [chat.first_name, chat.last_name].filter(Boolean).join(" ");
  return state.bots.size > 1 && bot ? `${name} ↔ @${bot.username}` : name;
}

function renderChatList() {
  const list = $("chat-list");
  list.replaceChildren();
  for (const summary of state.chats.values()) {
    const item = el("li");
    item.dataset.key = summary.key;
    if (summary.key === state.current) item.classList.add("active");
    const title = chatTitle(summary);
    const avatar = el("div", "avatar", (title || "?").slice(0, 1).toUpperCase());
    avatar.style.background = COLORS[Math.abs(summary.chat.id) % COLORS.length];
    const meta = el("div", "chat-meta");
    const name = el("div", "chat-name", title);
    if (summary.blocked) name.appendChild(el("span", "badge", "blocked"));
    meta.append(name, el("div", "preview", summary.last_message ? summary.last_message.text : "no messages yet"));
    item.append(avatar, meta);
    item.addEventListener("click", () => openChat(summary.key));
    list.appendChild(item);
  }
}

function renderActingUsers() {
  const select = $("acting-user");
  const summary = state.chats.get(state.current);
  select.replaceChildren();
  let candidates = [...state.users.values()];
  if (summary && summary.chat.type === "private") candidates = candidates.filter((u) => u.id === summary.chat.id);
  else if (summary) candidates = candidates.filter((u) => summary.members.some((m) => m.id === u.id && !["left", "kicked"].includes(m.status)));
  for (const user of candidates) {
    const option = el("option", null, user.first_name + (user.username ? ` (@${user.username})` : ""));
    option.value = user.id;
    select.appendChild(option);
  }
  if (candidates.some((u) => String(u.id) === String(state.acting))) select.value = state.acting;
  state.acting = select.value || null;
}

// ------------------------------------------------------------------ conversation

async function openChat(key) {
  state.current = key;
  location.hash = "chat=" + encodeURIComponent(key);
  const { id, bot } = chatPath(key);
  const entries = await api("GET", `/chats/${id}/messages` + (bot ? `?bot=${bot}` : ""));
  state.transcripts.set(key, new Map(entries.map((e) => [entryId(e), e])));
  renderChatList();
  renderActingUsers();
  renderConversation();
}

function renderConversation() {
  const summary = state.chats.get(state.current);
  const pane = $("messages");
  pane.replaceChildren();
  const enabled = Boolean(summary);
  $("message-input").disabled = $("send-button").disabled = !enabled;
  if (!summary) return;
  $("chat-title").textContent = chatTitle(summary);
  const others = summary.chat.type === "private" ? "private chat with the bot" : `${summary.members.length} members`;
  $("chat-subtitle").textContent = others;
  $("chat-subtitle").classList.remove("typing");
  const blockButton = $("toggle-block");
  blockButton.hidden = summary.chat.type !== "private";
  blockButton.textContent = summary.blocked ? "Unblock bot" : "Block bot";
  for (const entry of state.transcripts.get(state.current).values()) pane.appendChild(renderEntry(entry, summary));
  renderReplyKeyboard(summary.reply_keyboard);
  pane.scrollTop = pane.scrollHeight;
}

function renderEntry(entry, summary) {
  if (entry.kind === "press") {
    const who = entry.from.first_name;
    const answer = entry.answered ? ` → “${entry.answer.text || "(no text)"}”${entry.answer.show_alert ? " (alert)" : ""}` : " (waiting for answer)";
    const node = el("div", "system", `${who} pressed [${entry.data}]${answer}`);
    node.id = "entry-" + entryId(entry);
    return node;
  }
  const node = el("div", "message" + (entry.from_bot ? "" : " out") + (entry.deleted ? " deleted" : ""));
  node.id = "entry-" + entryId(entry);
  node.dataset.messageId = entry.message_id;
  const bubble = el("div", "bubble");
  if (summary.chat.type !== "private" || entry.from_bot) bubble.appendChild(el("div", "sender", entry.from.first_name));
  if (entry.service) {
    const joined = entry.service.new_chat_members, left = entry.service.left_chat_member;
    return el("div", "system", joined ? `${joined.map((u) => u.first_name).join(", ")} joined` : `${left.first_name} left`);
  }
  if (entry.photo || entry.document) bubble.appendChild(renderMedia(entry));
  const text = el("div", "text");
  text.appendChild(renderText(entry.text ?? entry.caption ?? "", entry.text != null ? entry.entities : entry.caption_entities));
  bubble.appendChild(text);
  const time = new Date(entry.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const meta = el("div", "meta", (entry.deleted ? "deleted · " : "") + (entry.edited ? "edited · " : "") + time);
  if (entry.edited) meta.title = "Earlier versions:\n" + entry.edit_history.map((v) => v.text ?? v.caption ?? "").join("\n—\n");
  bubble.appendChild(meta);
  node.appendChild(bubble);
  const keyboard = entry.reply_markup && entry.reply_markup.inline_keyboard;
  if (keyboard && !entry.deleted) node.appendChild(renderInlineKeyboard(keyboard, entry));
  return node;
}

function renderMedia(entry) {
  const box = el("div", "media");
  if (entry.photo && entry.photo.file_size) {
    const image = el("img");
    image.src = entry.photo.url;
    image.alt = "photo";
    box.appendChild(image);
  } else {
    const file = entry.document || entry.photo;
    const link = el("a", "file", "📄 " + (file.file_name || "file") + ` (${file.file_size} bytes)`);
    link.href = file.url;
    link.target = "_blank";
    link.rel = "noopener";
    box.appendChild(link);
  }
  return box;
}

function renderInlineKeyboard(rows, entry) {
  const keyboard = el("div", "inline-keyboard");
  for (const row of rows) {
    const line = el("div", "row");
    for (const button of row) {
      const node = el("button", null, button.text + (button.url ? " ↗" : ""));
      node.type = "button";
      node.dataset.callbackData = button.callback_data || "";
      node.addEventListener("click", () => pressButton(entry, button));
      line.appendChild(node);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function renderReplyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  box.hidden = !markup;
  if (!markup) return;
  for (const row of markup.keyboard) {
    const line = el("div", "row");
    for (const button of row) {
      const node = el("button", null, button.text);
      node.type = "button";
      node.addEventListener("click", () => sendText(button.text));
      line.appendChild(node);
    }
    box.appendChild(line);
  }
}

// ------------------------------------------------------------------ user actions

function currentTarget() {
  const summary = state.chats.get(state.current);
  const { id, bot } = chatPath(state.current);
  return { summary, id, bot };
}

async function sendText(text) {
  if (!state.current || !text.trim()) return;
  const { id, bot } = currentTarget();
  try {
    await api("POST", `/chats/${id}/messages`, { from_id: Number(state.acting), text, bot });
  } catch (error) { toast("Could not send: " + error.message); }
}

async function pressButton(entry, button) {
  if (button.url) { window.open(safeUrl(button.url) || "about:blank", "_blank", "noopener"); return; }
  const { id, bot } = currentTarget();
  try {
    await api("POST", `/chats/${id}/press`, { from_id: Number(state.acting), message_id: entry.message_id, callback_data: button.callback_data, bot });
  } catch (error) { toast("Could not press: " + error.message); }
}

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 2500);
}

function showAlert(text) {
  $("alert-text").textContent = text;
  $("alert").hidden = false;
}

// ------------------------------------------------------------------ live events

function applyChange(event) {
  state.chats.set(event.chat_key, event.chat);
  const transcript = state.transcripts.get(event.chat_key);
  if (transcript && event.entry) transcript.set(entryId(event.entry), event.entry);  // events arrive in order
  if (event.chat_key === state.current) {
    if (event.kind === "answer" && event.entry && event.entry.answer) {
      const answer = event.entry.answer;
      if (answer.text) (answer.show_alert ? showAlert : toast)(answer.text);
    }
    renderConversation();
    const node = event.entry && document.getElementById("entry-" + entryId(event.entry));
    if (node && event.kind === "edit") node.classList.add("highlight");
  }
  renderChatList();
}

function appendCall(call) {
  const list = $("calls");
  const item = el("li", call.status === 200 ? "ok" : "error");
  if (call.status === 429 && !call.fault) item.classList.add("flood");
  if (call.fault) item.classList.add("fault");
  const line = el("div", "line");
  line.append(el("span", "method", call.method), el("span", "code", call.status === 0 ? "dropped" : String(call.status)),
    el("span", "duration", call.duration_ms.toFixed(1) + " ms"));
  item.appendChild(line);
  if (call.fault) item.appendChild(el("div", "fault-kind", "injected: " + call.fault));
  else if (call.status !== 200 && call.response) item.appendChild(el("div", "description", call.response.description));
  item.addEventListener("click", () => {
    if (item.querySelector("pre")) { item.querySelector("pre").remove(); return; }
    item.appendChild(el("pre", null, JSON.stringify({ params: call.params, response: call.response }, null, 2)));
  });
  list.prepend(item);
  while (list.children.length > 300) list.lastChild.remove();
}

function connectEvents() {
  const source = new EventSource(API + "/events");
  source.onopen = () => { $("status").textContent = "live · connected"; };
  source.onerror = () => { $("status").textContent = "reconnecting…"; };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "change") applyChange(event);
    else if (event.type === "call") appendCall(event.call);
    else if (event.type === "action" && event.chat_key === state.current) {
      $("chat-subtitle").textContent = "bot is " + event.action.replace(/_/g, " ") + "…";
      $("chat-subtitle").classList.add("typing");
    } else if (["chat", "user", "bot", "reset"].includes(event.type)) loadState();
  };
}

async function loadState() {
  const data = await api("GET", "/state");
  state.bots = new Map(data.bots.map((b) => [b.id, b]));
  state.users = new Map(data.users.map((u) => [u.id, u]));
  state.chats = new Map(data.chats.map((c) => [c.key, c]));
  state.paused = data.faults.paused;
  renderFaultState(data.faults);
  renderChatList();
  if (state.current && state.chats.has(state.current)) { renderActingUsers(); renderConversation(); }
}

function renderFaultState(faults) {
  const active = [];
  if (faults.paused) active.push("paused");
  if (faults.latency_ms) active.push(`+${faults.latency_ms} ms`);
  if (faults.error_rate) active.push(`${Math.round(faults.error_rate * 100)}% 5xx`);
  if (faults.rules.length) active.push(`${faults.rules.length} scripted`);
  $("fault-state").textContent = active.join(" · ");
  $("pause-toggle").textContent = faults.paused ? "Resume" : "Pause";
}

// ------------------------------------------------------------------ wiring

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("message-input");
    sendText(input.value);
    input.value = "";
  });
  $("acting-user").addEventListener("change", (event) => { state.acting = event.target.value; });
  $("new-user").addEventListener("click", async () => {
    const name = prompt("First name of the new user?");
    if (!name) return;
    const user = await api("POST", "/users", { first_name: name, username: name.toLowerCase().replace(/\W/g, "") || null });
    const bot = [...state.bots.values()][0];
    await loadState();
    if (bot) await openChat(`p:${bot.id}:${user.id}`);
  });
  $("new-group").addEventListener("click", async () => {
    const title = prompt("Title of the new group (all users join)?");
    if (!title) return;
    const summary = await api("POST", "/groups", { title, members: [...state.users.keys()] });
    await loadState();
    await openChat(summary.key);
  });
  $("toggle-block").addEventListener("click", async () => {
    const { summary, bot } = currentTarget();
    await api("POST", `/users/${summary.chat.id}/${summary.blocked ? "unblock" : "block"}`, { bot });
    await loadState();
  });
  $("pause-toggle").addEventListener("click", async () => {
    renderFaultState(await api("POST", state.paused ? "/faults/resume" : "/faults/pause"));
    await loadState();
  });
  $("clear-calls").addEventListener("click", () => $("calls").replaceChildren());
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
}

async function start() {
  wire();
  await loadState();
  const calls = await api("GET", "/calls");
  calls.forEach(appendCall);
  connectEvents();
  const wanted = new URLSearchParams(location.hash.slice(1)).get("chat");
  const first = wanted && state.chats.has(wanted) ? wanted : [...state.chats.keys()][0];
  if (first) await openChat(first);
  document.body.dataset.ready = "true";
}

start();
