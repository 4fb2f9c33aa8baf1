package pages

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// exprRef is a query of the file, checked once every variable is known.
type exprRef struct {
	node *yaml.Node
	path string
	expr string
}

// parseDashboard decodes and checks one dashboard file, data read from
// file (which names it in errors and gives its Name). A file with any
// problem yields no Dashboard: every problem is returned, in file order.
func parseDashboard(file string, data []byte) (*Dashboard, []*DashboardError) {
	d := &dashDecoder{file: file}
	if len(data) > maxDashboardBytes {
		d.errorf(nil, "", "the file is larger than %d bytes", maxDashboardBytes)
		return nil, d.errs
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	switch err := decodeYAML(dec, &root); {
	case errors.Is(err, io.EOF):
		d.errorf(nil, "", "the file is empty: a dashboard needs a title and rows")
		return nil, d.errs
	case err != nil:
		d.syntaxError(err)
		return nil, d.errs
	}
	var second yaml.Node
	if err := decodeYAML(dec, &second); err != nil && !errors.Is(err, io.EOF) {
		d.syntaxError(err)
	} else if err == nil && !(second.Kind == yaml.DocumentNode && len(second.Content) == 0) {
		d.errorf(&second, "", "a dashboard file holds one YAML document; a second starts here")
	}
	db := d.dashboard(&root, file)
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *DashboardError) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		if d.more > 0 {
			d.errs = append(d.errs, &DashboardError{File: file, Msg: fmt.Sprintf("and %d more problems", d.more)})
		}
		return nil, d.errs
	}
	return db, nil
}

// decodeYAML decodes the next document, turning a panic of the YAML
// library into an error: a dashboard file must never bring outpost down.
func decodeYAML(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: internal error: %v", r)
		}
	}()
	return dec.Decode(n)
}

// dashboardName is the name a file's dashboard has in URLs: its base name
// without the extension.
func dashboardName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// dashboard decodes the document root.
func (d *dashDecoder) dashboard(root *yaml.Node, file string) *Dashboard {
	db := &Dashboard{Name: dashboardName(file), File: file}
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	var exprs []exprRef
	var varNodes []*yaml.Node
	d.mapping(doc, "", []dashField{
		{"title", d.str(&db.Title)},
		{"description", d.str(&db.Description)},
		{"from", d.strCheck(&db.From, checkFrom)},
		{"refresh", d.strCheck(&db.Refresh, checkRefresh)},
		{"variables", func(n *yaml.Node, path string) {
			d.list(n, path, func(_ int, v *yaml.Node, path string) {
				db.Variables = append(db.Variables, d.variable(v, path))
				varNodes = append(varNodes, v)
			})
		}},
		{"rows", func(n *yaml.Node, path string) {
			d.list(n, path, func(_ int, v *yaml.Node, path string) { db.Rows = append(db.Rows, d.row(v, path, &exprs)) })
		}},
	})
	if d.stop {
		return nil
	}
	if strings.TrimSpace(db.Title) == "" {
		d.errorf(doc, "title", "required: the dashboard's title")
	}
	if len(db.Rows) == 0 {
		d.errorf(doc, "rows", "required: at least one row of panels")
	}
	if n := countPanels(db.Rows); n > maxDashboardPanels {
		d.errorf(doc, "rows", "%d panels: a dashboard has at most %d (split it in several files)", n, maxDashboardPanels)
	}
	samples := d.checkVariables(db.Variables, varNodes)
	for _, e := range exprs {
		d.checkExpr(e, samples)
	}
	return db
}

// Bounds of a dashboard's size, so that a page stays quick to draw.
const (
	maxDashboardPanels = 100
	maxPanelQueries    = 10
)

// countPanels counts the panels of rows.
func countPanels(rows []Row) int {
	n := 0
	for _, r := range rows {
		n += len(r.Panels)
	}
	return n
}

// strCheck decodes a string and reports check's complaint about it.
func (d *dashDecoder) strCheck(dst *string, check func(string) error) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		d.str(dst)(n, path)
		if *dst != "" {
			if err := check(*dst); err != nil {
				d.errorf(n, path, "%v", err)
			}
		}
	}
}

func checkFrom(s string) error {
	if !strings.HasPrefix(s, "now-") {
		return fmt.Errorf("%q is not now-DURATION, such as now-6h or now-7d", s)
	}
	_, err := parseDuration(s[len("now-"):])
	return err
}

func checkRefresh(s string) error {
	if d, err := time.ParseDuration(s); err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 30s or 1m", s)
	}
	return nil
}

func checkKind(s string) error {
	if s != panelLine && s != panelStat {
		return fmt.Errorf("%q is not a panel kind (want line or stat)", s)
	}
	return nil
}

