// Kyoso web app: a little script on server-rendered pages. Every call goes to the JSON API with the session cookie
// and the X-Kyoso-Request header (the API's CSRF rule for cookie sessions), and asks for the page's language, so that
// the API's error messages come in it and are shown as they are.
"use strict";

const LANG = document.documentElement.lang === "en" ? "en" : "ja";

function messageOf(data) {
  return data && typeof data.message === "string" ? data.message : "";
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin",
                 headers: { "X-Kyoso-Request": "1", "Accept": "application/json", "Accept-Language": LANG } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (_) { data = null; }
  }
  return { ok: response.ok, status: response.status, data };
}

function showError(form, result, fallback) {
  const box = form.querySelector(".form-error");
  if (!box) return;
  const data = result && result.data;
  box.textContent = messageOf(data) || messageOf(data && data.detail) || fallback || "Error";
  box.hidden = false;
  box.focus?.();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Where a form leads after logging in: a path of this site only. The browser's own URL parser decides, the one that
// will follow it (it reads "/\\evil.example" and "/<TAB>/evil.example" as another site; the server's check says the
// same, backend/web/forms.py safe_next).
function sameSitePath(target) {
  if (typeof target !== "string" || !target.startsWith("/")) return "/me";
  try {
    const url = new URL(target, location.origin);
    if (url.origin === location.origin && (url.protocol === "http:" || url.protocol === "https:")) {
      return url.pathname + url.search + url.hash;
    }
  } catch (_) { /* not a URL at all */ }
  return "/me";
}

// ---------------------------------------------------------------------------------------------- session forms
document.querySelectorAll("form[data-session-form]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)),
        headers: { "X-Kyoso-Request": "1", "Accept": "application/json", "Accept-Language": LANG },
      });
      if (response.status === 202) {
        // a sign-up with an address that has an account already: its owner got a mail, nobody is logged in
        let note = null;
        try { note = await response.json(); } catch (_) { /* not JSON */ }
        showError(form, { data: note });
        return;
      }
      if (response.ok) {
        if (document.getElementById("claim")) {
          sessionStorage.setItem("kyoso-claim-after-login", "1");
          location.reload();  // the fragment (the claim code) stays
        } else {
          location.assign(sameSitePath(form.querySelector("[name=next]")?.value));
        }
        return;
      }
      let data = null;
      try { data = await response.json(); } catch (_) { /* not JSON */ }
      showError(form, { data }, document.body.dataset.errorText);
    } finally {
      button.disabled = false;
    }
  });
});

// ---------------------------------------------------------------------------------------------- mailed links
// A link mailed to confirm an address or set a new password carries its token in the fragment (#t=...), which no
// request sends: it goes into the page's form here, and out of the address bar and the history.
const fragmentToken = new URLSearchParams(location.hash.slice(1)).get("t");
document.querySelectorAll("input[data-fragment-token]").forEach((input) => {
  if (fragmentToken) input.value = fragmentToken;
});
if (fragmentToken && document.querySelector("input[data-fragment-token]")) {
  history.replaceState(null, "", location.pathname + location.search);
}

// ---------------------------------------------------------------------------------------------- API forms
function formJson(form) {
  const body = {};
  for (const element of form.elements) {
    if (!element.name || element.closest("[hidden]")) continue;
    if (element.type === "radio" && !element.checked) continue;
    if (element.multiple) {
      body[element.name] = Array.from(element.selectedOptions, (option) => Number(option.value));
      continue;
    }
    if (element.value === "") continue;
    body[element.name] = element.type === "number" ? Number(element.value) : element.value;
  }
  if (form.hasAttribute("data-rule-form")) {
    // perks and missions: the rule's fields nest under `rule`; dates and times typed in Kanazawa are Japan time
    const rule = { kind: body.rule_kind, min_organizations: body.rule_min_organizations || 1 };
    if (rule.kind === "category") {
      Object.assign(rule, { category: body.rule_category, min_badges: body.rule_min_badges || 1 });
    } else {
      rule.event_ids = body.rule_event_ids || [];
    }
    for (const key of Object.keys(body)) if (key.startsWith("rule_")) delete body[key];
    body.rule = rule;
    for (const key of ["valid_from", "valid_until"]) body[key] = new Date(`${body[key]}:00+09:00`).toISOString();
  }
  if (form.hasAttribute("data-event-form")) {
    // a date and time typed in Kanazawa: Japan time; badges can be claimed from an hour before until a day after
    const iso = (local) => new Date(`${local}:00+09:00`);
    const starts = iso(body.starts_at), ends = iso(body.ends_at);
    body.starts_at = starts.toISOString();
    body.ends_at = ends.toISOString();
    body.claim_start = new Date(starts.getTime() - 3600e3).toISOString();
    body.claim_end = new Date(ends.getTime() + 86400e3).toISOString();
  }
  return body;
}

