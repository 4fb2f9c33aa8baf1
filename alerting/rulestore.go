package alerting

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"outpost/alerting/rulefile"
)

// The rule groups managed over the API (PUT /api/v1/alerting/rules/{group})
// live one per file in <data>/rules/api/<group>.yml, each an ordinary
// rule file (groups: with one group), so the Manager loads them as it
// loads the configured files, `outpost check rules` checks them, and they
// can be copied into version control as they are.

// apiRulesDir is where the API's rule groups are stored under the data
// directory dir.
func apiRulesDir(dir string) string { return filepath.Join(dir, "rules", "api") }

// Errors of the rule store.
var (
	// ErrRuleGroupNotFound: no group of that name was stored over the API.
	ErrRuleGroupNotFound = errors.New("no such rule group")
	// ErrBadGroupName: a group name that cannot name a file.
	ErrBadGroupName = errors.New("bad rule group name")
)

// groupNameRE is what a group stored over the API may be called: its name
// is its file's name.
var groupNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// maxGroupBytes bounds a rule group's YAML.
const maxGroupBytes = 1 << 20

// RuleStore keeps the rule groups managed over the API, one file each in
// its directory. It holds no lock: each write is a rename, so a reader
// (the Manager's loader) sees the old file or the new one, and of two
// changes racing the later rename wins.
type RuleStore struct {
	dir string
}

// NewRuleStore returns the store of the data directory dataDir.
func NewRuleStore(dataDir string) *RuleStore { return &RuleStore{dir: apiRulesDir(dataDir)} }

// Glob is the pattern of the store's files, for the Manager's loader.
func (s *RuleStore) Glob() string { return filepath.Join(s.dir, "*.yml") }

// path is the file of group name.
func (s *RuleStore) path(name string) string { return filepath.Join(s.dir, name+".yml") }

// checkName refuses a group name that cannot be a file name.
func checkName(name string) error {
	if !groupNameRE.MatchString(name) {
		return fmt.Errorf("%w %q: want 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -", ErrBadGroupName, name)
	}
	return nil
}

// Names lists the stored groups, sorted.
func (s *RuleStore) Names() ([]string, error) {
	ps, err := filepath.Glob(s.Glob())
	if err != nil {
		return nil, fmt.Errorf("list rule groups: %w", err)
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".yml"))
	}
	slices.Sort(out)
	return out, nil
}

// Get returns the rule file of group name, or ErrRuleGroupNotFound.
func (s *RuleStore) Get(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("rule group %q: %w", name, ErrRuleGroupNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read rule group %q: %w", name, err)
	}
	return b, nil
}

// Put stores file (from ParseGroup) as group name, atomically: a
// temporary file, fsync, rename, fsync of the directory.
func (s *RuleStore) Put(name string, file []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("store rule group %q: %w", name, err)
	}
	// The temporary name does not end in .yml, so the loader never sees it.
	f, err := os.CreateTemp(s.dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("store rule group %q: %w", name, err)
	}
	_, err = f.Write(file)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.path(name))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("store rule group %q: %w", name, err)
	}
	return syncDir(s.dir)
}

// Delete removes group name, or answers ErrRuleGroupNotFound.
func (s *RuleStore) Delete(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := os.Remove(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rule group %q: %w", name, ErrRuleGroupNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete rule group %q: %w", name, err)
	}
	return syncDir(s.dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// bodyName names a request body in rule file errors.
const bodyName = "body"

// ParseGroup validates one rule group as the loader validates rule files
// and returns it with the rule file to store. body is either the group's
// mapping (name, interval, rules, ...) or a whole rule file holding
// exactly one group. want, when not "", is the name the group must have.
// A problem is a *rulefile.Error (several joined) naming the body's line,
// group and rule, or a plain error saying what is wrong with the shape.
func ParseGroup(body []byte, want string) (*rulefile.Group, []byte, error) {
	if len(body) > maxGroupBytes {
		return nil, nil, fmt.Errorf("rule group: %d bytes is over the limit of %d", len(body), maxGroupBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, errors.New("rule group: the body is empty: want one group's YAML (name, interval, rules)")
	}
	file, shift := body, 0
	if !isRuleFile(body) {
		file, shift = wrapGroup(body), 1
	}
	f, err := rulefile.Parse(bodyName, file)
	if err != nil {
		return nil, nil, unshift(err, shift)
	}
	if len(f.Groups) != 1 {
		return nil, nil, fmt.Errorf("rule group: want one group, got %d", len(f.Groups))
	}
	g := &f.Groups[0]
	if want != "" && g.Name != want {
		return nil, nil, fmt.Errorf("rule group: name %q in the body, %q in the URL", g.Name, want)
	}
	if err := checkName(g.Name); err != nil {
		return nil, nil, err
	}
	return g, file, nil
}

// isRuleFile reports whether body's top-level mapping has a groups key:
// a whole rule file rather than a group.
func isRuleFile(body []byte) bool {
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(body, &top); err != nil {
		return false
	}
	_, ok := top["groups"]
	return ok
}

// wrapGroup makes the rule file "groups:\n- <group>" of a group's
// mapping: every line indented by two, so the group's lines are the
// body's plus one.
func wrapGroup(body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(body)/8 + 16)
	b.WriteString("groups:\n")
	for i, line := range bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n")) {
		if i == 0 {
			b.WriteString("- ")
		} else if len(line) > 0 {
			b.WriteString("  ")
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// unshift moves the lines and columns of rule file errors back to the
// body's own (wrapGroup added shift lines and indented by two).
func unshift(err error, shift int) error {
	es := rulefile.Errors(err)
	if shift == 0 || len(es) == 0 {
		return err
	}
	out := make([]error, len(es))
	for i, e := range es {
		c := *e
		if c.Line > shift {
			c.Line -= shift
		}
		if c.Col > 2 { // every line was indented by two ("- " on the first)
			c.Col -= 2
		}
		out[i] = &c
	}
	return errors.Join(out...)
}
