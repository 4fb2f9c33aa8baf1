package tsdb

// Restore: a snapshot (or a backup of one) copied into an empty data
// directory, every file verified before the copy counts as done.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotEmpty means a restore's target directory already holds files.
var ErrNotEmpty = errors.New("data directory is not empty")

// RestoredFile is one file Restore copied.
type RestoredFile struct {
	Path   string // relative to the data directory
	Bytes  int64
	SHA256 string
}

// Restore copies the snapshot in src into dst, which must be missing or
// empty. It checks every bbolt file (it opens and its pages pass bbolt's
// consistency check) and the SHA-256 of each copy against its source, and,
// when want is not nil, against want (relative path -> hex digest, as a
// backup's manifest records it). On failure dst is left as it was found.
func Restore(src, dst string, want map[string]string) ([]RestoredFile, error) {
	if err := checkEmpty(dst); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	files, err := restoreFiles(src, dst, want)
	if err != nil {
		entries, _ := os.ReadDir(dst)
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(dst, e.Name()))
		}
		return nil, err
	}
	return files, nil
}

func restoreFiles(src, dst string, want map[string]string) ([]RestoredFile, error) {
	var files []RestoredFile
	seen := map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || rel == ManifestName {
			return nil
		}
		f, err := restoreOne(p, filepath.Join(dst, rel), rel)
		if err != nil {
			return err
		}
		if w, ok := want[filepath.ToSlash(rel)]; want != nil && (!ok || w != f.SHA256) {
			return fmt.Errorf("restore %s: checksum %s does not match the manifest's %q", rel, f.SHA256, w)
		}
		seen[filepath.ToSlash(rel)] = true
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for rel := range want {
		if !seen[rel] {
			return nil, fmt.Errorf("restore: %s is in the manifest but missing from %s", rel, src)
		}
	}
	if err := syncDir(dst); err != nil {
		return nil, err
	}
	return files, nil
}

// restoreOne copies one file, checks that copy and source hash alike, and
// that a bbolt file opens and passes its consistency check.
func restoreOne(src, dst, rel string) (RestoredFile, error) {
	if err := copyFile(src, dst); err != nil {
		return RestoredFile{}, fmt.Errorf("restore %s: %w", rel, err)
	}
	sumSrc, n, err := fileSHA256(src)
	if err != nil {
		return RestoredFile{}, fmt.Errorf("restore %s: %w", rel, err)
	}
	sumDst, _, err := fileSHA256(dst)
	if err != nil {
		return RestoredFile{}, fmt.Errorf("restore %s: %w", rel, err)
	}
	if sumSrc != sumDst {
		return RestoredFile{}, fmt.Errorf("restore %s: the copy's checksum %s differs from the source's %s", rel, sumDst, sumSrc)
	}
	if strings.HasSuffix(rel, ".db") {
		if err := CheckBolt(dst); err != nil {
			return RestoredFile{}, fmt.Errorf("restore %s: %w", rel, err)
		}
	}
	return RestoredFile{Path: filepath.ToSlash(rel), Bytes: n, SHA256: sumSrc}, nil
}

// ManifestName is the file a backup writes beside the snapshot's files:
// one "<sha256>  <path>" line per file, as sha256sum prints them.
const ManifestName = "MANIFEST.sha256"

// CheckBolt opens a bbolt file read-only and runs bbolt's page check.
func CheckBolt(path string) error {
	b, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("open bbolt file: %w", err)
	}
	defer b.Close()
	return b.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drained: Check's goroutine holds the tx
			if first == nil {
				first = fmt.Errorf("bbolt check: %w", err)
			}
		}
		return first
	})
}

// fileSHA256 returns a file's SHA-256 in hex and its size.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkEmpty refuses a directory that exists and holds anything.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read data directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: %s holds %d entries (%s, ...); restore only into an empty or missing directory",
			ErrNotEmpty, dir, len(entries), entries[0].Name())
	}
	return nil
}