document.querySelectorAll("form[data-api-form]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const method = form.dataset.method || "POST";
    const result = await api(method, form.dataset.action, method === "DELETE" ? undefined : formJson(form));
    button.disabled = false;
    if (!result.ok) return showError(form, result);
    if (form.dataset.go && result.data && result.data.id !== undefined) {
      location.assign(form.dataset.go.replace("{id}", result.data.id));
    } else {
      location.reload();
    }
  });
});

document.querySelectorAll("[data-rule-kind]").forEach((select) => {
  const form = select.closest("form");
  const sync = () => form.querySelectorAll("[data-when-rule]").forEach((box) => {
    box.hidden = box.dataset.whenRule !== (select.value === "category" ? "category" : "events");
  });
  select.addEventListener("change", sync);
  sync();
});

const kindSelect = document.getElementById("p-kind");
if (kindSelect) {
  const sync = () => document.querySelectorAll("[data-when-kind]").forEach((box) => {
    box.hidden = box.dataset.whenKind !== kindSelect.value;
  });
  kindSelect.addEventListener("change", sync);
  sync();
}

// ---------------------------------------------------------------------------------------------- claim page
const claimBox = document.getElementById("claim");
if (claimBox) {
  const status = document.getElementById("claim-status");
  const params = new URLSearchParams(location.hash.slice(1));
  const secret = params.get("c") || params.get("k");
  const method = params.get("c") ? "code" : "kiosk";
  const say = (key, reason) => {
    status.textContent = claimBox.dataset[key].replace("{reason}", reason || "");
    status.classList.toggle("ok", key === "textConfirmed");
  };
  const follow = async (claimId) => {
    for (let i = 0; i < 600; i += 1) {
      const result = await api("GET", `/api/claims/${claimId}`);
      if (result.ok) {
        const state = result.data.status;
        if (state === "confirmed") {
          say("textConfirmed");
          document.getElementById("claim-done").hidden = false;
          return;
        }
        if (state === "failed") return say("textFailed", result.data.failure);
        say(state === "submitted" ? "textSubmitted" : "textAccepted");
      }
      await sleep(1000);
    }
  };
  const claim = async () => {
    const button = document.getElementById("claim-button");
    if (button) button.disabled = true;
    const result = await api("POST", `/api/events/${claimBox.dataset.eventId}/claims`, { method, secret });
    if (result.ok) {
      say("textAccepted");
      return follow(result.data.id);
    }
    if (result.status === 409 && result.data && result.data.claim_id) return follow(result.data.claim_id);
    if (button) button.disabled = false;
    status.textContent = messageOf(result.data) || claimBox.dataset.textError;
  };
  if (!secret) {
    status.textContent = claimBox.dataset.textNoCode;
    document.getElementById("claim-button")?.setAttribute("disabled", "");
  } else {
    document.getElementById("claim-button")?.addEventListener("click", claim);
    if (document.getElementById("claim-button") && sessionStorage.getItem("kyoso-claim-after-login")) {
      sessionStorage.removeItem("kyoso-claim-after-login");
      claim();  // the attendee signed up to claim: no second tap needed
    }
  }
}

