/* Material tab: one tap sends a material into the open chat through the JS-SDK.
 * prepare (server builds the payload) → sidebarSDK.send → report the outcome (server records it).
 * Plain ES2017, no build step. Loaded once per page by sidebar/base.html; delegated handlers serve every
 * card swapped in later. */
(function () {
  "use strict";
  if (window.sidebarMaterials) return;
  // The server's marker for "this page had no WeCom bridge" (sidebar.material_views.NO_SDK_ERROR).
  var NO_SDK = "sendChatMessage:fail sdk not ready";

  function messages() {
    // The material tab, the 今日 banner on top of the portrait (its recommended material), or a 任务卡.
    var box =
      document.getElementById("materials") ||
      document.getElementById("today-banner") ||
      document.getElementById("task-card");
    return box ? box.dataset : {};
  }

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) {
      /* fall through to the form field */
    }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  async function postJSON(url, body) {
    var resp = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    var data = {};
    try {
      data = await resp.json();
    } catch (e) {
      data = {};
    }
    if (!resp.ok) {
      var err = new Error(data.error || messages().msgNetwork || "HTTP " + resp.status);
      err.fromServer = Boolean(data.error);
      if (resp.status === 401) restartShell();
      throw err;
    }
    return data;
  }

  /* The session expired: reload the shell page, which signs in again and reopens this customer. */
  function restartShell() {
    var shell = messages().shellUrl;
    if (shell) setTimeout(function () { window.location.assign(shell); }, 1500);
  }

  /* `detail` (WeCom's raw errMsg) goes small and muted under the Chinese explanation. */
  function setStatus(card, text, kind, detail) {
    var status = card.querySelector("[data-role=status]");
    if (!status) return;
    status.textContent = text || "";
    if (text && detail) {
      var small = document.createElement("small");
      small.className = "muted mat-status-detail";
      small.textContent = detail;
      status.appendChild(small);
    }
    status.hidden = !text;
    status.className = "mat-status" + (kind ? " " + kind : "");
  }

  function showCopy(card, show) {
    var button = card.querySelector("[data-role=copy]");
    if (button) button.hidden = !show;
  }

  /* The long-script sheet: resolves true (send) or false (cancel). */
  function confirmSheet(text) {
    var sheet = document.getElementById("mat-sheet");
    if (!sheet) return Promise.resolve(true);
    sheet.querySelector("[data-role=sheet-text]").textContent = text;
    sheet.hidden = false;
    var sendButton = sheet.querySelector("[data-role=sheet-send]");
    sendButton.focus();
    return new Promise(function (resolve) {
      function done(ok) {
        sheet.hidden = true;
        sheet.removeEventListener("click", onClick);
        resolve(ok);
      }
      function onClick(ev) {
        if (ev.target.closest("[data-role=sheet-send]")) done(true);
        else if (ev.target.closest("[data-role=sheet-cancel]") || ev.target === sheet) done(false);
      }
      sheet.addEventListener("click", onClick);
    });
  }

  /* Opened outside WeCom: no JS-SDK to send through, so there is no send to record either. */
  function sdkMissing() {
    var sdk = window.sidebarSDK;
    return !sdk || (typeof sdk.connected === "function" && !sdk.connected());
  }

  /* WeCom answers err_msg "sendChatMessage:ok", "...:cancel" or "...:fail reason". */
  async function deliver(msg) {
    if (sdkMissing()) return { status: "nosdk" };
    try {
      await window.sidebarSDK.send(msg);
      return { status: "sent", errMsg: "" };
    } catch (err) {
      if (err && err.noSdk) return { status: "nosdk" };
      var text = (err && err.message) || "sendChatMessage:fail";
      return { status: /:cancel/.test(text) ? "cancelled" : "failed", errMsg: text };
    }
  }

  /* Recording is idempotent per request_id, so a lost answer is simply asked again once. */
  async function report(url, outcome) {
    try {
      return await postJSON(url, outcome);
    } catch (err) {
      if (err.fromServer) throw err;
      await new Promise(function (resolve) {
        setTimeout(resolve, 1000);
      });
      return postJSON(url, outcome);
    }
  }

  /* Never reported: the statistics count only taps that reached WeCom. */
  function showNoSdk(card) {
    setStatus(card, messages().msgNoSdk, "error");
    showCopy(card, card.dataset.kind === "text");
  }

  async function sendOnce(card, url, retried) {
    var msgs = messages();
    if (sdkMissing()) return showNoSdk(card);
    setStatus(card, retried ? msgs.msgRetrying : msgs.msgPreparing, "busy");
    var prep = await postJSON(url);
    if (prep.msg && prep.msg.text) card.dataset.preparedText = prep.msg.text.content;
    var outcome;
    if (prep.confirm && !(await confirmSheet(prep.msg.text.content))) {
      outcome = { status: "cancelled", errMsg: "cancelled in the confirm sheet" };
    } else {
      // A long script's pending row: WeCom delivers it even if this page is gone before it can report.
      if (prep.confirm) await report(prep.report_url, { status: "pending" });
      setStatus(card, msgs.msgSending, "busy");
      outcome = await deliver(prep.msg);
      if (outcome.status === "nosdk") {
        // Nothing reached WeCom: drop the pending send, or it would be counted as sent later.
        report(prep.report_url, { status: "failed", errMsg: NO_SDK }).catch(function () {});
        return showNoSdk(card);
      }
    }
    var answer = await report(prep.report_url, outcome);
    if (answer.retry && !retried) return sendOnce(card, url, true);
    // The guide's own cancel is no error: neutral, and nothing to copy.
    var kind = answer.status === "sent" ? "ok" : answer.status === "cancelled" ? "" : "error";
    setStatus(card, answer.message, kind, answer.detail);
    // A send may complete a 今日 reminder: the banner reloads on this.
    if (answer.status === "sent") document.body.dispatchEvent(new CustomEvent("material-sent"));
    showCopy(card, Boolean(answer.copy) && answer.status === "failed");
  }

  async function send(button) {
    var card = button.closest(".mat");
    if (!card || button.disabled) return;
    button.disabled = true;
    showCopy(card, false);
    try {
      await sendOnce(card, button.dataset.sendUrl, false);
    } catch (err) {
      setStatus(card, err.fromServer ? err.message : messages().msgNetwork, "error");
      showCopy(card, card.dataset.kind === "text");
    } finally {
      button.disabled = false;
    }
  }

  function copyFallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    area.setSelectionRange(0, text.length);
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  async function copy(button) {
    var card = button.closest(".mat");
    var source = card.querySelector("[data-role=text]");
    var text = card.dataset.preparedText || (source ? source.value : "");
    var ok = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        ok = true;
      } catch (e) {
        ok = false;
      }
    }
    if (!ok) ok = copyFallback(text);
    var msgs = messages();
    setStatus(card, ok ? msgs.msgCopied : msgs.msgCopyFailed, ok ? "ok" : "error");
    if (!ok && source) {
      // Last resort: show the text so the guide can long-press and copy it.
      source.hidden = false;
      source.removeAttribute("aria-hidden");
      source.select();
    }
  }

  document.addEventListener("click", function (ev) {
    var sendButton = ev.target.closest(".mat-send[data-send-url]");
    if (sendButton) {
      ev.preventDefault();
      send(sendButton);
      return;
    }
    var copyButton = ev.target.closest(".mat [data-role=copy]");
    if (copyButton) {
      ev.preventDefault();
      copy(copyButton);
    }
  });

  // The star is an htmx form: an error answer (JSON {"error"}) is not swapped, so show it on the card.
  document.addEventListener("htmx:responseError", function (ev) {
    var form = ev.detail.elt && ev.detail.elt.closest && ev.detail.elt.closest(".mat-fav");
    var card = form && form.closest(".mat");
    if (!card) return;
    var message = "";
    try {
      message = JSON.parse(ev.detail.xhr.responseText).error || "";
    } catch (e) {
      message = "";
    }
    setStatus(card, message || messages().msgNetwork, "error");
  });

  document.addEventListener("keydown", function (ev) {
    var sheet = document.getElementById("mat-sheet");
    if (ev.key === "Escape" && sheet && !sheet.hidden) sheet.querySelector("[data-role=sheet-cancel]").click();
  });

  window.sidebarMaterials = { send: send };
})();
