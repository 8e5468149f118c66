// Ward's passkey ceremonies (WebAuthn Level 3) for the sign-in, sign-up and
// account pages. The only script those pages load; no inline script, no CDN.
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toText(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }
  // webauthn-rs sends base64url strings where the browser wants bytes.
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: toBytes(pk.user.id) });
    pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return pk;
  }
  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.allowCredentials = descriptors(pk.allowCredentials);
    return pk;
  }
  function registration(cred) {
    return {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type, extensions: {},
      response: {
        attestationObject: toText(cred.response.attestationObject),
        clientDataJSON: toText(cred.response.clientDataJSON)
      }
    };
  }
  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type, extensions: {},
      response: {
        authenticatorData: toText(r.authenticatorData),
        clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature),
        userHandle: r.userHandle ? toText(r.userHandle) : null
      }
    };
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) { throw new Error(data.message || "Something went wrong. Try again."); }
        return data;
      });
    });
  }
  function showError(message) {
    var el = document.getElementById("passkey-error");
    if (!el) { return; }
    el.textContent = message;
    el.hidden = false;
  }
  function cancelled(err) {
    return err && (err.name === "NotAllowedError" || err.name === "AbortError");
  }

  // Sign-in: a button (modal) and, where the browser offers it, autofill
  // (conditional mediation) on the username field.
  var context = document.getElementById("login-form") || document.getElementById("passkey-second");
  var button = document.getElementById("passkey-signin");
  var pending = null;
  function signIn(conditional) {
    var base = { interaction: context.dataset.interaction, csrf: context.dataset.csrf };
    return post("/login/passkey/start", base).then(function (started) {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var request = { publicKey: requestOptions(started.options), signal: pending.signal };
      if (conditional) { request.mediation = "conditional"; }
      return navigator.credentials.get(request).then(function (cred) {
        return post("/login/passkey/finish", Object.assign({}, base, {
          ceremony: started.ceremony, credential: assertion(cred)
        }));
      });
    }).then(function (done) { window.location.assign(done.redirect); });
  }
  if (context && button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      signIn(false).catch(function (err) {
        if (!cancelled(err)) { showError(err.message); }
      });
    });
    var field = document.getElementById("username");
    if (field && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        // Autofill is an offer, not a request: its failures are never shown.
        if (ok) {
          signIn(true).catch(function (err) { console.debug("passkey autofill:", err); });
        }
      });
    }
  }

  // Sign-up with a passkey only.
  var signup = document.getElementById("signup-form");
  if (signup) {
    signup.addEventListener("submit", function (event) {
      event.preventDefault();
      var base = { interaction: signup.dataset.interaction, csrf: signup.dataset.csrf };
      post("/signup/start", Object.assign({}, base, {
        username: signup.elements.username.value,
        display_name: signup.elements.display_name.value,
        email: signup.elements.email.value
      })).then(function (started) {
        return navigator.credentials.create({ publicKey: creationOptions(started.options) })
          .then(function (cred) {
            return post("/signup/finish", Object.assign({}, base, {
              ceremony: started.ceremony, credential: registration(cred)
            }));
          });
      }).then(function (done) { window.location.assign(done.redirect); })
        .catch(function (err) { showError(cancelled(err) ? "The passkey was not created." : err.message); });
    });
  }

  // Account page: add a passkey.
  var add = document.getElementById("add-passkey");
  if (add) {
    add.hidden = false;
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      var base = { csrf: add.dataset.csrf, name: add.elements.name.value };
      post("/account/passkeys/start", base).then(function (started) {
        return navigator.credentials.create({ publicKey: creationOptions(started.options) })
          .then(function (cred) {
            return post("/account/passkeys/finish", {
              csrf: add.dataset.csrf, interaction: "account",
              ceremony: started.ceremony, credential: registration(cred)
            });
          });
      }).then(function (done) {
        if (done.recovery_codes) {
          var list = document.getElementById("new-recovery-codes");
          var section = document.getElementById("new-recovery-section");
          done.recovery_codes.forEach(function (code) {
            var li = document.createElement("li");
            li.textContent = code;
            list.appendChild(li);
          });
          section.hidden = false;
          add.hidden = true;
          section.focus();
        } else {
          window.location.assign("/account?done=passkey");
        }
      }).catch(function (err) { showError(cancelled(err) ? "The passkey was not added." : err.message); });
    });
  }
})();
