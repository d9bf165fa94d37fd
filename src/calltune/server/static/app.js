// calltune playground: a plain-JS client of the server's OpenAI API (no build step).
"use strict";

const WEATHER_TOOL = {type: "function", function: {
  name: "get_current_weather",
  description: "Get the current weather in a given city",
  parameters: {type: "object", properties: {
    location: {type: "string", description: "The city, e.g. Paris"},
    unit: {type: "string", enum: ["celsius", "fahrenheit"]}},
    required: ["location"]}}};

const EXAMPLES = {
  weather: [WEATHER_TOOL],
  weather_time: [
    WEATHER_TOOL,
    {type: "function", function: {
      name: "get_local_time",
      description: "Get the current local time in a city",
      parameters: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}}},
  ],
  calculator: [
    {type: "function", function: {
      name: "calculator",
      description: "Evaluate an arithmetic expression such as '(2 + 3) * 4'",
      parameters: {type: "object", properties: {expression: {type: "string"}}, required: ["expression"]}}},
  ],
  travel: [
    {type: "function", function: {
      name: "search_flights",
      description: "Search flights between two airports",
      parameters: {type: "object", properties: {
        origin: {type: "string", description: "IATA code"},
        destination: {type: "string", description: "IATA code"},
        dates: {type: "array", items: {type: "string", format: "date"}},
        passengers: {type: "object", properties: {adults: {type: "integer"}, children: {type: "integer"}}}},
        required: ["origin", "destination", "dates"]}}},
  ],
  none: [],
};

const $ = (id) => document.getElementById(id);
let messages = [];
let controller = null;
let serverToolNames = new Set();  // tools the server runs itself (calltune serve --mcp)

function headers() {
  const h = {"Content-Type": "application/json"};
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function loadExample(name) {
  $("tools").value = JSON.stringify(EXAMPLES[name] || [], null, 2);
  $("tools-error").textContent = "";
}

function readTools() {
  const text = $("tools").value.trim();
  if (!text) return [];
  let tools;
  try { tools = JSON.parse(text); } catch (e) { throw new Error("Tools are not valid JSON: " + e.message); }
  if (!Array.isArray(tools)) tools = [tools];
  // accept bare function objects too
  return tools.map((t) => (t && t.type === "function" ? t : {type: "function", function: t}));
}

function buildBody(stream) {
  const tools = readTools();
  const body = {model: "calltune", messages: conversation(), stream};
  if (tools.length) {
    body.tools = tools;
    const named = $("named-tool").value.trim();
    body.tool_choice = named ? {type: "function", function: {name: named}} : $("tool-choice").value;
    body.parallel_tool_calls = $("parallel").checked;
  }
  const t = parseFloat($("temperature").value);
  if (!Number.isNaN(t)) body.temperature = t;
  const m = parseInt($("max-tokens").value, 10);
  if (m > 0) body.max_tokens = m;
  if (stream) body.stream_options = {include_usage: true};
  return body;
}

function conversation() {
  const sys = $("system").value.trim();
  return sys ? [{role: "system", content: sys}, ...messages] : messages.slice();
}

// ---------------------------------------------------------------- rendering
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function scrollChat() { const c = $("chat"); c.scrollTop = c.scrollHeight; }

function addBubble(role, text) {
  $("empty-hint")?.remove();
  const b = el("div", "msg " + role);
  b.dataset.role = role;
  b.appendChild(el("div", "role", role));
  const body = el("div", "content", text || "");
  b.appendChild(body);
  $("chat").appendChild(b);
  scrollChat();
  return b;
}

// a reasoning model's thinking (reasoning_content), shown above the answer, folded once it is done
function reasoningBox(bubble, content) {
  let box = null, body = null;
  return {
    add(text) {
      if (!box) {
        box = el("details", "reasoning");
        box.dataset.testid = "reasoning";
        box.open = true;
        box.appendChild(el("summary", "", "thinking"));
        body = el("div", "reasoning-text", "");
        box.appendChild(body);
        bubble.insertBefore(box, content);
      }
      body.textContent += text;
    },
    done() { if (box) box.open = false; },
  };
}

function prettyArgs(raw) {
  try { return JSON.stringify(JSON.parse(raw), null, 2); } catch { return raw; }
}

function toolCallCard(bubble, call) {
  const card = el("div", "tool-call");
  card.dataset.testid = "tool-call";
  const head = el("div", "tool-call-head");
  head.appendChild(el("span", "badge", "tool call"));
  head.appendChild(el("span", "tool-call-name", call.function.name));
  head.appendChild(el("span", "tool-call-id", call.id || ""));
  card.appendChild(head);
  const args = el("pre", "tool-call-args", call.function.arguments || "");
  card.appendChild(args);
  bubble.appendChild(card);
  scrollChat();
  return {card, args};
}

function addResultForm(card, call) {
  const form = el("form", "tool-result");
  const input = el("input");
  input.placeholder = `result of ${call.function.name} (JSON or text)`;
  input.className = "tool-result-input";
  const btn = el("button", "small", "Send result");
  form.append(input, btn);
  if (serverToolNames.has(call.function.name)) {
    const run = el("button", "small secondary", "Run on server");
    run.type = "button";
    run.dataset.testid = "run-on-server";
    run.addEventListener("click", async () => {
      run.disabled = true;
      input.value = await runOnServer(call);
      form.requestSubmit();
    });
    form.append(run);
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    messages.push({role: "tool", tool_call_id: call.id, content: input.value});
    form.replaceWith(el("div", "tool-result-sent", "→ " + input.value));
    const open = document.querySelectorAll(".tool-result").length;
    if (open === 0) send();  // all calls of the turn answered
  });
  card.appendChild(form);
}

