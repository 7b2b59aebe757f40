package dashboard

import (
	"net/http"
	"net/url"
	"strings"
)

// loginData is the sign-in page's data.
type loginData struct {
	Next string
}

// loginPage shows the sign-in form, or sends a signed-in user on.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if u, err := h.sessions.user(r); err == nil && u != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", "", &view{Title: "Sign in", Data: loginData{Next: next}})
}

// login exchanges an API key for a session cookie. The form has no session
// yet, so no CSRF token: a cross-site post is refused by its
// Sec-Fetch-Site or Origin header instead, and the cookie is SameSite=Strict.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if crossSite(r) {
		h.render(w, r, http.StatusForbidden, "login", "", &view{Title: "Sign in", Error: "Sign in from this dashboard's own page.", Data: loginData{Next: next}})
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("key"))
	if secret == "" {
		h.render(w, r, http.StatusUnprocessableEntity, "login", "", &view{Title: "Sign in",
			Error: "Paste an API key (it starts with ck_). Create one with: creditkit keys create --name you --scope admin", Data: loginData{Next: next}})
		return
	}
	k, err := h.sessions.start(w, r, secret)
	if err != nil {
		h.log.Error("dashboard: sign-in lookup failed", "err", err)
		h.render(w, r, http.StatusServiceUnavailable, "login", "", &view{Title: "Sign in", Error: "Cannot check the key now; retry shortly.", Data: loginData{Next: next}})
		return
	}
	if k == nil {
		h.render(w, r, http.StatusUnauthorized, "login", "", &view{Title: "Sign in",
			Error: "This key is unknown or revoked. Check it with: creditkit keys list", Data: loginData{Next: next}})
		return
	}
	h.log.Info("dashboard sign-in", "key", k.ID, "scope", k.Scope, "request_id", requestID(w))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout clears the session cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, u *user) {
	h.sessions.end(w, r)
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", Path+"/login")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, Path+"/login", http.StatusSeeOther)
}

// crossSite reports whether a browser says the request comes from another
// site.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == "null"
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}