// ---------------------------------------------------------------------------------------------- proposal page
const proposalBox = document.getElementById("proposal");
if (proposalBox) {
  const id = proposalBox.dataset.proposalId;
  const statusLine = document.getElementById("vote-status");
  const refresh = async () => {
    const result = await api("GET", `/api/proposals/${id}`);
    if (!result.ok) return null;
    const votes = result.data.votes;
    for (const [key, value] of [["vote_for", votes.for], ["vote_against", votes.against], ["vote_abstain", votes.abstain]]) {
      const cell = proposalBox.querySelector(`[data-tally="${key}"]`);
      if (cell) cell.textContent = value.toLocaleString(LANG === "ja" ? "ja-JP" : "en-US");
    }
    return result.data;
  };
  if (proposalBox.dataset.state === "active" || proposalBox.dataset.state === "pending") {
    setInterval(refresh, 5000);
  }
  const form = document.getElementById("vote-form");
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const support = Number(new FormData(form).get("support"));
    const reason = form.querySelector("[name=reason]").value;
    const body = { support, reason };
    button.disabled = true;
    if (proposalBox.dataset.wallet === "own") {
      if (!window.ethereum) {
        button.disabled = false;
        return showError(form, null, proposalBox.dataset.textWalletMissing);
      }
      const ballot = await api("GET", `/api/proposals/${id}/ballot?support=${support}&reason=${encodeURIComponent(reason)}`);
      const [account] = await window.ethereum.request({ method: "eth_requestAccounts" });
      body.signature = await window.ethereum.request({
        method: "eth_signTypedData_v4", params: [account, JSON.stringify(ballot.data)],
      });
    }
    const result = await api("POST", `/api/proposals/${id}/votes`, body);
    if (!result.ok) {
      button.disabled = false;
      return showError(form, result, proposalBox.dataset.textError);
    }
    form.hidden = true;
    statusLine.textContent = document.querySelector("#claim") ? "" : (LANG === "ja" ? "投票を受け付けました。記録しています…" : "Vote received. Recording it…");
    for (let i = 0; i < 120; i += 1) {
      const data = await refresh();
      if (data && data.my_vote && data.my_vote.status === "confirmed") {
        location.reload();
        return;
      }
      await sleep(1000);
    }
  });
}

// ---------------------------------------------------------------------------------------------- organizer pages
const live = document.getElementById("live");
if (live) {
  setInterval(async () => {
    const result = await api("GET", `/console/events/${live.dataset.eventId}/live`);
    if (!result.ok) return;
    live.querySelector("[data-testid=claim-count]").textContent = result.data.label;
    const peak = Math.max(1, ...result.data.buckets.map((b) => b.count));
    live.querySelectorAll("tbody tr").forEach((row, i) => {
      const bucket = result.data.buckets[i];
      if (!bucket) return;
      row.querySelector("th").textContent = bucket.label;
      row.querySelector(".bar > span").style.width = `${(100 * bucket.count) / peak}%`;
      row.querySelector(".num").textContent = bucket.count;
    });
  }, 5000);
}

const kiosk = document.getElementById("kiosk");
if (kiosk) {
  const show = async () => {
    const response = await fetch(`/console/events/${kiosk.dataset.eventId}/kiosk.svg`,
                                  { credentials: "same-origin", headers: { "Accept-Language": LANG } });
    if (!response.ok) return setTimeout(show, 5000);
    document.getElementById("kiosk-qr").innerHTML = await response.text();
    document.getElementById("kiosk-code").textContent = response.headers.get("X-Kiosk-Code");
    const validFor = Number(response.headers.get("X-Valid-For") || 5);
    setTimeout(show, Math.max(1, validFor) * 1000 + 200);
  };
  show();
}

