package collectd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// authRecheck is how often AuthFile looks at the file's modification time.
// collectd stats it on every packet; once a second keeps that promptness
// without a system call per datagram.
const authRecheck = time.Second

// AuthFile is collectd's AuthFile: one "user: password" per line. It is read
// as collectd's network plugin reads it (src/utils_fbhash.c):
//
//   - leading white space is skipped; empty lines and lines starting with
//     '#' are ignored, as are lines without a colon or without a password;
//   - the user is everything before the first colon, trailing blanks
//     included; the password is everything after it, leading white space
//     skipped, trailing white space kept (only \r and \n are cut);
//   - when a user appears twice, the first line wins.
//
// The file is read again when its modification time or size changes, so
// users can be added without a restart; if it cannot be read then, the
// users already known stay. AuthFile is safe for concurrent use.
type AuthFile struct {
	path string
	now  func() time.Time

	mu      sync.Mutex        // guards the fields below
	users   map[string]string // user -> password
	mtime   time.Time         // of the file last read
	size    int64             // of the file last read
	checked time.Time         // when the file was last stat'ed
}

// OpenAuthFile reads the auth file at path. It fails when the file cannot
// be read, as collectd refuses to start then.
func OpenAuthFile(path string) (*AuthFile, error) {
	a := &AuthFile{path: path, now: time.Now}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open auth file: %w", err)
	}
	if err := a.load(fi); err != nil {
		return nil, err
	}
	a.checked = a.now()
	return a, nil
}

// Password returns the password of user.
func (a *AuthFile) Password(user string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now := a.now(); now.Sub(a.checked) >= authRecheck {
		a.checked = now
		if fi, err := os.Stat(a.path); err == nil && (!fi.ModTime().Equal(a.mtime) || fi.Size() != a.size) {
			_ = a.load(fi) // on failure the users already known stay
		}
	}
	pw, ok := a.users[user]
	return pw, ok
}

// load reads the file; the caller holds mu (or owns a).
func (a *AuthFile) load(fi os.FileInfo) error {
	f, err := os.Open(a.path)
	if err != nil {
		return fmt.Errorf("open auth file: %w", err)
	}
	defer f.Close()
	users, err := ParseAuthFile(f)
	if err != nil {
		return fmt.Errorf("read auth file %q: %w", a.path, err)
	}
	a.users, a.mtime, a.size = users, fi.ModTime(), fi.Size()
	return nil
}

// ParseAuthFile reads collectd's AuthFile format (see AuthFile) and returns
// the passwords by user.
func ParseAuthFile(r io.Reader) (map[string]string, error) {
	users := make(map[string]string)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			parseAuthLine(users, line)
		}
		if err == io.EOF {
			return users, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func parseAuthLine(users map[string]string, line string) {
	line = strings.TrimRight(line, "\r\n")
	line = strings.TrimLeft(line, " \t\n\v\f\r")
	if line == "" || line[0] == '#' {
		return
	}
	user, pw, ok := strings.Cut(line, ":")
	if !ok {
		return
	}
	pw = strings.TrimLeft(pw, " \t\n\v\f\r")
	if pw == "" {
		return
	}
	if _, dup := users[user]; !dup {
		users[user] = pw
	}
}
