// The token page (/tokens/manage). Talks to the gateway's JSON API with the
// credential in `Authorization`. The credential lives in the `session`
// variable only: never in a cookie, Web Storage, IndexedDB or a URL, and every
// request is sent with `credentials: "omit"` so the browser neither adds
// cookies or cached Basic credentials nor shows its own password prompt.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    problem: $("problem"),
    signIn: $("sign-in"),
    passwordForm: $("password-form"),
    username: $("username"),
    password: $("password"),
    tokenForm: $("token-form"),
    bearer: $("bearer"),
    account: $("account"),
    accountTitle: $("account-title"),
    whoUsername: $("who-username"),
    whoRealm: $("who-realm"),
    signOut: $("sign-out"),
    createForm: $("create-form"),
    name: $("token-name"),
    lifetime: $("token-lifetime"),
    newToken: $("new-token"),
    newTokenValue: $("new-token-value"),
    copy: $("copy"),
    copyStatus: $("copy-status"),
    listTitle: $("list-title"),
    empty: $("empty"),
    table: $("token-table"),
    rows: $("token-rows"),
    confirm: $("confirm-revoke"),
    confirmText: $("confirm-text"),
  };

  /** The signed-in caller: `{ authorization, basic, user }`, or null. */
  let session = null;

  /** An error whose message is already meant for the person at the screen. */
  class Problem extends Error {}

  function showProblem(message) {
    el.problem.textContent = message;
    el.problem.hidden = false;
  }

  function clearProblem() {
    el.problem.hidden = true;
    el.problem.textContent = "";
  }

  function waitText(res) {
    const seconds = Number(res.headers.get("retry-after"));
    if (!Number.isInteger(seconds) || seconds <= 0) return "a moment";
    if (seconds < 120) return `${seconds} second${seconds === 1 ? "" : "s"}`;
    return `${Math.ceil(seconds / 60)} minutes`;
  }

  async function errorText(res) {
    try {
      const body = await res.json();
      if (body && typeof body.error === "string") return body.error;
    } catch {
      // not JSON: fall through
    }
    return `the gateway answered ${res.status}`;
  }

  /** Turns a failed answer into plain words. */
  async function explain(res, basic) {
    if (res.status === 401) {
      if (res.headers.has("retry-after")) {
        return `Too many failed attempts. Wait ${waitText(res)} before trying again.`;
      }
      if (session) return "Your credential is no longer accepted. Sign in again.";
      return basic ? "Wrong username or password." : "This token was not accepted.";
    }
    if (res.status === 503) {
      const detail = await errorText(res);
      if (detail === "Token store unavailable") {
        return `The token store is unavailable. Try again in ${waitText(res)}.`;
      }
      return `The identity service is unavailable. Try again in ${waitText(res)}.`;
    }
    // The API's own words ("name must be 1 to 100 characters"), as a sentence.
    const text = await errorText(res);
    return `${text[0].toUpperCase()}${text.slice(1)}${text.endsWith(".") ? "" : "."}`;
  }

  /** Calls the gateway as the signed-in caller (or with `authorization` while signing in). */
  async function call(method, path, { authorization, body, basic } = {}) {
    const headers = { authorization: authorization ?? session.authorization };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        redirect: "error",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new Problem("The gateway could not be reached. Check your connection and try again.");
    }
    if (!res.ok) {
      const message = await explain(res, basic ?? session?.basic);
      if (res.status === 401 && session && !res.headers.has("retry-after")) signOut();
      throw new Problem(message);
    }
    return res;
  }

  function basicHeader(username, password) {
    const bytes = new TextEncoder().encode(`${username}:${password}`);
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return `Basic ${btoa(binary)}`;
  }

  function when(iso) {
    if (!iso) return "never";
    return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  }

  function cell(row, label, text, className) {
    const td = document.createElement("td");
    td.dataset.label = label;
    if (className) td.className = className;
    td.textContent = text;
    row.append(td);
    return td;
  }

  function renderTokens(tokens) {
    el.rows.replaceChildren();
    for (const token of tokens) {
      const row = document.createElement("tr");
      row.dataset.id = token.id;
      const name = cell(row, "Name", token.name ?? "(no name)");
      name.id = `name-${token.id}`;
      cell(row, "Prefix", `${token.prefix}…`, "prefix");
      cell(row, "Created", when(token.created_at));
      cell(row, "Expires", when(token.expires_at));
      cell(row, "Last used", when(token.last_used_at));
      const actions = cell(row, "", "", "actions");
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "quiet";
      revoke.textContent = "Revoke";
      revoke.setAttribute("aria-describedby", name.id);
      revoke.addEventListener("click", () => confirmRevoke(token, row));
      actions.append(revoke);
      el.rows.append(row);
    }
    el.empty.hidden = tokens.length > 0;
    el.table.hidden = tokens.length === 0;
  }

  async function loadTokens() {
    const res = await call("GET", "/tokens");
    const { tokens } = await res.json();
    renderTokens(tokens);
  }

  async function busy(form, work) {
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => b.disabled = true);
    clearProblem();
    try {
      await work();
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      showProblem(error.message);
    } finally {
      buttons.forEach((b) => b.disabled = false);
    }
  }

  async function signIn(authorization, basic) {
    const res = await call("GET", "/whoami", { authorization, basic });
    const user = await res.json();
    session = { authorization, basic, user };
    el.password.value = "";
    el.bearer.value = "";
    el.whoUsername.textContent = user.username;
    el.whoRealm.textContent = user.realm;
    el.signIn.hidden = true;
    el.account.hidden = false;
    el.newToken.hidden = true;
    el.newTokenValue.value = "";
    el.accountTitle.focus();
    await loadTokens();
  }

  function signOut() {
    session = null;
    el.whoUsername.textContent = "";
    el.whoRealm.textContent = "";
    el.newTokenValue.value = "";
    el.newToken.hidden = true;
    el.rows.replaceChildren();
    el.table.hidden = true;
    el.empty.hidden = true;
    el.account.hidden = true;
    el.signIn.hidden = false;
    if (el.confirm.open) el.confirm.close("cancel");
  }

  function confirmRevoke(token, row) {
    const label = token.name ? `"${token.name}" (${token.prefix}…)` : `${token.prefix}…`;
    el.confirmText.textContent =
      `Revoke ${label}? Anything still using it will be refused from now on.`;
    el.confirm.returnValue = "";
    el.confirm.addEventListener("close", async () => {
      if (el.confirm.returnValue !== "revoke" || !session) return;
      await busy(row, async () => {
        await call("DELETE", `/token/${encodeURIComponent(token.id)}`);
        row.remove();
        const left = el.rows.children.length;
        el.empty.hidden = left > 0;
        el.table.hidden = left === 0;
        el.listTitle.focus();
      });
    }, { once: true });
    el.confirm.showModal();
  }

  el.passwordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const username = el.username.value;
    if (username.includes(":")) {
      showProblem("A username cannot contain a colon.");
      return;
    }
    busy(el.passwordForm, () => signIn(basicHeader(username, el.password.value), true));
  });

  el.tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = el.bearer.value.trim();
    if (!/^[\x21-\x7e]+$/.test(token)) {
      showProblem("A token is one word of visible characters, without spaces.");
      return;
    }
    busy(el.tokenForm, () => signIn(`Bearer ${token}`, false));
  });

  el.signOut.addEventListener("click", () => {
    clearProblem();
    signOut();
    el.username.focus();
  });

  el.createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(el.createForm, async () => {
      const res = await call("POST", "/tokens", {
        body: { name: el.name.value, expires_in: Number(el.lifetime.value) },
      });
      const created = await res.json();
      el.name.value = "";
      el.newTokenValue.value = created.token;
      el.copyStatus.textContent = "";
      el.newToken.hidden = false;
      el.newTokenValue.focus();
      el.newTokenValue.select();
      await loadTokens();
    });
  });

  el.copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(el.newTokenValue.value);
      el.copyStatus.textContent = "Copied to the clipboard.";
    } catch {
      // Selecting moves the focus to the field, ready for Ctrl+C.
      el.newTokenValue.select();
      el.copyStatus.textContent = "Copying is blocked here: the token is selected, press Ctrl+C.";
    }
  });

  // Leaving the page (or putting it in the back/forward cache) signs out.
  globalThis.addEventListener("pagehide", signOut);
})();