// ---------------------------------------------------------------------------------------------- perk pass
// The button makes the member's pass (a POST, never the page's GET). The QR code is valid for 60 s: a new one
// replaces it a few seconds before, as long as the page is open.
const passBox = document.getElementById("perk-pass");
if (passBox) {
  const passForm = document.getElementById("pass-form");
  const renew = async () => {
    const response = await fetch(`/perks/${passBox.dataset.perkId}/pass.svg`, {
      method: "POST", credentials: "same-origin", headers: { "X-Kyoso-Request": "1", "Accept-Language": LANG },
    });
    passBox.hidden = false;
    if (!response.ok) {
      let data = null;
      try { data = await response.json(); } catch (_) { /* not JSON */ }
      document.getElementById("pass-qr").hidden = true;
      document.getElementById("pass-code").textContent = "—";
      document.getElementById("pass-status").textContent = messageOf(data);
      return;
    }
    document.getElementById("pass-qr").innerHTML = await response.text();
    document.getElementById("pass-code").textContent = response.headers.get("X-Short-Code");
    if (passForm) passForm.hidden = true;
    schedule(Number(response.headers.get("X-Valid-For") || 60));
  };
  const schedule = (validFor) => setTimeout(renew, Math.max(1, validFor - 5) * 1000);
  if (passBox.dataset.validFor) schedule(Number(passBox.dataset.validFor));  // a pass the form post brought
  passForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = passForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await renew();
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------------- redeem at the counter
const redeemBox = document.getElementById("redeem");
if (redeemBox) {
  const result = document.getElementById("redeem-result");
  const input = document.getElementById("short-code");
  let busy = false;
  const redeem = async (body) => {
    if (busy) return;
    busy = true;
    const answer = await api("POST", "/api/redemptions", body);
    busy = false;
    result.hidden = false;
    result.classList.toggle("yes", answer.ok);
    result.classList.toggle("no", !answer.ok);
    result.querySelector(".verdict").textContent = answer.ok ? redeemBox.dataset.textYes : redeemBox.dataset.textNo;
    result.querySelector(".detail").textContent = answer.ok
      ? (LANG === "ja" ? answer.data.title_ja : answer.data.title_en)
      : messageOf(answer.data);
    input.value = "";
    result.scrollIntoView({ block: "nearest" });
  };
  const tokenOf = (text) => {
    const at = text.indexOf("#p=");
    return at >= 0 ? decodeURIComponent(text.slice(at + 3)) : text;
  };
  document.getElementById("redeem-form").addEventListener("submit", (event) => {
    event.preventDefault();
    redeem({ short_code: input.value });
  });
  if (location.hash.startsWith("#p=")) {  // the QR code opened this page (a phone's own camera app)
    const token = tokenOf(location.hash);
    history.replaceState(null, "", location.pathname);
    redeem({ token });
  }
  // Camera: the browser's BarcodeDetector where there is one, else jsQR (served from node_modules).
  const loadJsQR = () => new Promise((resolve, reject) => {
    if (window.jsQR) return resolve(window.jsQR);
    const script = document.createElement("script");
    script.src = "/vendor/jsqr.js";
    script.onload = () => resolve(window.jsQR);
    script.onerror = reject;
    document.head.appendChild(script);
  });
  document.getElementById("scan-button").addEventListener("click", async () => {
    const video = document.getElementById("scan-video");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (_) {
      result.hidden = false;
      result.querySelector(".verdict").textContent = "";
      result.querySelector(".detail").textContent = redeemBox.dataset.textCameraMissing;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const detector = "BarcodeDetector" in window ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    const decode = detector ? null : await loadJsQR();
    const canvas = document.createElement("canvas");
    const look = async () => {
      let text = null;
      if (detector) {
        const codes = await detector.detect(video).catch(() => []);
        text = codes.length ? codes[0].rawValue : null;
      } else if (video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const context = canvas.getContext("2d");
        context.drawImage(video, 0, 0);
        const found = decode(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
        text = found ? found.data : null;
      }
      if (text && text.includes("#p=")) {
        stream.getTracks().forEach((track) => track.stop());
        video.hidden = true;
        return redeem({ token: tokenOf(text) });
      }
      requestAnimationFrame(look);
    };
    look();
  });
}

// ---------------------------------------------------------------------------------------------- wallet link (optional)
const walletBox = document.getElementById("wallet-link");
if (walletBox) {
  const status = document.getElementById("wallet-status");
  const form = document.getElementById("wallet-export-form");
  if (!window.ethereum) {
    status.textContent = walletBox.dataset.textMissing;
    if (form) form.hidden = true;
  }
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
    const prepared = await api("GET", `/api/auth/siwe/message?address=${address}&purpose=wallet_export`);
    const signature = await window.ethereum.request({ method: "personal_sign", params: [prepared.data.message, address] });
    const result = await api("POST", "/api/me/wallet/export",
      { password: form.querySelector("[name=password]").value, message: prepared.data.message, signature });
    status.textContent = result.ok ? result.data.status : messageOf(result.data);
    while (result.ok) {
      await sleep(2000);
      const state = await api("GET", "/api/me/wallet/export");
      status.textContent = state.data.status;
      if (state.data.status === "done" || state.data.status === "failed") break;
    }
  });
}
