package rulefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Parse decodes and validates one rule file, data read from path (path
// only names the file in errors and in File.Path). Every problem found is
// returned, each an *Error, joined with errors.Join; a file with any
// problem yields a nil *File. Several YAML documents in one file (vmalert
// reads them) add up their groups. An empty file has no groups.
func Parse(path string, data []byte) (*File, error) {
	d := &decoder{file: path, groupLines: make(map[string]int)}
	f := &File{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var root yaml.Node
		err := decodeNode(dec, &root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.errs = append(d.errs, yamlError(path, err))
			break
		}
		d.document(f, &root)
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, byPosition)
		return nil, errors.Join(d.errs...)
	}
	return f, nil
}

// byPosition orders *Errors by line and column, so a user reads a file's
// problems from its top down.
func byPosition(a, b error) int {
	ea, _ := a.(*Error)
	eb, _ := b.(*Error)
	if ea == nil || eb == nil {
		return 0
	}
	if ea.Line != eb.Line {
		return ea.Line - eb.Line
	}
	return ea.Col - eb.Col
}

// decodeNode decodes the next document, turning a panic of the YAML
// library into an error: a rule file must never bring outpost down.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: internal error: %v", r)
		}
	}()
	return dec.Decode(n)
}

// yamlLineRE finds the line in a YAML syntax error's text ("yaml: line 3:
// did not find expected key"): the library has no typed syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into an *Error with its line.
func yamlError(path string, err error) *Error {
	e := &Error{File: path, Msg: "invalid YAML: " + err.Error(), Err: err}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	return e
}

// Load reads and parses the rule file at path, as Parse does.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	return Parse(path, data)
}

// LoadGlobs loads every file the glob patterns match (filepath.Glob
// syntax), in sorted order, each file once. Each file is loaded on its
// own: a bad file adds its error to errs and is left out of files, and the
// others still load. A pattern matching nothing is not an error; a
// malformed pattern is.
func LoadGlobs(patterns []string) (files []*File, errs []error) {
	seen := make(map[string]bool)
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule file pattern %q: %w", p, err))
			continue
		}
		slices.Sort(matches)
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			f, err := Load(m)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			files = append(files, f)
		}
	}
	return files, errs
}

// document decodes one YAML document: a mapping whose only key is groups.
func (d *decoder) document(f *File, root *yaml.Node) {
	l := loc{file: d.file}
	if bad, msg := checkAliases(root); bad != nil {
		d.errorf(l, bad, "%s", msg)
		return
	}
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	var groups *yaml.Node
	for _, p := range d.pairs(l, root, "rule file") {
		if p.key.Value != "groups" {
			d.errorf(l, p.key, "unknown field %q", p.key.Value)
			continue
		}
		groups = p.val
	}
	if isNull(groups) {
		return
	}
	if groups.Kind != yaml.SequenceNode {
		d.errorf(l, groups, "groups: want a list, got %s", DescribeNode(groups))
		return
	}
	for _, gn := range groups.Content {
		d.groupN++
		g := d.group(resolve(gn), d.groupN)
		if line, dup := d.groupLines[g.Name]; dup && g.Name != "" {
			gl := loc{file: d.file, group: g.Name, groupN: d.groupN}
			d.errs = append(d.errs, gl.problemAt(g.Line, g.col,
				fmt.Sprintf("duplicate group name (first at line %d)", line), nil))
		} else {
			d.groupLines[g.Name] = g.Line
		}
		f.Groups = append(f.Groups, g.Group)
	}
}