async function runOnServer(call) {
  try {
    const r = await fetch("/calltune/tools/call", {method: "POST", headers: headers(),
      body: JSON.stringify({name: call.function.name, arguments: call.function.arguments || "{}"})});
    const data = await r.json();
    return r.ok ? data.content : "Error: " + (data.error?.message || r.statusText);
  } catch (e) { return "Error: " + e; }
}

// the server's own tools (from --mcp servers): offered as an example, their calls run by the server
async function loadServerTools() {
  try {
    const r = await fetch("/calltune/tools", {headers: headers()});
    if (!r.ok) return;
    const tools = (await r.json()).tools || [];
    serverToolNames = new Set(tools.map((t) => t.function.name));
    if (!tools.length) return;
    EXAMPLES.server = tools;
    let opt = document.querySelector('#examples option[value="server"]');
    if (!opt) {
      opt = el("option", "", `server tools (${tools.length}, run by the server)`);
      opt.value = "server";
      $("examples").prepend(opt);
    }
    $("examples").value = "server";
    loadExample("server");
  } catch (e) { /* no server tools */ }
}

function showError(bubble, message) {
  bubble.classList.add("failed");
  bubble.appendChild(el("div", "error", message));
}

function renderPrompt(data) {
  const pre = $("prompt");
  pre.textContent = "";
  for (const s of data.segments) {
    const span = el("span", s.special ? "marker" : "seg " + (s.role || ""), s.text);
    pre.appendChild(span);
  }
  $("prompt-meta").textContent =
    `format ${data.format} · ${data.prompt_tokens} prompt tokens of ${data.context_length}` +
    ` · tool mode ${data.tool_mode}${data.guided ? " (guided)" : ""}`;
}

async function refreshPrompt(body) {
  try {
    const r = await fetch("/calltune/render", {method: "POST", headers: headers(), body: JSON.stringify(body)});
    const data = await r.json();
    if (!r.ok) { $("prompt-meta").textContent = data.error?.message || r.statusText; return; }
    renderPrompt(data);
  } catch (e) { $("prompt-meta").textContent = String(e); }
}

// ---------------------------------------------------------------- requests
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += dec.decode(value, {stream: true});
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of event.split("\n")) {
        if (line.startsWith("data: ")) yield line.slice(6);
      }
    }
  }
}

