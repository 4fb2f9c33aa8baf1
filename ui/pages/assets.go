package pages

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// EChartsVersion is the version of the npm package echarts whose
// dist/echarts.min.js the Makefile fetches into assets/: the one
// go-echarts v2.6.7's options are written for.
const EChartsVersion = "5.4.3"

// echartsFile is the fetched script's name in assets/.
const echartsFile = "echarts.min.js"

// assetsPrefix is where the assets are served.
const assetsPrefix = "/ui/assets/"

// embedded holds outpost.js and outpost.css (committed) and echarts.min.js
// when the Makefile fetched it before the build.
//
//go:embed assets
var embedded embed.FS

// assets serves the embedded files with a strong ETag, so that a browser
// revalidates them cheaply, and knows whether echarts is there.
type assets struct {
	fs      fs.FS
	etags   map[string]string
	echarts bool

	mu      sync.Mutex
	gzipped map[string][]byte // compressed on first request, by name
}

func newAssets() (*assets, error) {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		return nil, err
	}
	a := &assets{fs: sub, etags: map[string]string{}, gzipped: map[string][]byte{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		if p == echartsFile {
			a.echarts = true
		}
		return nil
	})
	return a, err
}

// ServeHTTP answers GET /ui/assets/{name}.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, assetsPrefix)
	etag, ok := a.etags[name]
	if !ok {
		if name == echartsFile {
			http.Error(w, "echarts.min.js was not embedded in this binary: run `make assets` (it fetches echarts "+
				EChartsVersion+" from npm), then `make build`", http.StatusNotFound)
			return
		}
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(a.fs, name)
	if err != nil {
		http.Error(w, "read asset: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("ETag", etag)
	if r.URL.Query().Get("v") == strings.Trim(etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable") // the URL changes with the content
	} else {
		h.Set("Cache-Control", "no-cache") // revalidate: the ETag makes that cheap
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if len(b) > 1024 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if z := a.gzip(name, b); z != nil {
			h.Set("Content-Encoding", "gzip")
			b = z
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b) // a failed write means the client left
}

// gzip returns b compressed, computed once per asset (echarts: 1 MB to
// about 330 KB), or nil if compression failed.
func (a *assets) gzip(name string, b []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if z, ok := a.gzipped[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err == nil {
		_, err = zw.Write(b)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		a.gzipped[name] = nil
		return nil
	}
	a.gzipped[name] = buf.Bytes()
	return buf.Bytes()
}

// url returns the path of an embedded asset with its content hash as v,
// or the bare path when there is no such asset.
func (a *assets) url(name string) string {
	if etag, ok := a.etags[name]; ok {
		return assetsPrefix + name + "?v=" + strings.Trim(etag, `"`)
	}
	return assetsPrefix + name
}

// size returns the byte size of an embedded asset, for page weight reports.
func (a *assets) size(name string) int {
	b, err := fs.ReadFile(a.fs, name)
	if err != nil {
		return 0
	}
	return len(b)
}
