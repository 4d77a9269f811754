/*
 * citeqa chat widget. Embed with one tag:
 *   <script src="http://HOST:PORT/widget.js" data-title="Ask the report" defer></script>
 * Options (data-* on the script tag, or on a <citeqa-chat> element to override them there):
 *   title, placeholder, greeting, accent (a CSS colour), position (bottom-right | bottom-left),
 *   mode (launcher: a floating button, the default | inline: only <citeqa-chat> elements render),
 *   site-key (the public key issued for this page's origin, when the service requires keys).
 * Every request goes to the server this file was loaded from. Text from reports and from the server
 * is only ever put into the page as text (textContent, createTextNode), never parsed as HTML.
 */
(() => {
  "use strict";
  if (customElements.get("citeqa-chat")) return;

  const script =
    document.currentScript ||
    Array.from(document.querySelectorAll("script[src]")).find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  const API = new URL(".", script ? script.src : location.href).href;
  const DEFAULTS = script ? { ...script.dataset } : {};
  const MAX_HISTORY = 5;
  const MAX_QUESTION = 2000;
  const MAX_STORED_TURNS = 30;
  // A marker as reports write it: [1], [1, 2], [3-5], 【1】, ［1］ (the service's own rule).
  const LIST = "\\d{1,3}(?:\\s*[,，、\\-–~]\\s*\\d{1,3})*";
  const MARKER = new RegExp(`(\\[\\s*${LIST}\\s*\\]|【\\s*${LIST}\\s*】|［\\s*${LIST}\\s*］)`, "g");
  let uid = 0;

  const STYLE = `
:host { all: initial; display: block; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d2130; --accent: #2f5bd3; }
:host([data-mode="launcher"]) { display: contents; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid color-mix(in srgb, var(--accent) 55%, white); outline-offset: 2px; }
.launcher { position: fixed; bottom: 20px; right: 20px; z-index: 2147483000; display: flex; align-items: center;
  gap: 8px; border: 0; border-radius: 999px; padding: 12px 18px; background: var(--accent); color: #fff;
  font-weight: 600; box-shadow: 0 6px 20px rgba(20, 30, 60, .28); }
.launcher svg { width: 22px; height: 22px; fill: currentColor; }
.left .launcher { right: auto; left: 20px; }
.panel { display: flex; flex-direction: column; background: #fff; border: 1px solid #d9dce6; border-radius: 14px;
  overflow: hidden; height: var(--citeqa-height, 480px); }
.launcher-mode .panel { position: fixed; z-index: 2147483001; right: 20px; bottom: 84px; width: 380px;
  height: min(580px, calc(100vh - 110px)); box-shadow: 0 12px 40px rgba(20, 30, 60, .3); }
.left .panel { right: auto; left: 20px; }
header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: var(--accent); color: #fff; }
h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 650; }
.close { border: 0; background: transparent; color: inherit; font-size: 22px; line-height: 1; padding: 2px 8px;
  border-radius: 6px; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 12px; background: #f6f7fb; }
.greeting { margin: 0; color: #4a5068; }
.question { align-self: flex-end; max-width: 88%; background: var(--accent); color: #fff; padding: 8px 12px;
  border-radius: 14px 14px 4px 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.answer { align-self: flex-start; max-width: 100%; background: #fff; border: 1px solid #dfe2ea; padding: 10px 12px;
  border-radius: 14px 14px 14px 4px; overflow-wrap: anywhere; }
.answer p { margin: 0; }
.answer[aria-busy="true"] .text::after { content: "▍"; color: var(--accent); animation: blink 1s steps(2) infinite; }
@keyframes blink { to { opacity: 0; } }
.answer.abstained { background: #f3f3f3; border: 1px dashed #8a8f9e; color: #4a4f5e; font-style: italic; }
.badge { display: inline-block; margin-bottom: 4px; font: 600 12px/1.4 system-ui, sans-serif; font-style: normal;
  color: #5b6072; text-transform: uppercase; letter-spacing: .04em; }
.answer .note { margin-top: 6px; font-size: 13px; font-style: normal; }
.closest { margin-top: 6px; font-style: normal; color: #1d2433; }
.closest .label { margin: 0 0 4px; font-size: 13px; color: #4a5068; }
.closest blockquote { margin: 4px 0; padding: 4px 8px; border-left: 3px solid #8a8f9e; background: #fff; }
.answer.error { background: #fff4f4; border: 1px solid #d64545; color: #7a1f1f; }
.retry { margin-top: 8px; border: 1px solid #b53030; background: #fff; color: #8c1d1d; border-radius: 8px; padding: 4px 12px; }
.chip { display: inline-block; margin: 0 1px; padding: 0 5px; min-width: 26px; border: 1px solid var(--accent);
  border-radius: 999px; background: color-mix(in srgb, var(--accent) 10%, white); color: var(--accent);
  font: 600 12px/1.6 system-ui, sans-serif; font-style: normal; vertical-align: 1px; }
.chip[aria-expanded="true"] { background: var(--accent); color: #fff; }
.quote { margin-top: 8px; padding: 8px 10px; border-left: 3px solid var(--accent); background: #f4f6fd;
  font-size: 14px; font-style: normal; }
.quote .from { font-weight: 600; font-size: 12px; color: #4a5068; }
.quote blockquote { margin: 2px 0 6px; white-space: pre-wrap; }
.sources { margin-top: 8px; font-size: 13px; font-style: normal; color: #4a5068; }
.sources summary { cursor: pointer; font-weight: 600; }
.sources ol { margin: 6px 0 0; padding-left: 20px; }
.sources li { margin-bottom: 6px; }
.sources .snippet { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden;
  white-space: pre-wrap; color: #5b6072; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e3e5ec; background: #fff; }
input { flex: 1; min-width: 0; font: inherit; padding: 9px 12px; border: 1px solid #c5c9d6; border-radius: 10px; }
.send { border: 0; border-radius: 10px; padding: 0 16px; background: var(--accent); color: #fff; font-weight: 600; }
.send:disabled { opacity: .55; cursor: progress; }
@media (max-width: 480px) {
  .launcher-mode .panel { left: 8px; right: 8px; width: auto; bottom: 76px; height: calc(100vh - 92px); }
  .launcher { bottom: 14px; right: 14px; }
  .left .launcher { left: 14px; }
}
`;

  /** An element with attributes and children; strings become text nodes, never markup. */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  function icon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z");
    svg.append(path);
    return svg;
  }

  /** The citation numbers a marker stands for: "[1, 2]" -> [1, 2], "[3-5]" -> [3, 4, 5]. */
  function markerNumbers(marker) {
    const numbers = [];
    for (const part of marker.replace(/[[\]【】［］\s]/g, "").split(/[,，、]/)) {
      const [low, high] = part.split(/[-–~]/).map(Number);
      const range = high !== undefined && high >= low && high - low <= 50 ? [...Array(high - low + 1).keys()].map((i) => low + i) : [low, high];
      for (const n of range) if (Number.isInteger(n) && !numbers.includes(n)) numbers.push(n);
    }
    return numbers;
  }

  /** Server-Sent Events of a fetch response, as {event, data} objects. */
  async function* readEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        yield { event, data: data.join("\n") };
      }
    }
  }

  class Failure extends Error {}

  /** Why the service refused a question, from its JSON error body. */
  async function refusal(response) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : body.detail.map((d) => d.msg).join("; ");
    } catch (_) {
      /* not JSON: the status text says enough */
    }
    if (response.status === 503) return `The service is not ready yet (${detail}). Try again in a moment.`;
    if (response.status === 429) return `Too many questions at once: try again in ${response.headers.get("Retry-After") || "a few"} s.`;
    return `The question was not accepted: ${detail}`;
  }

  /** Why a request failed, in words a reader can act on. */
  async function explain(error) {
    if (error instanceof Failure) return error.message;
    if (!(error instanceof TypeError)) return `The answer could not be read (${error.message}). Try again.`;
    // fetch gives no reason; a request that needs no permission tells "refused" from "unreachable".
    try {
      await fetch(new URL("livez", API), { mode: "no-cors", cache: "no-store" });
      return `This page (${location.origin}) is not allowed to ask the service at ${API}. Its administrator can add it to CITEQA_ALLOWED_ORIGINS.`;
    } catch (_) {
      return `The service at ${API} cannot be reached. Check your connection and try again.`;
    }
  }

  class CiteqaChat extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.turns = [];
      this.controller = null;
    }

    option(name, fallback) {
      return this.dataset[name] || DEFAULTS[name] || fallback;
    }

    get storageKey() {
      return `citeqa:${API}:${this.id || this.mode}`;
    }

    connectedCallback() {
      if (this.panel) return;
      this.mode = this.dataset.mode === "launcher" ? "launcher" : "inline";
      this.build();
      this.restore();
    }

    disconnectedCallback() {
      if (this.controller) this.controller.abort();
    }

    build() {
      const n = ++uid;
      const title = this.option("title", "Ask the reports");
      const root = el("div", { class: `${this.mode}-mode ${this.option("position", "") === "bottom-left" ? "left" : "right"}` });
      const accent = this.option("accent", "");
      if (accent && CSS.supports("color", accent)) root.style.setProperty("--accent", accent);
      const style = el("style");
      style.textContent = STYLE;
      this.shadowRoot.append(style, root);

      this.input = el("input", {
        id: `citeqa-q-${n}`,
        type: "text",
        name: "question",
        autocomplete: "off",
        maxlength: String(MAX_QUESTION),
        placeholder: this.option("placeholder", "Ask a question about the reports"),
      });
      this.send = el("button", { class: "send", type: "submit" }, "Send");
      const form = el("form", {}, el("label", { class: "sr-only", for: `citeqa-q-${n}` }, "Your question"), this.input, this.send);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const question = this.input.value.trim();
        if (!question || this.controller) return;
        this.input.value = "";
        this.ask(question);
      });

      this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
      this.log.append(el("p", { class: "greeting" }, this.option("greeting", "Ask a question; answers quote the reports with their citation markers.")));
      const heading = el("h2", { id: `citeqa-title-${n}` }, title);
      const header = el("header", {}, heading);
      this.panel = el("section", { class: "panel", "aria-labelledby": heading.id }, header, this.log, form);
      root.append(this.panel);

      if (this.mode === "launcher") {
        this.panel.id = `citeqa-panel-${n}`;
        this.panel.setAttribute("role", "dialog");
        this.panel.hidden = true;
        const close = el("button", { class: "close", type: "button", "aria-label": "Close chat" }, "×");
        close.addEventListener("click", () => this.close());
        header.append(close);
        this.launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": this.panel.id }, icon(), title);
        this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
        root.prepend(this.launcher);
        this.panel.addEventListener("keydown", (event) => {
          if (event.key === "Escape") {
            event.stopPropagation();
            this.close();
          }
        });
      } else {
        this.panel.setAttribute("role", "region");
      }
    }

    open() {
      this.panel.hidden = false;
      this.launcher.setAttribute("aria-expanded", "true");
      this.log.scrollTop = this.log.scrollHeight;
      this.input.focus();
    }

    close() {
      this.panel.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    restore() {
      let stored = [];
      try {
        stored = JSON.parse(sessionStorage.getItem(this.storageKey) || "[]");
      } catch (_) {
        stored = [];
      }
      for (const saved of Array.isArray(stored) ? stored : []) {
        if (!saved || typeof saved.question !== "string" || typeof saved.answer !== "string") continue;
        const turn = this.addTurn(saved.question);
        Object.assign(turn, { answer: saved.answer, abstained: !!saved.abstained, note: typeof saved.note === "string" ? saved.note : null, citations: saved.citations || [], sources: saved.sources || [], closest: Array.isArray(saved.closest) ? saved.closest : [], done: true });
        this.renderAnswer(turn);
      }
    }

    save() {
      const done = this.turns.filter((t) => t.done).slice(-MAX_STORED_TURNS);
      const kept = done.map(({ question, answer, abstained, note, citations, sources, closest }) => ({ question, answer, abstained, note, citations, sources, closest }));
      try {
        sessionStorage.setItem(this.storageKey, JSON.stringify(kept));
      } catch (_) {
        /* storage full or disabled: the conversation lasts as long as the page */
      }
    }

    addTurn(question) {
      const box = el("div", { class: "answer", "aria-busy": "false" });
      const turn = { question, answer: "", abstained: false, note: null, citations: [], sources: [], done: false, box, pinned: null };
      this.log.append(el("div", { class: "question" }, el("span", { class: "sr-only" }, "You asked: "), question), box);
      this.turns.push(turn);
      return turn;
    }

    async ask(question, turn = this.addTurn(question)) {
      const history = this.turns
        .filter((t) => t.done && t !== turn)
        .map((t) => t.question.slice(0, MAX_QUESTION))
        .slice(-MAX_HISTORY);
      Object.assign(turn, { answer: "", abstained: false, note: null, citations: [], sources: [], done: false, error: null });
      turn.box.setAttribute("aria-busy", "true");
      this.renderAnswer(turn);
      this.send.disabled = true;
      const controller = (this.controller = new AbortController());
      let response = null;
      try {
        response = await fetch(new URL("ask/stream", API), {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "text/event-stream",
            // The public key issued for this page's origin (data-site-key); the service checks the pair.
            ...(this.option("siteKey", "") ? { "X-Site-Key": this.option("siteKey", "") } : {}),
          },
          body: JSON.stringify({ question, history }),
          signal: controller.signal,
        });
        if (!response.ok) throw new Failure(await refusal(response));
        for await (const { event, data } of readEvents(response)) {
          const payload = JSON.parse(data);
          if (event === "sources") turn.sources = payload;
          else if (event === "delta") turn.answer += payload.text;
          else if (event === "citations") turn.citations = payload;
          else if (event === "done") {
            turn.abstained = !!payload.abstained;
            turn.note = typeof payload.note === "string" ? payload.note : null;
            turn.closest = Array.isArray(payload.closest) ? payload.closest : [];
            turn.done = true;
          }
          this.renderAnswer(turn);
        }
        if (!turn.done) throw new Failure("The answer was cut off. Try again.");
        this.save();
      } catch (error) {
        if (controller.signal.aborted) return;
        turn.error = await explain(error);
      } finally {
        if (this.controller === controller) this.controller = null;
        this.send.disabled = false;
        turn.box.setAttribute("aria-busy", "false");
        this.renderAnswer(turn);
      }
    }

    renderAnswer(turn) {
      const box = turn.box;
      box.replaceChildren();
      box.className = "answer";
      box.removeAttribute("role");
      if (turn.error) {
        box.classList.add("error");
        box.setAttribute("role", "alert");
        const retry = el("button", { class: "retry", type: "button" }, "Retry");
        retry.addEventListener("click", () => {
          if (!this.controller) this.ask(turn.question, turn);
        });
        box.append(el("p", {}, turn.error), retry);
        return;
      }
      const closest = turn.closest || [];
      if (turn.abstained) {
        box.classList.add("abstained");
        box.append(el("span", { class: "badge" }, closest.length ? "Closest in the reports" : "Nothing close in the reports"));
      }
      turn.quote = el("div", { class: "quote", id: `citeqa-quote-${++uid}`, "aria-live": "polite", hidden: true });
      box.append(el("span", { class: "sr-only" }, "Answer: "), this.answerText(turn), turn.quote);
      // What the answer does not say: the question's words no report uses, a part left unanswered.
      if (turn.done && closest.length) box.append(this.closestList(turn, closest));
      if (turn.done && turn.note) box.append(el("p", { class: "note" }, turn.note));
      if (turn.sources.length) box.append(this.sourceList(turn));
      if (turn.pinned) this.showQuote(turn, turn.pinned);
      this.log.scrollTop = this.log.scrollHeight;
    }

    /** The answer with each marker as a chip; the text between markers stays plain text. */
    answerText(turn) {
      const p = el("p", { class: "text" });
      for (const [i, part] of turn.answer.split(MARKER).entries()) {
        if (i % 2 === 0) {
          if (part) p.append(document.createTextNode(part));
          continue;
        }
        const cited = this.citationsFor(turn, part);
        const label = cited.length ? `Citation ${part}, from ${cited.map((c) => c.doc_id).join(", ")}` : `Citation ${part}`;
        const chip = el("button", {
          class: "chip",
          type: "button",
          "aria-label": label,
          "aria-controls": turn.quote.id,
          "aria-expanded": String(turn.pinned === part),
        }, part);
        chip.addEventListener("mouseenter", () => this.showQuote(turn, part));
        chip.addEventListener("focus", () => this.showQuote(turn, part));
        chip.addEventListener("mouseleave", () => turn.pinned || this.hideQuote(turn));
        chip.addEventListener("blur", () => turn.pinned || this.hideQuote(turn));
        chip.addEventListener("click", () => {
          turn.pinned = turn.pinned === part ? null : part;
          for (const other of p.querySelectorAll(".chip")) other.setAttribute("aria-expanded", String(other.textContent === turn.pinned));
          this.showQuote(turn, part);
        });
        chip.addEventListener("keydown", (event) => {
          if (event.key === "Escape" && !turn.quote.hidden) {
            event.stopPropagation();
            turn.pinned = null;
            this.hideQuote(turn);
          }
        });
        p.append(chip);
      }
      return p;
    }

    /** The sentences where the reports come closest, each whole, quoted, its markers as chips: for the
     * reader to judge, never presented as the answer. */
    closestList(turn, closest) {
      const label = turn.abstained
        ? "Quoted for you to judge; none is claimed as the answer:"
        : "For the part not answered as asked, the closest the reports come, for you to judge:";
      const quotes = closest.map((c) => {
        const parts = c.text.split(MARKER).map((part, i) =>
          i % 2 ? el("span", { class: "chip", title: c.doc_id }, part) : document.createTextNode(part));
        return el("blockquote", {}, ...parts, el("span", { class: "sr-only" }, ` (${c.doc_id})`));
      });
      return el("div", { class: "closest" }, el("p", { class: "label" }, label), ...quotes);
    }

    citationsFor(turn, marker) {
      const wanted = markerNumbers(marker).map((n) => `[${n}]`);
      return turn.citations.filter((c) => wanted.includes(c.marker));
    }

    showQuote(turn, marker) {
      const quote = turn.quote;
      quote.replaceChildren();
      const cited = this.citationsFor(turn, marker);
      if (!cited.length) {
        quote.append(el("div", { class: "from" }, `${marker}: the quote arrives with the rest of the answer.`));
      }
      const shown = new Set();
      for (const citation of cited) {
        const key = `${citation.chunk_id}\u0000${citation.quote}`;
        if (shown.has(key)) continue;
        shown.add(key);
        const source = turn.sources.find((s) => s.chunk_id === citation.chunk_id);
        const from = source && source.title ? `${source.title} (${citation.doc_id})` : citation.doc_id;
        quote.append(el("div", { class: "from" }, `${marker} · ${from}`), el("blockquote", {}, citation.quote));
      }
      quote.hidden = false;
    }

    hideQuote(turn) {
      turn.quote.hidden = true;
    }

    sourceList(turn) {
      const items = turn.sources.map((s) =>
        el(
          "li",
          {},
          el("div", {}, `${s.title || s.doc_id} — ${s.doc_id}`),
          el("div", { class: "snippet" }, s.text),
        ),
      );
      const label = !turn.abstained ? "Sources" : (turn.closest || []).length ? "Closest passages" : "Retrieved passages";
      return el("details", { class: "sources" }, el("summary", {}, `${label} (${turn.sources.length})`), el("ol", {}, ...items));
    }
  }

  customElements.define("citeqa-chat", CiteqaChat);

  if ((DEFAULTS.mode || "launcher") === "launcher") {
    const mount = () => document.body.append(el("citeqa-chat", { "data-mode": "launcher" }));
    if (document.body) mount();
    else document.addEventListener("DOMContentLoaded", mount);
  }
})();