async function send() {
  let body;
  try { body = buildBody($("stream").checked); } catch (e) { $("tools-error").textContent = e.message; return; }
  $("tools-error").textContent = "";
  refreshPrompt({...body, stream: false});
  const bubble = addBubble("assistant", "");
  bubble.classList.add("pending");
  const content = bubble.querySelector(".content");
  const thinking = reasoningBox(bubble, content);
  const calls = [];       // OpenAI tool_calls of this turn
  const cards = [];
  let text = "";
  controller = new AbortController();
  setBusy(true);
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), body: JSON.stringify(body), signal: controller.signal});
    if (!r.ok) {
      const err = await r.json().catch(() => ({}));
      showError(bubble, `${r.status}: ${err.error?.message || r.statusText}`);
      return;
    }
    if (body.stream) {
      for await (const data of sseEvents(r)) {
        if (data === "[DONE]") break;
        const ev = JSON.parse(data);
        if (ev.error) { showError(bubble, ev.error.message); break; }
        if (ev.usage) bubble.dataset.usage = JSON.stringify(ev.usage);
        const choice = ev.choices && ev.choices[0];
        if (!choice) continue;
        const d = choice.delta || {};
        if (d.reasoning_content) { thinking.add(d.reasoning_content); scrollChat(); }
        if (d.content) { text += d.content; content.textContent = text; scrollChat(); }
        for (const tc of d.tool_calls || []) {
          if (!calls[tc.index]) {
            calls[tc.index] = {id: tc.id, type: "function", function: {name: tc.function?.name || "", arguments: ""}};
            cards[tc.index] = toolCallCard(bubble, calls[tc.index]);
            cards[tc.index].card.classList.add("streaming");  // arguments arrive as they are written
          }
          if (tc.function?.arguments) {
            calls[tc.index].function.arguments += tc.function.arguments;
            cards[tc.index].args.textContent = calls[tc.index].function.arguments;
          }
        }
        if (choice.finish_reason) bubble.dataset.finish = choice.finish_reason;
      }
    } else {
      const data = await r.json();
      const msg = data.choices[0].message;
      text = msg.content || "";
      if (msg.reasoning_content) thinking.add(msg.reasoning_content);
      content.textContent = text;
      for (const tc of msg.tool_calls || []) { calls.push(tc); cards.push(toolCallCard(bubble, tc)); }
      bubble.dataset.finish = data.choices[0].finish_reason;
      bubble.dataset.usage = JSON.stringify(data.usage);
    }
    calls.forEach((c, i) => {
      cards[i].card.classList.remove("streaming");
      cards[i].args.textContent = prettyArgs(c.function.arguments);
    });
    thinking.done();
    const msg = {role: "assistant", content: text || null};
    if (calls.length) msg.tool_calls = calls.filter(Boolean);
    messages.push(msg);
    calls.forEach((c, i) => addResultForm(cards[i].card, c));
    if (!text && !calls.length) content.textContent = "(empty answer)";
    const u = bubble.dataset.usage ? JSON.parse(bubble.dataset.usage) : null;
    bubble.appendChild(el("div", "meta",
      `finish_reason: ${bubble.dataset.finish || "?"}` + (u ? ` · ${u.prompt_tokens} + ${u.completion_tokens} tokens` : "")));
  } catch (e) {
    if (e.name === "AbortError") showError(bubble, "stopped");
    else showError(bubble, String(e));
  } finally {
    bubble.classList.remove("pending");
    setBusy(false);
    controller = null;
  }
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").disabled = !busy;
}

// ---------------------------------------------------------------- wiring
$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("user-input").value.trim();
  if (!text || controller) return;
  messages.push({role: "user", content: text});
  addBubble("user", text);
  $("user-input").value = "";
  send();
});
$("user-input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("composer").requestSubmit(); }
});
$("stop").addEventListener("click", () => controller && controller.abort());
$("reset").addEventListener("click", () => {
  messages = [];
  $("chat").textContent = "";
  $("prompt").textContent = "";
  $("prompt-meta").textContent = "";
});
$("examples").addEventListener("change", (ev) => loadExample(ev.target.value));
$("show-prompt").addEventListener("click", (ev) => {
  ev.preventDefault();
  try {
    const body = buildBody(false);
    if (!body.messages.length) body.messages = [{role: "user", content: $("user-input").value || "…"}];
    refreshPrompt(body);
  } catch (e) { $("tools-error").textContent = e.message; }
});

loadExample("weather");
loadServerTools();
$("api-key").addEventListener("change", loadServerTools);
fetch("/health").then((r) => r.json()).then((h) => {
  $("model-info").textContent = `${h.model} · format ${h.format} · context ${h.context_length}`;
}).catch(() => { $("model-info").textContent = "server not reachable"; });
