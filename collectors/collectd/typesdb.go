package collectd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SystemTypesDB is where Debian's collectd package installs collectd's
// types.db. When it exists, the listener loads it over the built-in table.
const SystemTypesDB = "/usr/share/collectd/types.db"

// DataSource is one data source of a type: its name (the metric name's
// suffix), its kind, and the bounds types.db declares (NaN for "U").
type DataSource struct {
	Name     string
	Type     DSType
	Min, Max float64
}

// DataSet is one type of types.db: the data sources of its value lists, in
// wire order.
type DataSet struct {
	Name    string
	Sources []DataSource
}

// TypesDB maps type names to data sets. It is built once and then only
// read, which is safe from any number of goroutines.
type TypesDB struct {
	sets map[string]*DataSet
}

// NewTypesDB returns an empty TypesDB.
func NewTypesDB() *TypesDB {
	return &TypesDB{sets: make(map[string]*DataSet)}
}

// DataSet returns the data set of type name.
func (db *TypesDB) DataSet(name string) (*DataSet, bool) {
	ds, ok := db.sets[name]
	return ds, ok
}

// Len returns the number of types.
func (db *TypesDB) Len() int { return len(db.sets) }

// Add defines a type, replacing any type of the same name.
func (db *TypesDB) Add(ds *DataSet) { db.sets[ds.Name] = ds }

// Merge adds every type of o to db; a type of o replaces db's type of the
// same name.
func (db *TypesDB) Merge(o *TypesDB) {
	for name, ds := range o.sets {
		db.sets[name] = ds
	}
}

// ParseTypesDB reads collectd's types.db format (types.db(5)): one type per
// line, "name ds[, ds ...]" where each ds is "dsname:TYPE:min:max", TYPE
// one of GAUGE, DERIVE, COUNTER, ABSOLUTE (any case) and "U" an open bound.
// Data sources are separated by white space, commas or both; lines whose
// first field starts with '#' and blank lines are skipped, and a '#' field
// ends a line. A later line replaces an earlier type of the same name, as
// collectd does. The first bad line is returned as a *ParseError.
func ParseTypesDB(r io.Reader) (*TypesDB, error) {
	db := NewTypesDB()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		ds, err := parseTypesLine(sc.Text(), line)
		if err != nil {
			return nil, err
		}
		if ds != nil {
			db.Add(ds)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read types.db: %w", err)
	}
	return db, nil
}

// typesField is one field of a types.db line and its 1-based column.
type typesField struct {
	s   string
	col int
}

// splitTypesLine splits at white space and commas, up to a '#' field.
func splitTypesLine(s string) []typesField {
	var out []typesField
	start := -1
	for i := 0; i <= len(s); i++ {
		sep := i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == '\r'
		switch {
		case !sep && start < 0:
			if s[i] == '#' {
				return out
			}
			start = i
		case sep && start >= 0:
			out = append(out, typesField{s[start:i], start + 1})
			start = -1
		}
	}
	return out
}

func parseTypesLine(text string, line int) (*DataSet, error) {
	fields := splitTypesLine(text)
	if len(fields) == 0 {
		return nil, nil
	}
	if len(fields) == 1 {
		return nil, &ParseError{Line: line, Col: fields[0].col,
			Msg: fmt.Sprintf("type %q has no data sources", fields[0].s)}
	}
	ds := &DataSet{Name: fields[0].s, Sources: make([]DataSource, 0, len(fields)-1)}
	for _, f := range fields[1:] {
		src, msg := parseDataSource(f.s)
		if msg != "" {
			return nil, &ParseError{Line: line, Col: f.col,
				Msg: fmt.Sprintf("type %q: data source %q: %s", ds.Name, f.s, msg)}
		}
		if slices.ContainsFunc(ds.Sources, func(o DataSource) bool { return o.Name == src.Name }) {
			return nil, &ParseError{Line: line, Col: f.col,
				Msg: fmt.Sprintf("type %q: data source %q is defined twice", ds.Name, src.Name)}
		}
		ds.Sources = append(ds.Sources, src)
	}
	return ds, nil
}

// parseDataSource reads "name:TYPE:min:max"; msg says what is wrong.
func parseDataSource(s string) (src DataSource, msg string) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 {
		return src, "want name:TYPE:min:max"
	}
	if parts[0] == "" {
		return src, "empty name"
	}
	t, ok := parseDSType(parts[1])
	if !ok {
		return src, fmt.Sprintf("type %q is not GAUGE, DERIVE, COUNTER or ABSOLUTE", parts[1])
	}
	lo, okLo := parseBound(parts[2])
	hi, okHi := parseBound(parts[3])
	if !okLo || !okHi {
		return src, "min and max must be numbers or U"
	}
	return DataSource{Name: parts[0], Type: t, Min: lo, Max: hi}, ""
}

func parseBound(s string) (float64, bool) {
	if s == "U" || s == "u" {
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// ReadTypesDB reads a types.db file, or every regular file of a directory
// (not its subdirectories, nor names starting with '.') in name order.
func ReadTypesDB(path string) (*TypesDB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read types.db: %w", err)
	}
	if !fi.IsDir() {
		return readTypesFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("read types.db directory: %w", err)
	}
	db := NewTypesDB()
	for _, e := range entries { // sorted by name
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		f, err := readTypesFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		db.Merge(f)
	}
	return db, nil
}

func readTypesFile(path string) (*TypesDB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read types.db: %w", err)
	}
	defer f.Close()
	db, err := ParseTypesDB(f)
	if pe := (*ParseError)(nil); errors.As(err, &pe) {
		pe.File = path
		return nil, pe
	}
	if err != nil {
		return nil, fmt.Errorf("read types.db %q: %w", path, err)
	}
	return db, nil
}

// LoadTypesDB builds the types the listener uses: the built-in table, then
// system (collectd's own types.db, skipped when "" or absent), then paths
// in order, each replacing the types of the same name before it. A system
// file that exists but cannot be read is reported in sysErr and skipped; an
// error in paths (the user's configuration) is returned in err.
func LoadTypesDB(system string, paths []string) (db *TypesDB, sysErr, err error) {
	db = BuiltinTypesDB()
	if system != "" {
		sys, err := ReadTypesDB(system)
		switch {
		case err == nil:
			db.Merge(sys)
		case !errors.Is(err, fs.ErrNotExist):
			sysErr = err
		}
	}
	for _, p := range paths {
		u, err := ReadTypesDB(p)
		if err != nil {
			return nil, sysErr, err
		}
		db.Merge(u)
	}
	return db, sysErr, nil
}
