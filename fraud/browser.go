package fraud

import (
	_ "embed" // the browser collector script
	"net/http"
	"strings"
	"time"
)

//go:embed browser.js
var browserCollectorScript string

// BrowserCollectorScript returns the JavaScript that collects the browser
// values of WEB_APP_VIA_SERVER (screen, window size, UTC offset,
// navigator.userAgent and a device ID kept in a cookie and local storage) and
// stores them in cookies that ServerCollector.BrowserValues reads. It has no
// dependencies; include it in every page (see BrowserCollectorHandler).
func BrowserCollectorScript() string { return browserCollectorScript }

// BrowserCollectorHandler serves BrowserCollectorScript as JavaScript.
func BrowserCollectorHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "browser.js", time.Time{}, strings.NewReader(browserCollectorScript))
	})
}