func checkUnit(s string) error {
	if !slices.Contains(units, s) {
		return fmt.Errorf("%q is not a unit (want one of %s)", s, strings.Join(units[1:], ", "))
	}
	return nil
}

// colorRE is what a threshold's colour may be besides a palette name.
var colorRE = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

func checkColor(s string) error {
	if palette[s] == "" && !colorRE.MatchString(s) {
		return fmt.Errorf("%q is not a colour (want #rgb, #rrggbb or one of green, blue, orange, yellow, red, purple, gray)", s)
	}
	return nil
}

// legend decodes a legend, telling what to do about the common slip of
// an unquoted {{label}} (which YAML reads as a mapping).
func (d *dashDecoder) legend(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if r := d.visit(n); r != nil && r.Kind == yaml.MappingNode {
			d.errorf(n, path, "want a string, got a mapping: quote a template, as in legend: '{{host}}'")
			return
		}
		d.str(dst)(n, path)
	}
}

// row decodes one row of panels.
func (d *dashDecoder) row(n *yaml.Node, path string, exprs *[]exprRef) Row {
	var r Row
	d.mapping(n, path, []dashField{
		{"title", d.str(&r.Title)},
		{"panels", func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, pn *yaml.Node, path string) { r.Panels = append(r.Panels, d.panel(pn, path, exprs)) })
		}},
	})
	if len(r.Panels) == 0 && !d.stop {
		d.errorf(n, fieldPath(path, "panels"), "required: at least one panel")
	}
	return r
}

// panel decodes one panel; its queries join exprs to be checked.
func (d *dashDecoder) panel(n *yaml.Node, path string, exprs *[]exprRef) Panel {
	p := Panel{Kind: panelLine}
	var one PanelQuery
	var exprNode, queriesNode *yaml.Node
	d.mapping(n, path, []dashField{
		{"title", d.str(&p.Title)},
		{"kind", d.strCheck(&p.Kind, checkKind)},
		{"unit", d.strCheck(&p.Unit, checkUnit)},
		{"stack", d.boolean(&p.Stack)},
		{"min", d.number(&p.Min)},
		{"max", d.number(&p.Max)},
		{"expr", func(v *yaml.Node, path string) {
			exprNode = v
			d.str(&one.Expr)(v, path)
			*exprs = append(*exprs, exprRef{v, path, one.Expr})
		}},
		{"legend", d.legend(&one.Legend)},
		{"queries", func(v *yaml.Node, path string) {
			queriesNode = v
			d.list(v, path, func(_ int, qn *yaml.Node, path string) { p.Queries = append(p.Queries, d.query(qn, path, exprs)) })
		}},
		{"thresholds", func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, tn *yaml.Node, path string) { p.Thresholds = append(p.Thresholds, d.threshold(tn, path)) })
		}},
	})
	if d.stop {
		return p
	}
	switch {
	case exprNode != nil && queriesNode != nil:
		d.errorf(queriesNode, fieldPath(path, "queries"), "give expr or queries, not both")
	case exprNode != nil:
		p.Queries = []PanelQuery{one}
	case one.Legend != "":
		d.errorf(n, fieldPath(path, "legend"), "legend goes with expr; with queries, give each query its legend")
	case len(p.Queries) == 0:
		d.errorf(n, path, "a panel needs expr or queries")
	}
	if len(p.Queries) > maxPanelQueries {
		d.errorf(queriesNode, fieldPath(path, "queries"), "%d queries: a panel has at most %d", len(p.Queries), maxPanelQueries)
	}
	if p.Min != nil && p.Max != nil && *p.Min >= *p.Max {
		d.errorf(n, fieldPath(path, "min"), "min (%v) is not below max (%v)", *p.Min, *p.Max)
	}
	return p
}

// query decodes one entry of a panel's queries.
func (d *dashDecoder) query(n *yaml.Node, path string, exprs *[]exprRef) PanelQuery {
	var q PanelQuery
	seen := false
	d.mapping(n, path, []dashField{
		{"expr", func(v *yaml.Node, path string) {
			seen = true
			d.str(&q.Expr)(v, path)
			*exprs = append(*exprs, exprRef{v, path, q.Expr})
		}},
		{"legend", d.legend(&q.Legend)},
	})
	if !seen && !d.stop {
		d.errorf(n, fieldPath(path, "expr"), "required: the query")
	}
	return q
}

// threshold decodes one threshold line.
func (d *dashDecoder) threshold(n *yaml.Node, path string) Threshold {
	var t Threshold
	var v *float64
	d.mapping(n, path, []dashField{
		{"value", d.number(&v)},
		{"color", d.strCheck(&t.Color, checkColor)},
		{"label", d.str(&t.Label)},
	})
	switch {
	case d.stop:
	case v == nil:
		d.errorf(n, fieldPath(path, "value"), "required: the threshold's value")
	default:
		t.Value = *v
	}
	return t
}
