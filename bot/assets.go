package bot

import (
	_ "embed"
	"net/http"
	"strings"
	"time"
)

// InfoImagePath is where the service serves the default picture of
// request_user_info forms; Zalo's v3 page requires an image_url, and Zalo
// fetches it from the public address (PUBLIC_URL + InfoImagePath).
const InfoImagePath = "/zalo/info.png"

//go:embed assets/info.png
var infoImage []byte

// InfoImageURL returns the default form picture's public address under
// publicURL, or "" without one (forms are then asked as text).
func InfoImageURL(publicURL string) string {
	base := strings.TrimRight(strings.TrimSpace(publicURL), "/")
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return ""
	}
	return base + InfoImagePath
}

// ServeInfoImage serves the embedded default form picture.
func ServeInfoImage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "info.png", time.Time{}, strings.NewReader(string(infoImage)))
}
