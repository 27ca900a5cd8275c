// The reviewer's page: everything it does goes through the service's own API, with the token in
// the Authorization header (never in a URL). Text from the service is set as text, never as
// markup; the HTML report is shown in a sandboxed frame, as a document of its own.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const tokenInput = $("token");
  const fileInput = $("file");
  const drop = $("drop");
  const frame = $("report");
  const LABELS = {
    reject: "Rejected",
    needs_information: "Needs information",
    approve_with_conditions: "Approved with conditions",
    approve: "Approved",
  };
  const SUFFIX = { xlsx: "xlsx", markdown: "md", sarif: "sarif", json: "json", html: "html" };
  const MAX_PROBLEMS = 50;

  let chosen = null; // the File to review
  let current = null; // {id, base}: the review shown
  let frameUrl = null;

  class PageError extends Error {
    constructor(message, problems = [], status = 0) {
      super(message);
      this.problems = problems;
      this.status = status;
    }
  }

  function say(text) {
    $("status").textContent = text;
  }

  function clearError() {
    $("error").hidden = true;
    $("error-line").textContent = "";
    $("error-problems").replaceChildren();
  }

  function showError(error) {
    const box = $("error");
    const problems = error instanceof PageError ? error.problems : [];
    $("error-line").textContent = error.message;
    const items = problems.slice(0, MAX_PROBLEMS).map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    });
    if (problems.length > MAX_PROBLEMS) {
      const li = document.createElement("li");
      li.textContent = `… and ${problems.length - MAX_PROBLEMS} more`;
      items.push(li);
    }
    $("error-problems").replaceChildren(...items);
    box.hidden = false;
    say("");
  }

  async function failure(response) {
    let message = `the service answered ${response.status}`;
    let problems = [];
    try {
      const body = await response.json();
      if (body && body.error && typeof body.error.message === "string") {
        message = body.error.message;
        problems = Array.isArray(body.error.problems) ? body.error.problems.slice(1) : [];
      }
    } catch (_) {
      // not the service's JSON error body: the status says what there is to say
    }
    return new PageError(`Error ${response.status}: ${message}`, problems, response.status);
  }

  async function call(method, path, body) {
    const token = tokenInput.value.trim();
    if (!token) {
      tokenInput.focus();
      throw new PageError("Type your access token first.");
    }
    if (!/^[\x21-\x7e]+$/.test(token)) {
      tokenInput.focus();
      throw new PageError("A token is printable ASCII without spaces: check what was typed.");
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        body,
        headers: { Authorization: `Bearer ${token}` },
        cache: "no-store",
        credentials: "omit",
        redirect: "error",
        referrerPolicy: "no-referrer",
      });
    } catch (error) {
      throw new PageError(`The service did not answer (${error.message}).`);
    }
    if (!response.ok) throw await failure(response);
    return response;
  }

  function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  async function busy(button, work) {
    clearError();
    if (button) button.disabled = true;
    try {
      await work();
    } catch (error) {
      showError(error);
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ------------------------------------------------------------------------ the template

  for (const [id, layout, name] of [
    ["template-single", "single", "proposal-template.xlsx"],
    ["template-register", "register", "proposal-register.xlsx"],
  ]) {
    const button = $(id);
    button.addEventListener("click", () =>
      busy(button, async () => {
        const response = await call("GET", `/v1/template?layout=${layout}`);
        save(await response.blob(), name);
        say(`Downloaded ${name}.`);
      }),
    );
  }

  // --------------------------------------------------------------------- choosing a file

  function choose(file) {
    chosen = file;
    $("chosen").textContent = file
      ? `Chosen: ${file.name} (${file.size.toLocaleString("en")} bytes). Press Review.`
      : "No file chosen.";
  }

  fileInput.addEventListener("change", () => choose(fileInput.files[0] || null));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const files = event.dataTransfer ? event.dataTransfer.files : [];
    if (files.length !== 1) {
      showError(new PageError("Drop one file at a time."));
      return;
    }
    clearError();
    choose(files[0]);
  });
  // A file dropped beside the zone must not replace the page (and the token with it).
  for (const kind of ["dragover", "drop"]) {
    window.addEventListener(kind, (event) => event.preventDefault());
  }

  // -------------------------------------------------------------------------- the review

  function plural(n, noun) {
    return `${n} ${noun}${n === 1 ? "" : "s"}`;
  }

  async function show(id, base, decision, detail) {
    current = { id, base };
    const line = $("decision");
    line.dataset.decision = decision;
    line.textContent = `${LABELS[decision] || decision} (${decision})`;
    $("decision-detail").textContent = detail;
    frame.classList.add("loading"); // the last report is not shown for this review
    $("result").hidden = false;
    const response = await call("GET", `/v1/decisions/${encodeURIComponent(id)}/report?format=html`);
    const html = await response.text();
    if (frameUrl) URL.revokeObjectURL(frameUrl);
    frameUrl = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    frame.src = frameUrl;
    frame.classList.remove("loading");
  }

  $("review-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const button = $("review");
    busy(button, async () => {
      if (!chosen) {
        fileInput.focus();
        throw new PageError("Choose a workbook or a JSON file first.");
      }
      say(`Reviewing ${chosen.name} …`);
      const form = new FormData();
      form.append("file", chosen, chosen.name);
      const response = await call("POST", "/v1/reviews", form);
      const id = response.headers.get("X-Compliance-Decision-Id");
      const decision = response.headers.get("X-Compliance-Decision");
      const code = response.headers.get("X-Compliance-Exit-Code");
      const report = await response.json();
      const findings = report.reviews.reduce((n, r) => n + r.findings.length, 0);
      const base = chosen.name.replace(/\.[^.]*$/, "") || "review";
      const detail =
        `${plural(report.summary.proposals, "proposal")} from ${chosen.name}, ` +
        `${plural(findings, "finding")}; the command line would exit with ${code}. ` +
        `Decision record ${id}.`;
      await show(id, base, decision, detail);
      say(`Reviewed ${chosen.name}: ${LABELS[decision] || decision}.`);
      loadDecisions(true);
    });
  });

  for (const button of document.querySelectorAll("#downloads button")) {
    button.addEventListener("click", () =>
      busy(button, async () => {
        if (!current) throw new PageError("Review a file first.");
        const format = button.dataset.format;
        const response = await call(
          "GET",
          `/v1/decisions/${encodeURIComponent(current.id)}/report?format=${format}`,
        );
        const name = `${current.base}-review.${SUFFIX[format]}`;
        save(await response.blob(), name);
        say(`Downloaded ${name}.`);
      }),
    );
  }

  // ----------------------------------------------------------------- the decision log

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  async function loadDecisions(quiet) {
    const note = $("decisions-note");
    let response;
    try {
      response = await call("GET", "/v1/decisions?limit=20");
    } catch (error) {
      $("decisions").hidden = true;
      if (error.status === 403) {
        note.textContent = "This token may not read the decision log.";
      } else if (!quiet) {
        throw error;
      }
      return;
    }
    const page = await response.json();
    const rows = page.decisions.map((d) => {
      const tr = document.createElement("tr");
      const ids = d.proposals.map((p) => p.id).join(", ");
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = "Open";
      open.setAttribute("aria-label", `Open the review of ${ids || d.id}`);
      open.addEventListener("click", () =>
        busy(open, async () => {
          const detail =
            `${plural(d.proposals.length, "proposal")}: ${ids}; asked by ${d.client} at ` +
            `${d.created_at}. Decision record ${d.id}.`;
          await show(d.id, ids.split(", ")[0] || "review", d.decision, detail);
          $("result-heading").scrollIntoView();
          say(`Showing decision ${d.id}.`);
        }),
      );
      const action = document.createElement("td");
      action.append(open);
      tr.append(
        cell(d.created_at.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "")),
        cell(LABELS[d.decision] || d.decision),
        cell(ids),
        cell(d.client),
        action,
      );
      return tr;
    });
    $("decisions-rows").replaceChildren(...rows);
    $("decisions").hidden = rows.length === 0;
    note.textContent = rows.length ? "" : "No decision is recorded yet.";
  }

  const load = $("decisions-load");
  load.addEventListener("click", () => busy(load, () => loadDecisions(false)));
})();
